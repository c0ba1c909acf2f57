"""``layerlab`` with no command: open the main window and run until it closes."""

from __future__ import annotations

import os
import signal
import sys

from app.commands.command_error import CommandError


def has_display() -> bool:
    """Whether Qt can find a screen: an X or Wayland display on Linux, or a platform chosen explicitly."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if not sys.platform.startswith("linux"):
        return True  # Windows and macOS always have their own window system.
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run(args=None) -> int:
    # Without a display Qt aborts the process with a core dump; say what to do instead.
    if not has_display():
        raise CommandError(
            "no display found (neither DISPLAY nor WAYLAND_DISPLAY is set); run it on a desktop, "
            "or save a picture of the window with `layerlab screenshot OUT.png`"
        )
    from app.application import create_application
    from app.commands.engine_files import import_engine
    from app.main_window import MainWindow

    engine = import_engine()
    # Qt's event loop never returns to Python to run its Ctrl+C handler; let Ctrl+C end the app instead.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    qt_app = create_application()
    # The GUI thread's occasional batch (a decision boundary) must not set BLAS's thread count: OpenBLAS would
    # then ignore the count the training thread sets, and training ran at half speed (engine.parallel).
    engine.keep_blas_threads_on_this_thread()
    window = MainWindow()
    window.show()
    # A recovery file left behind means the last session ended without closing: offer its changes back.
    window.project.offer_recovery_at_start()
    window.show_guide_on_first_run()
    return qt_app.exec()
