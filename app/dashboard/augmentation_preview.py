"""What augmentation does to a data set, in pictures: a few training images, each beside random draws of it.

    preview = AugmentationPreview()
    preview.show_message("Loading the examples…")         # or why there is nothing to show
    preview.show_examples(originals, augmented)           # (N, C, H, W) and (N, K, C, H, W), pixels in [0, 1]
    preview.originals, preview.augmented                  # what is shown now (None while a message shows)

    sample = load_preview_sample("mnist")                 # on a background thread: a PreviewSample

One row per image: the image itself, a gap, then its draws. One channel is drawn in grey, three in colour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

import engine

SAMPLE_SIZE = 4  # training images shown
CELL = 40  # logical pixels per image: a 28x28 digit a little larger than life, five to a row in a 340 px form
GAP = 3
ORIGINAL_GAP = 10  # between an image and its draws
NEEDS_DOWNLOAD = "Preview after the data set is downloaded (Start downloads it)."


@dataclass(frozen=True)
class PreviewSample:
    key: str
    images: np.ndarray | None  # (N, C, H, W) float32 in [0, 1]; None when ``message`` says why not
    message: str = ""


def load_preview_sample(key: str, count: int = SAMPLE_SIZE) -> PreviewSample:
    """A few training images of the data set ``key`` (one of each of the first classes met), never downloading.

    Slow the first time (the set is read and decoded; ``engine.datasets.load`` keeps it for later): call it
    off the GUI thread.
    """
    status = next((status for status in engine.datasets.list_datasets() if status.name == key), None)
    if status is not None and not status.available_offline:
        return PreviewSample(key, None, NEEDS_DOWNLOAD)
    dataset = engine.datasets.load(key, download=False)
    labels = np.asarray(dataset.train_labels[:2000])
    # Different classes where the first images allow it: four 1s say less about the settings than 5, 0, 4, 1.
    _, first_of_class = np.unique(labels, return_index=True)
    chosen = sorted(first_of_class)[:count]
    if len(chosen) < count:
        chosen = sorted(set(chosen) | set(range(min(count, len(labels)))))[:count]
    images = np.asarray(dataset.train_images[np.asarray(chosen, dtype=np.int64)], dtype=np.float32) / 255.0
    return PreviewSample(key, images)


def to_qimage(image: np.ndarray) -> QImage:
    """(C, H, W) pixels in [0, 1], C 1 or 3 (others: the first channel), as a QImage that owns its pixels."""
    pixels = np.clip(np.nan_to_num(image), 0.0, 1.0)
    pixels = np.round(pixels * 255).astype(np.uint8)
    if pixels.shape[0] == 3:
        rgb = np.ascontiguousarray(pixels.transpose(1, 2, 0))
        height, width = rgb.shape[:2]
        return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
    grey = np.ascontiguousarray(pixels[0])
    height, width = grey.shape
    return QImage(grey.data, width, height, width, QImage.Format.Format_Grayscale8).copy()


class _Tiles(QWidget):
    """Paints the rows of images; sized to hold them at CELL px each."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.rows: list[list[QImage]] = []
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def set_rows(self, rows: list[list[QImage]]) -> None:
        self.rows = rows
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        columns = max((len(row) for row in self.rows), default=0)
        if not columns:
            return QSize(0, 0)
        width = columns * CELL + (columns - 2) * GAP + ORIGINAL_GAP if columns > 1 else CELL
        return QSize(width, len(self.rows) * (CELL + GAP) - GAP)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        frame = self.palette().color(QPalette.ColorRole.Mid)
        for row_index, row in enumerate(self.rows):
            top = row_index * (CELL + GAP)
            left = 0
            for column, image in enumerate(row):
                target = QRect(left, top, CELL, CELL)
                painter.drawImage(target, image)  # scaled without smoothing: the pixels stay pixels
                painter.setPen(frame)
                painter.drawRect(target.adjusted(0, 0, -1, -1))
                left += CELL + (ORIGINAL_GAP if column == 0 else GAP)
        painter.end()


class AugmentationPreview(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.originals: np.ndarray | None = None
        self.augmented: np.ndarray | None = None
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.tiles = _Tiles()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.message)
        layout.addWidget(self.tiles, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        # The pictures' room is kept while a message shows: the group does not grow when the sample arrives,
        # so the scroll that brought it into sight still shows all of it.
        self.setMinimumHeight(SAMPLE_SIZE * (CELL + GAP) - GAP)
        self.show_message("")

    def show_message(self, text: str) -> None:
        self.originals = self.augmented = None
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self.tiles.set_rows([])
        self.tiles.hide()

    def show_examples(self, originals: np.ndarray, augmented: np.ndarray) -> None:
        self.originals, self.augmented = originals, augmented
        rows = [[to_qimage(original), *(to_qimage(draw) for draw in draws)]
                for original, draws in zip(originals, augmented, strict=True)]
        self.setToolTip(f"Each row: a training image, then {augmented.shape[1]} random draws of it")
        self.message.hide()
        self.tiles.set_rows(rows)
        self.tiles.show()
