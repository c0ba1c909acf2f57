"""Small pictures of examples for galleries: a (C, H, W) image in [0, 1] as a QPixmap of a given height.

    icon = QIcon(thumbnail(test_images[7]))              # 56 px high, as wide as its aspect asks
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPixmap

THUMBNAIL = 56


def thumbnail(image: np.ndarray, height: int = THUMBNAIL) -> QPixmap:
    """A (C, H, W) image in [0, 1] as a pixmap ``height`` high: in colour when it has three channels (a red circle
    taken for a green one must show red), else its first channel as grey (white ink on black, as MNIST)."""
    if image.shape[0] == 3:
        pixels = np.ascontiguousarray((np.clip(image, 0, 1) * 255).astype(np.uint8).transpose(1, 2, 0))
        rows, columns, _ = pixels.shape
        qimage = QImage(pixels.data, columns, rows, 3 * columns, QImage.Format.Format_RGB888).copy()
    else:
        gray = np.ascontiguousarray((np.clip(image[0], 0, 1) * 255).astype(np.uint8))
        rows, columns = gray.shape
        qimage = QImage(gray.data, columns, rows, columns, QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(qimage).scaled(max(1, round(columns * height / rows)), height)
