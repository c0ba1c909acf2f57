"""Install LayerLab's desktop entry and icons on Linux, so it appears in the applications menu with its icon.

    python packaging/install_desktop_entry.py                        # for `layerlab` on PATH (pip install)
    python packaging/install_desktop_entry.py --exec dist/LayerLab/layerlab   # for the built app folder
    sudo python packaging/install_desktop_entry.py --prefix /usr/local        # for every user of the machine
    python packaging/install_desktop_entry.py --uninstall

Writes PREFIX/share/applications/layerlab.desktop and the icon in every size to
PREFIX/share/icons/hicolor/ (PREFIX defaults to ~/.local), as the freedesktop.org specifications ask.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGING = Path(__file__).resolve().parent
ICONS = PACKAGING.parent / "resources" / "icons"
DESKTOP_FILE = PACKAGING / "layerlab.desktop"
ICON_NAME = "layerlab"


def desktop_entry(executable: str | None) -> str:
    """layerlab.desktop, running ``executable`` (an absolute path) instead of `layerlab` when given."""
    text = DESKTOP_FILE.read_text(encoding="utf-8")
    if executable is None:
        return text
    # The desktop entry spec: an argument with spaces (or quotes, backslashes...) goes in double quotes.
    escaped = executable.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$")
    command = f'"{escaped}"' if any(c in executable for c in ' \t"\'\\`$') else executable
    lines = []
    for line in text.splitlines():
        if line.startswith("Exec="):
            line = f"Exec={command}"
        elif line.startswith("TryExec="):
            continue
        lines.append(line)
        if line.startswith("Exec="):
            lines.append(f"TryExec={executable}")  # the menu hides the entry if the app folder is removed
    return "\n".join(lines) + "\n"


def installed_files(prefix: Path) -> dict[Path, Path | None]:
    """Destination -> source file (None for the desktop entry, which is written, not copied)."""
    share = prefix / "share"
    files: dict[Path, Path | None] = {share / "applications" / "layerlab.desktop": None}
    for png in sorted(ICONS.glob("layerlab-*.png")):  # layerlab-48.png: the 48x48 icon
        size = png.stem.rpartition("-")[2]
        files[share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{ICON_NAME}.png"] = png
    files[share / "icons" / "hicolor" / "scalable" / "apps" / f"{ICON_NAME}.svg"] = ICONS / "layerlab.svg"
    return files


def refresh_caches(share: Path) -> None:
    """Tell the desktop about the new files where the tools exist; menus pick them up later anyway."""
    for command in (["update-desktop-database", str(share / "applications")],
                    ["gtk-update-icon-cache", "--quiet", "--ignore-theme-index", str(share / "icons" / "hicolor")]):
        if shutil.which(command[0]):
            subprocess.run(command, check=False, capture_output=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", type=Path, default=Path.home() / ".local",
                        help="install under PREFIX/share (default: ~/.local, for you alone)")
    parser.add_argument("--exec", dest="executable", metavar="PROGRAM",
                        help="the program the entry starts (e.g. dist/LayerLab/layerlab); default: layerlab on PATH")
    parser.add_argument("--uninstall", action="store_true", help="remove what an earlier run installed")
    args = parser.parse_args(argv)
    prefix = args.prefix.expanduser().absolute()
    files = installed_files(prefix)
    if args.uninstall:
        for destination in files:
            destination.unlink(missing_ok=True)
        print(f"removed the LayerLab desktop entry and icons from {prefix / 'share'}")
        return 0
    executable = None
    if args.executable:
        program = Path(args.executable).expanduser().absolute()
        if not program.is_file():
            print(f"install_desktop_entry: --exec {args.executable}: no such program", file=sys.stderr)
            return 1
        executable = str(program)
    try:
        for destination, source in files.items():
            destination.parent.mkdir(parents=True, exist_ok=True)
            if source is None:
                destination.write_text(desktop_entry(executable), encoding="utf-8")
            else:
                shutil.copyfile(source, destination)
    except OSError as error:
        print(f"install_desktop_entry: cannot write under {prefix}: {error.strerror or error}", file=sys.stderr)
        return 1
    refresh_caches(prefix / "share")
    print(f"installed {next(iter(files))} (runs {executable or 'layerlab'}) and its icons")
    return 0


if __name__ == "__main__":
    sys.exit(main())
