"""The main window's size: never larger than the screen it opens on.

    open_at_default_size(window)     # a first launch: 1280x800, or the screen's free area if smaller, centred
    fit_window_to_screen(window)     # after restoring a saved geometry: inside the screen the window is on now

Sizes are in logical pixels: at 150 % a 1600x1000 screen offers ~1067x667, and a 1280x800 window would hang
off its bottom edge with the status bar and the Train tab out of reach.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

DEFAULT_SIZE = QSize(1280, 800)
# Room for the window manager's title bar and borders, which the window's own geometry leaves out and which
# are unknown until the window is shown.
FRAME_ALLOWANCE = QSize(8, 40)


def available_area(window: QWidget) -> QRect:
    """The screen's free area (without panels and docks) where ``window`` is, else on the primary screen."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry()


def largest_client_size(area: QRect, window: QWidget) -> QSize:
    """The biggest client area whose frame fits ``area``: the frame as measured once shown, else an allowance."""
    frame = window.frameGeometry().size() - window.geometry().size() if window.isVisible() else FRAME_ALLOWANCE
    frame = QSize(max(frame.width(), 0), max(frame.height(), 0))
    return QSize(max(area.width() - frame.width(), 1), max(area.height() - frame.height(), 1))


def open_at_default_size(window: QWidget) -> None:
    area = available_area(window)
    size = DEFAULT_SIZE.boundedTo(largest_client_size(area, window))
    window.resize(size)
    window.move(area.x() + (area.width() - size.width()) // 2, area.y() + (area.height() - size.height()) // 2)


def fit_window_to_screen(window: QWidget) -> None:
    """Shrink ``window`` to its screen's free area, then move it wholly onto it (a geometry saved on a bigger
    or another screen). A maximised or full-screen window is the screen's to size."""
    if window.isMaximized() or window.isFullScreen():
        return
    area = available_area(window)
    size = window.size().boundedTo(largest_client_size(area, window))
    if size != window.size():
        window.resize(size)
    frame = window.frameGeometry()
    x = min(max(frame.x(), area.x()), area.right() + 1 - frame.width())
    y = min(max(frame.y(), area.y()), area.bottom() + 1 - frame.height())
    if (x, y) != (frame.x(), frame.y()):
        window.move(max(x, area.x()), max(y, area.y()))
