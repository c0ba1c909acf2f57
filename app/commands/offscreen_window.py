"""Opening the main window only to render it, with or without a display: what ``layerlab screenshot`` and
``layerlab --smoke-test`` share.

    qt_app, window = open_main_window()
    window.resize(1280, 800); window.show(); settle()
    picture = render(window)
    close_without_asking(window)

The window reads and writes scratch settings, never the person's: a render shows the first-launch layout
and leaves their saved layout, recent files and first-run state alone.
"""

from __future__ import annotations

import os
import sys
import time

# Long enough for docks, plots and fonts to lay out and paint after show().
SETTLE_MS = 300
# Qt's offscreen platform says this on every window; it is not a problem with the picture.
OFFSCREEN_NOISE = "This plugin does not support propagateSizeHints()"
RENDER_SCREEN = (7680, 4320)  # the largest --size a screenshot takes


def use_offscreen_without_display() -> None:
    """Render offscreen unless a display is there (e.g. under Xvfb) or a Qt platform was chosen."""
    if not (os.environ.get("QT_QPA_PLATFORM") or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def give_offscreen_a_large_screen() -> None:
    """Qt's offscreen platform pretends to have an 800x800 screen, and the window never opens larger than its
    screen: a render of 1280x800 (or up to --size's limit) needs a screen that big. Its platform options take
    a screen from a JSON file; one is written to a temporary folder, removed at exit."""
    if os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        return  # a display, or a platform (with its options) someone chose
    import atexit
    import json
    import tempfile

    folder = tempfile.TemporaryDirectory(prefix="layerlab-screen-")
    atexit.register(folder.cleanup)
    config = os.path.join(folder.name, "screen.json")
    with open(config, "w", encoding="utf-8") as handle:
        json.dump({"screens": [{"name": "render", "x": 0, "y": 0, "width": RENDER_SCREEN[0],
                                "height": RENDER_SCREEN[1], "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]},
                  handle)
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"


def open_main_window():
    """The QApplication and a new main window (not shown yet), on scratch settings."""
    from PySide6.QtCore import qInstallMessageHandler

    def print_qt_message(mode, context, message):
        if message != OFFSCREEN_NOISE:
            print(message, file=sys.stderr)

    qInstallMessageHandler(print_qt_message)
    from app.commands.engine_files import import_engine
    from app.preferences import use_scratch_settings

    import_engine()
    use_scratch_settings()
    from app.application import create_application
    from app.main_window import MainWindow

    give_offscreen_a_large_screen()
    qt_app = create_application()
    return qt_app, MainWindow()


def wait(qt_app, seconds: float, until=lambda: False) -> bool:
    """Handle events for up to ``seconds``, or until ``until()`` is true; whether it became true."""
    deadline = time.monotonic() + seconds
    while not until():
        if time.monotonic() >= deadline:
            return False
        qt_app.processEvents()
        time.sleep(0.005)
    return True


def settle(ms: int = SETTLE_MS) -> None:
    """Run an event loop a moment, so layouts, plots and paints catch up.

    A local loop, not ``qt_app.exec()``: ending that with ``quit()`` closes every window in Qt 6.
    """
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def render(window, size: tuple[int, int] | None = None):
    """The window as a QPixmap; at ``size`` when given (a high-DPI screen renders more pixels than that)."""
    from PySide6.QtCore import Qt

    pixmap = window.grab()
    if size is not None and (pixmap.width(), pixmap.height()) != size:
        pixmap = pixmap.scaled(*size, Qt.AspectRatioMode.IgnoreAspectRatio,
                               Qt.TransformationMode.SmoothTransformation)
    return pixmap


def png_bytes(pixmap) -> bytes:
    from PySide6.QtCore import QBuffer, QIODevice

    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not pixmap.save(buffer, "PNG"):
        return b""
    return bytes(buffer.data())


def close_without_asking(window) -> None:
    """Close the window, stopping any training run; nothing was edited by hand, so nothing asks to be saved."""
    window.editor.mark_saved()
    window.close()
