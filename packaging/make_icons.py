"""Render the app icon's PNG sizes, the Windows .ico and the macOS .icns from resources/icons/layerlab.svg.

    QT_QPA_PLATFORM=offscreen python packaging/make_icons.py [--check]

The SVG is the one source; the PNGs (16..512 px, for Linux desktops, which want one file per size, and
for Qt where no SVG plugin is at hand), layerlab.ico and layerlab.icns are committed next to it so a
build needs neither Qt's SVG renderer nor Pillow's writers. Run it again after editing the SVG;
``--check`` only says whether the committed files match the SVG (exit 1 when they do not).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SVG = ICONS / "layerlab.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)  # Windows never shows an .ico entry above 256
ICNS_SIZES = (16, 32, 64, 128, 256, 512)  # with the 1024 px base, every size and @2x variant macOS asks for
ICNS_BASE = 1024


def png_path(size: int) -> Path:
    return ICONS / f"layerlab-{size}.png"


def render_png(size: int) -> bytes:
    """The SVG drawn at ``size`` x ``size`` pixels on a transparent background, as PNG bytes."""
    from PySide6.QtCore import QBuffer, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: {SVG} is not an SVG Qt can read")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(buffer.data())


def icon_files() -> dict[Path, bytes]:
    """Every generated file and its content."""
    from PIL import Image

    pngs = {size: render_png(size) for size in PNG_SIZES}
    files = {png_path(size): data for size, data in pngs.items()}
    # Each size from its own rendering, not a downscale of the largest: small icons stay crisp.
    frames = {size: Image.open(io.BytesIO(data)) for size, data in pngs.items()}
    ico = io.BytesIO()
    frames[max(ICO_SIZES)].save(ico, "ICO", sizes=[(s, s) for s in ICO_SIZES],
                                append_images=[frames[s] for s in ICO_SIZES])
    files[ICONS / "layerlab.ico"] = ico.getvalue()
    icns = io.BytesIO()
    Image.open(io.BytesIO(render_png(ICNS_BASE))).save(icns, "ICNS", append_images=[frames[s] for s in ICNS_SIZES])
    files[ICONS / "layerlab.icns"] = icns.getvalue()
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare the committed files with the SVG")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])  # QImage text/painting needs one
    stale = []
    for path, data in icon_files().items():
        if args.check:
            if not path.is_file() or path.read_bytes() != data:
                stale.append(path.name)
        else:
            path.write_bytes(data)
            print(f"wrote {path} ({len(data):,} bytes)")
    del app
    if stale:
        print(f"make_icons: out of date with {SVG.name}: {', '.join(stale)}; run packaging/make_icons.py",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
