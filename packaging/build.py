"""Build the one-folder LayerLab application for this platform with PyInstaller, then smoke-test it.

    pip install -e '.[package]'           # PyInstaller
    python packaging/build.py             # -> dist/LayerLab/ (Linux: dist/LayerLab/layerlab)
    python packaging/build.py --no-smoke  # build only

Work files go to build/pyinstaller/, the app to dist/ (both git-ignored); an earlier build there is
replaced. After building it runs the app's ``--smoke-test`` from outside the repository, offscreen, so
the check proves the folder works on its own (resources, bundled model and MNIST included), and prints
the build time, the folder's size and the smoke result. Exits non-zero when either step fails.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

PACKAGING = Path(__file__).resolve().parent
ROOT = PACKAGING.parent
SPEC = PACKAGING / "layerlab.spec"
SMOKE_TIMEOUT_S = 300


def load_bundle():
    """packaging/layerlab_bundle.py, by path (``packaging`` is a PyPI library's name: never import ours as it)."""
    loader = spec_from_file_location("layerlab_bundle", PACKAGING / "layerlab_bundle.py")
    module = module_from_spec(loader)
    loader.loader.exec_module(module)
    return module


def folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())


def build(dist: Path, work: Path) -> float:
    """Run PyInstaller on the spec; the seconds it took."""
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise SystemExit("build: PyInstaller is not installed; run: pip install -e '.[package]'") from None
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
               "--distpath", str(dist), "--workpath", str(work), str(SPEC)]
    print("build: " + " ".join(command), flush=True)
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit(f"build: PyInstaller failed (exit code {result.returncode})")
    return time.monotonic() - started


def smoke_test(executable: Path, picture: Path | None) -> subprocess.CompletedProcess:
    """Run the built app's --smoke-test offscreen, from an empty folder, with no trace of the checkout."""
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    with tempfile.TemporaryDirectory(prefix="layerlab-smoke-") as folder:
        # An empty data folder: MNIST must come from the app itself, not from an earlier download.
        env["LAYERLAB_DATA_DIR"] = str(Path(folder) / "data")
        command = [str(executable), "--smoke-test"] + ([str(picture)] if picture else [])
        return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=SMOKE_TIMEOUT_S)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="where the app folder goes (default: dist/)")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller",
                        help="PyInstaller's work folder (default: build/pyinstaller/)")
    parser.add_argument("--no-smoke", action="store_true", help="build only; skip the smoke test")
    args = parser.parse_args(argv)
    bundle = load_bundle()
    dist, work = args.dist.absolute(), args.work.absolute()

    seconds = build(dist, work)
    executable = bundle.executable_path(dist, sys.platform)
    if not executable.is_file():
        print(f"build: PyInstaller finished but {executable} is missing", file=sys.stderr)
        return 1
    app_folder = executable.parent if not bundle.target_for(sys.platform).app_bundle else dist / "LayerLab.app"
    print(f"build: built {app_folder} in {seconds:.0f} s; {folder_size(app_folder) / 2**20:.0f} MiB")
    if args.no_smoke:
        return 0
    picture = work / "smoke-test.png"
    result = smoke_test(executable, picture)
    print(result.stdout, end="")
    print(result.stderr, end="", file=sys.stderr)
    if result.returncode != 0:
        print(f"build: the smoke test of {executable} FAILED (exit code {result.returncode})", file=sys.stderr)
        return 1
    print(f"build: smoke test passed; its render is {picture}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
