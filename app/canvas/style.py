"""Sizes and colours of the canvas items, in one place so nodes, ports, edges and exports agree.

The neutral colours (node body, text, borders, ports, edge labels) come from the palette's Base and Text
roles, so the canvas reads in a light or a dark theme alike; the accents (a layer group's colour, the
orange of a selection, the red of an error) stay the same hue in both, a shade lighter on a dark base.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from PySide6.QtGui import QColor, QGuiApplication, QPalette

import engine
from app.tones import TONES, is_dark

NODE_WIDTH = 200.0
NODE_HEIGHT = 48.0
NODE_RADIUS = 7.0
ACCENT_WIDTH = 6.0
PORT_RADIUS = 6.0
PADDING = 10.0

GROUP_COLORS = {
    "core": "#5c6bc0",
    "convolution": "#1e88e5",
    "pooling": "#00897b",
    "normalisation/regularisation": "#8e24aa",
    "activation": "#f4511e",
    "merge": "#43a047",
    "recurrent": "#d81b60",
}
UNKNOWN_GROUP_COLOR = "#757575"

SELECTED_BORDER = "#ff9800"
# Tooltips keep Qt's pale yellow in every theme, so their error text keeps one dark red; an invalid node's
# text takes the messages' error red for its base (app/tones.py).
ERROR_TEXT = TONES["error"][0]
ERROR_TEXT_ON_DARK = TONES["error"][1]
PORT_ACCEPT = "#43a047"
PORT_REFUSE = "#d32f2f"

# The export's page: white, with near-black text, whatever the theme on screen.
EXPORT_BASE = "#ffffff"
EXPORT_TEXT = "#212121"


def mix(color: QColor, other: QColor, amount: float) -> QColor:
    """``color`` moved ``amount`` (0..1) of the way to ``other``."""
    pairs = zip(color.getRgbF()[:3], other.getRgbF()[:3], strict=True)
    return QColor.fromRgbF(*(a + (b - a) * amount for a, b in pairs))


@dataclass(frozen=True)
class CanvasColors:
    """Every colour a canvas item paints with, worked out once per palette."""

    base: QColor
    node_fill: QColor
    node_border: QColor
    node_text: QColor
    node_detail_text: QColor
    selected: QColor
    error_fill: QColor
    error_border: QColor
    error_text: QColor
    edge: QColor
    edge_label: QColor
    port_fill: QColor

    @classmethod
    def for_base_and_text(cls, base: QColor, text: QColor) -> CanvasColors:
        base, text = QColor(base), QColor(text)
        if is_dark(base):
            # On a dark base the nodes are lifted a little, so they stand out from the grid behind them.
            return cls(base=base, node_fill=mix(base, text, 0.10), node_border=mix(text, base, 0.55),
                       node_text=text, node_detail_text=mix(text, base, 0.30), selected=QColor(SELECTED_BORDER),
                       error_fill=mix(base, QColor("#d32f2f"), 0.28), error_border=QColor("#ef5350"),
                       error_text=QColor(ERROR_TEXT_ON_DARK), edge=QColor("#90a4ae"), edge_label=QColor("#b0bec5"),
                       port_fill=mix(base, text, 0.22))
        return cls(base=base, node_fill=base, node_border=mix(text, base, 0.62), node_text=text,
                   node_detail_text=mix(text, base, 0.38), selected=QColor(SELECTED_BORDER),
                   error_fill=QColor("#fdecea"), error_border=QColor("#d32f2f"), error_text=QColor(ERROR_TEXT),
                   edge=QColor("#78909c"), edge_label=QColor("#546e7a"), port_fill=mix(base, text, 0.08))

    @classmethod
    def for_palette(cls, palette: QPalette) -> CanvasColors:
        return cls.for_base_and_text(palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text))

    @classmethod
    def for_export(cls) -> CanvasColors:
        return cls.for_base_and_text(QColor(EXPORT_BASE), QColor(EXPORT_TEXT))


@cache
def group_of(layer_type: str) -> str | None:
    return next((info.group for info in engine.layer_types() if info.type == layer_type), None)


def group_color(layer_type: str) -> QColor:
    return QColor(GROUP_COLORS.get(group_of(layer_type), UNKNOWN_GROUP_COLOR))


def colors_of(item) -> CanvasColors:
    """The colours ``item`` paints with: its scene's (which follow the theme), or the application palette's
    for an item not (yet) in a NetworkScene."""
    scene = item.scene()
    colors = getattr(scene, "colors", None)
    if isinstance(colors, CanvasColors):
        return colors
    return CanvasColors.for_palette(QGuiApplication.palette())
