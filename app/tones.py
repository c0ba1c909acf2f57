"""Message colours that stay readable in the light and the dark theme: errors red, warnings amber.

    follow_tone(label, "error")            # the label's text red now, and again after each theme change
    repaint_tones()                        # app.theme, once the palette has changed
    tone_color("warning").name()           # for rich text built at the moment (e.g. the status bar's count)

A fixed dark red (#b71c1c) on the dark theme's grey has a contrast of about 2:1; each tone has a colour for
a light and for a dark window, chosen from the palette the application has now.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

# tone: (on a light window, on a dark window); the canvas draws an invalid node's text in the error reds too.
# #b71c1c on the dark theme's grey has a contrast of ~2:1, hence a light red there.
TONES = {"error": ("#b71c1c", "#ff8a80"), "warning": ("#b35c00", "#ffb74d")}


def is_dark(color: QColor) -> bool:
    return color.lightnessF() < 0.5


def tone_color(tone: str, palette: QPalette | None = None) -> QColor:
    palette = palette if palette is not None else QApplication.palette()
    light, dark = TONES[tone]
    return QColor(dark if is_dark(palette.color(QPalette.ColorRole.Window)) else light)


def _paint(widget: QWidget) -> None:
    sheet = f"color: {tone_color(widget.property('tone')).name()};"
    if widget.styleSheet() != sheet:
        widget.setStyleSheet(sheet)


def follow_tone(widget: QWidget, tone: str) -> None:
    """Show ``widget``'s text in ``tone``, now and after every theme change (``repaint_tones``)."""
    widget.setProperty("tone", tone)
    _paint(widget)


def repaint_tones() -> None:
    """After the application's palette changed (app.theme calls it): every widget following a tone, again.
    (Child widgets with a style sheet of their own are not sent the application's palette change.)"""
    for widget in QApplication.allWidgets():
        if widget.property("tone") in TONES:
            _paint(widget)
