"""Small pictures of examples for galleries: a (C, H, W) image in [0, 1] as a QPixmap of a given height.

    icon = QIcon(thumbnail(test_images[7]))              # 56 px high, as wide as its aspect asks
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QPixmap

from app.dashboard.augmentation_preview import to_qimage

THUMBNAIL = 56


def thumbnail(image: np.ndarray, height: int = THUMBNAIL) -> QPixmap:
    """A (C, H, W) image in [0, 1] as a pixmap ``height`` high: in colour when it has three channels (a red circle
    taken for a green one must show red), else its first channel as grey (white ink on black, as MNIST)."""
    qimage = to_qimage(image)
    return QPixmap.fromImage(qimage).scaled(max(1, round(qimage.width() * height / qimage.height())), height)
