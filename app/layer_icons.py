"""Palette icons: a rounded square in the layer's group colour (the colour of its nodes' accent bar)
with a short mark, drawn once per type; no image files to ship or keep in step with the engine.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap

from app.canvas.style import group_color

MARKS = {
    "Input": "IN",
    "Dense": "FC",
    "Flatten": "FL",
    "Reshape": "RS",
    "Conv2D": "CV",
    "Conv2DTranspose": "CT",  # a transposed convolution: the decoder's learned upsampling
    "UpSampling2D": "UP",
    "MaxPooling2D": "MP",
    "AveragePooling2D": "AP",
    "BatchNormalization": "BN",
    "Dropout": "DO",
    "Activation": "σ",
    "Add": "+",
    "Concatenate": "‖",
    "SimpleRNN": "RN",
    "LSTM": "LS",
    "GRU": "GR",
}
SIZE = 32


@cache
def layer_icon(layer_type: str) -> QIcon:
    pixmap = QPixmap(SIZE, SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(group_color(layer_type))
    painter.drawRoundedRect(QRectF(1, 1, SIZE - 2, SIZE - 2), 6, 6)
    font = QFont()
    font.setBold(True)
    font.setPixelSize(13 if len(MARKS.get(layer_type, "?")) > 1 else 18)
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(QRectF(0, 0, SIZE, SIZE), Qt.AlignmentFlag.AlignCenter, MARKS.get(layer_type, layer_type[:2]))
    painter.end()
    return QIcon(pixmap)
