"""The evaluation of a network that outputs values rather than classes (an ``engine.ErrorEvaluation``): its
figures on the test set in words, and what they are made of.

- An autoencoder (target "input") of images: the worst-reconstructed test images, each original beside its
  reconstruction, worst first (a confusion matrix would mean nothing: nothing is a class).
- Anything else (a regression such as toy:sine): every predicted value against its true value, with the
  line where they would be equal.

    view = ErrorView()
    view.show_result(run, result)          # run: the ActiveRun evaluated; result: engine.ErrorEvaluation
    error_figures(result, step)            # "Step 40: test loss 0.0912, mean squared error 0.0201, ..."
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QLabel, QListView, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.dashboard.thumbnails import thumbnail

WORST_COUNT = 24
PAIR_HEIGHT = 56  # each image of a pair; the pair is two of them side by side with a gap
PAIR_GAP = 2  # pixels of the source images between original and reconstruction
MAX_SCATTER_POINTS = 5000  # a person sees the cloud; more points only slow the plot


def error_figures(result, step: int) -> str:
    """The test figures of an ErrorEvaluation in one line of words."""
    count = len(result.outputs)
    return (f"Step {step}: test loss {result.loss:.4f}, mean squared error {result.mean_squared_error:.4f}, "
            f"mean absolute error {result.mean_absolute_error:.4f} on {count:,} examples.")


def pair_image(original: np.ndarray, reconstruction: np.ndarray) -> np.ndarray:
    """Original and reconstruction (C, H, W) side by side, a mid-grey gap between them: (C, H, 2W + gap)."""
    gap = np.full((original.shape[0], original.shape[1], PAIR_GAP), 0.5, dtype=np.float32)
    return np.concatenate([original.astype(np.float32), gap, reconstruction.astype(np.float32)], axis=2)


def reconstructs_images(run, result) -> bool:
    """Whether the result can be shown as images beside their reconstructions: an autoencoder of images whose
    output holds as many values as each image (the engine's "target shape" rule makes sure it does)."""
    images = run.data.test_images
    return (run.reconstructs and images.ndim == 4 and len(result.outputs) == len(images)
            and result.outputs[0].size == images[0].size)


class ErrorView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.gallery = QListWidget()
        self.gallery.setViewMode(QListView.ViewMode.IconMode)
        self.gallery.setIconSize(QSize(2 * PAIR_HEIGHT + 4, PAIR_HEIGHT))
        self.gallery.setResizeMode(QListView.ResizeMode.Adjust)
        self.gallery.setMovement(QListView.Movement.Static)
        self.gallery.setToolTip("Each pair: the test image, then what the network made of it")
        self.scatter = pg.PlotWidget()
        self.scatter.setLabel("bottom", "true value")
        self.scatter.setLabel("left", "predicted")
        self.scatter.setMinimumSize(120, 100)
        self.points = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(59, 76, 202, 150))
        self.identity = pg.PlotDataItem([], [], pen=pg.mkPen((150, 150, 150), width=1, style=Qt.PenStyle.DashLine))
        self.scatter.addItem(self.identity)
        self.scatter.addItem(self.points)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.gallery, 1)
        layout.addWidget(self.scatter, 1)
        self.shown_indices: list[int] = []  # the test examples in the gallery, worst first

    def show_result(self, run, result) -> None:
        if reconstructs_images(run, result):
            self.scatter.hide()
            self.gallery.show()
            self._show_worst(run, result)
        else:
            self.gallery.hide()
            self.scatter.show()
            self._show_scatter(result)

    def _show_worst(self, run, result) -> None:
        images = run.data.test_images
        errors = result.example_errors()
        self.shown_indices = [int(index) for index in result.worst(WORST_COUNT)]
        self.title.setText(f"Worst reconstructed: the {len(self.shown_indices)} test images with the largest "
                           f"squared error, each original beside its reconstruction")
        names = run.data.class_names
        labels = result.labels
        self.gallery.clear()
        for index in self.shown_indices:
            original = images[index]
            reconstruction = np.asarray(result.outputs[index], dtype=np.float32).reshape(original.shape)
            item = QListWidgetItem(f"error {errors[index]:.3f}")
            item.setIcon(QIcon(thumbnail(pair_image(original, reconstruction), PAIR_HEIGHT)))
            item.setData(Qt.ItemDataRole.UserRole, index)
            digit = ""
            if labels is not None and np.ndim(labels) == 1 and 0 <= int(labels[index]) < len(names):
                digit = f" ({names[int(labels[index])]})"
            item.setToolTip(f"test example #{index}{digit}: mean squared error {errors[index]:.4f}")
            self.gallery.addItem(item)

    def _show_scatter(self, result) -> None:
        true = np.asarray(result.targets, dtype=np.float64).ravel()
        predicted = np.asarray(result.outputs, dtype=np.float64).ravel()
        if len(true) > MAX_SCATTER_POINTS:  # an even sample of the cloud
            keep = np.linspace(0, len(true) - 1, MAX_SCATTER_POINTS).astype(np.int64)
            true, predicted = true[keep], predicted[keep]
        self.shown_indices = []
        self.title.setText(f"Predicted against true: {len(true):,} test value(s); on the dashed line they are equal")
        self.points.setData(true, predicted)
        finite = np.concatenate([true, predicted])
        finite = finite[np.isfinite(finite)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        self.identity.setData([low, high], [low, high])
