"""``layerlab screenshot OUT.png``: render the main window (no display needed) and save it as a PNG.

The README's pictures and every later issue's "look at it" step come from here.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from app.commands.command_error import CommandError

DEFAULT_SIZE = "1280x800"
MIN_SIZE = (640, 480)
MAX_SIZE = (7680, 4320)
# Long enough for docks, plots and fonts to lay out and paint after show().
SETTLE_MS = 300
# Qt's offscreen platform says this on every window; it is not a problem with the picture.
OFFSCREEN_NOISE = "This plugin does not support propagateSizeHints()"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "screenshot",
        help="save a PNG of the main window (works without a display)",
        description="Open the main window offscreen, let it render, and save it as a PNG.",
    )
    parser.add_argument("output", metavar="OUT.png", help="where to write the PNG")
    parser.add_argument("--project", metavar="FILE",
                        help="a project (.layerlab) or network spec (layerlab-network JSON) to show; "
                             "default: the seed CNN a new window opens on")
    parser.add_argument("--select", metavar="NODE", help="select this node, so the inspector shows its settings")
    parser.add_argument(
        "--size", metavar="WxH", default=DEFAULT_SIZE, help=f"window size in pixels (default {DEFAULT_SIZE})"
    )
    parser.set_defaults(run=run)


def parse_size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not match:
        raise CommandError(f"--size must be WIDTHxHEIGHT in pixels, e.g. {DEFAULT_SIZE} (received {text!r})", 2)
    width, height = int(match[1]), int(match[2])
    if not (MIN_SIZE[0] <= width <= MAX_SIZE[0] and MIN_SIZE[1] <= height <= MAX_SIZE[1]):
        raise CommandError(
            f"--size must be between {MIN_SIZE[0]}x{MIN_SIZE[1]} and {MAX_SIZE[0]}x{MAX_SIZE[1]} "
            f"(received {width}x{height})",
            2,
        )
    return width, height


def check_writable(output: str) -> Path:
    path = Path(output).expanduser().absolute()
    if path.is_dir():
        raise CommandError(f"cannot write {output}: it is a folder")
    if not path.parent.is_dir():
        raise CommandError(f"cannot write {output}: folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):
        raise CommandError(f"cannot write {output}: no permission to write in {path.parent}")
    return path


def use_offscreen_without_display() -> None:
    """Render offscreen unless a display is there (e.g. under Xvfb) or a Qt platform was chosen."""
    if not (os.environ.get("QT_QPA_PLATFORM") or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def run(args) -> int:
    # Check everything that can be checked before Qt starts, so mistakes fail fast and cleanly.
    width, height = parse_size(args.size)
    output = check_writable(args.output)
    project = None
    if args.project:
        from app.document.project_file import ProjectFileError, read_project

        try:
            project = read_project(args.project)
        except ProjectFileError as error:
            raise CommandError(str(error)) from None

    use_offscreen_without_display()
    from PySide6.QtCore import QBuffer, QIODevice, Qt, QTimer, qInstallMessageHandler

    def print_qt_message(mode, context, message):
        if message != OFFSCREEN_NOISE:
            print(message, file=sys.stderr)

    qInstallMessageHandler(print_qt_message)

    from app.application import create_application
    from app.commands.engine_files import import_engine

    engine = import_engine()
    from app.main_window import MainWindow

    qt_app = create_application()
    window = MainWindow()
    if project is not None:
        window.project.show_project(project)
    if args.select:
        if args.select not in window.scene.node_items:
            known = ", ".join(window.editor.document.node_ids())
            raise CommandError(f"--select: there is no node {args.select!r}; expected one of: {known}", 2)
        window.scene.select_nodes([args.select])
    window.resize(width, height)
    window.show()
    QTimer.singleShot(SETTLE_MS, qt_app.quit)
    qt_app.exec()
    actual = window.size()
    pixmap = window.grab()
    window.editor.mark_saved()  # nothing was edited; closing must not ask
    window.close()

    if (actual.width(), actual.height()) != (width, height):
        # The window manager or the window's minimum size overruled us; say so rather than stretch.
        raise CommandError(f"the window came out {actual.width()}x{actual.height()}, not {width}x{height}")
    if (pixmap.width(), pixmap.height()) != (width, height):
        # A high-DPI screen has more pixels than the window's size; scale back to the size asked for.
        pixmap = pixmap.scaled(
            width, height, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
    # Encoded in memory, then written through engine.atomic_write: an existing picture is never half-replaced.
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not pixmap.save(buffer, "PNG"):
        raise CommandError(f"cannot write {args.output}: Qt could not encode the PNG")
    data = bytes(buffer.data())
    try:
        engine.atomic_write(output, lambda handle: handle.write(data))
    except OSError as error:
        raise CommandError(f"cannot write {args.output}: {error.strerror or error}") from None
    print(f"saved {output} ({width}x{height})")
    return 0
