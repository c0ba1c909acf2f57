"""Sizes and colours of the canvas items, in one place so nodes, ports, edges and exports agree."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QColor

import engine

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
}
UNKNOWN_GROUP_COLOR = "#757575"

NODE_FILL = "#ffffff"
NODE_BORDER = "#9e9e9e"
NODE_TEXT = "#212121"
NODE_DETAIL_TEXT = "#616161"
SELECTED_BORDER = "#ff9800"
ERROR_BORDER = "#d32f2f"
ERROR_FILL = "#fdecea"
ERROR_TEXT = "#b71c1c"
EDGE_COLOR = "#78909c"
EDGE_LABEL_COLOR = "#546e7a"
PORT_FILL = "#eceff1"
PORT_ACCEPT = "#43a047"
PORT_REFUSE = "#d32f2f"


@cache
def group_of(layer_type: str) -> str | None:
    return next((info.group for info in engine.layer_types() if info.type == layer_type), None)


def group_color(layer_type: str) -> QColor:
    return QColor(GROUP_COLORS.get(group_of(layer_type), UNKNOWN_GROUP_COLOR))
