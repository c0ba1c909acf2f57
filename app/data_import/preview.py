"""What an import will store, shown before it is stored: examples per class, counts, size, notes, skipped files.

    preview = ImportPreview()
    preview.show_dataset(dataset)        # an engine.datasets.Dataset fresh from engine.datasets.import_path
    preview.clear("Choose a folder or a file to import.")

The examples are QLabel pixmaps (nearest-neighbour scaled, so a 28x28 digit stays crisp), one row per
class with its name and counts; colour sets show in colour. Only the first ``MAX_CLASS_ROWS`` classes get
a row: a set may have up to 10,000 classes, and a widget per example would take the GUI thread seconds.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QListWidget,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

EXAMPLES_PER_CLASS = 8
MAX_CLASS_ROWS = 60
CELL_PIXELS = 40  # an example's side on screen (28x28 digits at ~1.4x, 32x32 colour at 1.25x)


def examples_per_class(dataset, per_class: int = EXAMPLES_PER_CLASS) -> list[np.ndarray]:
    """For each class, up to ``per_class`` of its training images (then test images), in file order."""
    chosen = []
    for label in range(dataset.info.num_classes):
        train = np.flatnonzero(dataset.train_labels == label)[:per_class]
        images = [dataset.train_images[i] for i in train]
        if len(images) < per_class:
            test = np.flatnonzero(dataset.test_labels == label)[:per_class - len(images)]
            images += [dataset.test_images[i] for i in test]
        chosen.append(np.stack(images) if images else np.zeros((0, *dataset.info.shape), np.uint8))
    return chosen


def image_pixmap(image: np.ndarray, side: int = CELL_PIXELS) -> QPixmap:
    """One uint8 (C, H, W) example (C = 1 grey, 3 colour) as a pixmap scaled to fit ``side`` x ``side``."""
    channels, height, width = image.shape
    if channels == 3:
        pixels = np.ascontiguousarray(np.transpose(image, (1, 2, 0)))
        picture = QImage(pixels.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    else:
        pixels = np.ascontiguousarray(image[0])
        picture = QImage(pixels.data, width, height, width, QImage.Format.Format_Grayscale8)
    picture = picture.copy()  # own the pixels: ``pixels`` is freed when this function returns
    return QPixmap.fromImage(picture).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                             Qt.TransformationMode.FastTransformation)


def shape_text(shape) -> str:
    channels, height, width = shape
    kind = "colour (RGB)" if channels == 3 else "grey" if channels == 1 else f"{channels} channels"
    return f"{height}x{width} pixels, {kind}"


class ImportPreview(QWidget):
    """The examples grid on the left; the facts (size, counts, notes) and the skipped files on the right."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.examples_heading = QLabel("Examples")
        self.examples_heading.setStyleSheet("font-weight: bold")
        self.grid_holder = QWidget()
        self.grid = QGridLayout(self.grid_holder)
        self.grid.setHorizontalSpacing(4)
        self.grid.setVerticalSpacing(4)
        self.grid.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.examples = QScrollArea()
        self.examples.setWidgetResizable(True)
        self.examples.setWidget(self.grid_holder)
        self.examples.setFrameShape(QFrame.Shape.StyledPanel)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.examples_heading)
        left_layout.addWidget(self.examples, 1)

        self.summary = QLabel()  # size, counts, notes
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.skipped_heading = QLabel("Skipped files (0)")
        self.skipped_heading.setStyleSheet("font-weight: bold")
        self.skipped = QListWidget()  # every skipped file with its reason, however many
        self.skipped.setWordWrap(True)
        self.skipped.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.summary)
        right_layout.addWidget(self.skipped_heading)
        right_layout.addWidget(self.skipped, 1)

        self.splitter = splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)  # halves until a grid is shown (then show_dataset sizes it)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.class_rows: list[QLabel] = []  # each class's name and counts, in class order
        self.clear("Choose a folder or a file to import.")

    def clear(self, message: str = "") -> None:
        self._clear_grid()
        total = sum(self.splitter.sizes())
        if total:
            self.splitter.setSizes([total // 2, total - total // 2])
        self.examples_heading.setText("Examples")
        self.summary.setText(message)
        self.skipped.clear()
        self.skipped_heading.setText("Skipped files (0)")

    def _clear_grid(self) -> None:
        while self.grid.count():
            widget = self.grid.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self.class_rows = []

    def show_dataset(self, dataset) -> None:
        info = dataset.info
        self._clear_grid()
        train_counts = np.bincount(dataset.train_labels, minlength=info.num_classes)
        test_counts = np.bincount(dataset.test_labels, minlength=info.num_classes)
        examples = examples_per_class(dataset)
        shown = min(info.num_classes, MAX_CLASS_ROWS)
        for row in range(shown):
            name = QLabel(f"{info.class_names[row]}\n{train_counts[row]:,} train · {test_counts[row]:,} test")
            name.setToolTip(info.class_names[row])
            self.grid.addWidget(name, row, 0)
            name.show()  # now, not from the event loop: the grid's size below counts only shown widgets
            self.class_rows.append(name)
            for column, image in enumerate(examples[row], start=1):
                cell = QLabel()
                cell.setPixmap(image_pixmap(image))
                cell.setFixedSize(CELL_PIXELS, CELL_PIXELS)
                cell.setAlignment(Qt.AlignmentFlag.AlignCenter)
                self.grid.addWidget(cell, row, column)
                cell.show()
        if info.num_classes > shown:
            more = QLabel(f"… and {info.num_classes - shown:,} more classes (not shown)")
            self.grid.addWidget(more, shown, 0, 1, EXAMPLES_PER_CLASS + 1)
        # The whole grid in sight beside the facts where there is room (no sideways scrolling through the
        # examples), but never more than two thirds: on a small screen the facts and skipped files stay readable.
        frame = 2 * self.examples.frameWidth() + self.examples.verticalScrollBar().sizeHint().width()
        total = sum(self.splitter.sizes())
        grid = min(self.grid_holder.sizeHint().width() + frame, total * 2 // 3)
        self.splitter.setSizes([grid, total - grid])
        self.examples_heading.setText(f"Examples (up to {EXAMPLES_PER_CLASS} of each of "
                                      f"{classes_text(info.num_classes)})")
        lines = [f"<b>Stored as</b> {shape_text(info.shape)}",
                 f"<b>{classes_text(info.num_classes)}</b>: {dataset.num_train:,} training and "
                 f"{dataset.num_test:,} test examples"]
        notes = tuple(getattr(dataset, "notes", ()))
        if notes:
            lines.append("<b>Notes</b><br>" + "<br>".join(f"• {_escaped(note)}" for note in notes))
        self.summary.setText("<br>".join(lines))
        self.skipped.clear()
        self.skipped.addItems(list(dataset.warnings))
        self.skipped_heading.setText(f"Skipped files ({len(dataset.warnings):,})")

    def skipped_lines(self) -> list[str]:
        return [self.skipped.item(row).text() for row in range(self.skipped.count())]


def classes_text(count: int) -> str:
    return f"{count:,} class{'es' * (count != 1)}"


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
