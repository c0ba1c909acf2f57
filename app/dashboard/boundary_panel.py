"""The decision boundary of a network on a 2-D toy set, live, as in TensorFlow Playground: the predicted
class probability over the plane as a heat map, with the training and test points on top.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.dashboard.image_grid import DIVERGING

GRID = 100  # 10,000 points through a toy MLP: a few milliseconds
POINT_COLORS = ("#1c7ed6", "#e8590c", "#2f9e44", "#9c36b5", "#f08c00", "#0b7285")


def boundary_grid(points: np.ndarray, margin: float = 0.5) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """(GRID*GRID x 2 grid points, (left, top, width, height)) covering ``points``."""
    low, high = points.min(axis=0) - margin, points.max(axis=0) + margin
    xs, ys = np.linspace(low[0], high[0], GRID), np.linspace(low[1], high[1], GRID)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2).astype(np.float32)
    return grid, (float(low[0]), float(low[1]), float(high[0] - low[0]), float(high[1] - low[1]))


class BoundaryPanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        self.plot.setAspectLocked(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(DIVERGING)
        self.plot.addItem(self.image)
        self.points = pg.ScatterPlotItem(size=7, pen=pg.mkPen("k", width=0.5))
        self.plot.addItem(self.points)
        self.caption = QLabel("Choose a 2-D toy data set (spiral, xor, circles, gaussian) to see the boundary here.")
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.caption)
        self.run = None
        self.grid = None
        self.rect = (0.0, 0.0, 1.0, 1.0)

    def begin_run(self, run) -> None:
        # Classes over the plane: a network that outputs values (trained with another loss) has none to show.
        self.run = run if run.data.is_toy and run.input_shape == (2,) and run.classifier else None
        if self.run is None:
            self.points.setData([])
            self.image.clear()
            self.caption.setText("This run's data is not a 2-D toy set: nothing to draw here.")
            return
        train = run.data.training
        everything = np.concatenate([train.train_images, run.data.test_images])
        labels = np.concatenate([train.train_labels, run.data.test_labels])
        self.grid, self.rect = boundary_grid(everything)
        brushes = [pg.mkBrush(POINT_COLORS[label % len(POINT_COLORS)]) for label in labels]
        self.points.setData(pos=everything, brush=brushes)
        self.caption.setText("Waiting for the first snapshot…")

    def refresh(self, event=None) -> None:
        if self.run is None or self.grid is None or self.run.latest_snapshot is None:
            return
        if event is not None and not self.isVisible():
            return  # a hidden tab does no work per snapshot; showing it catches up
        network = self.run.latest_network()
        probabilities = network.output_head.probabilities(network.predict(self.grid, batch_size=GRID * GRID))
        if probabilities.shape[1] == 2:  # Playground's view: -1 (class 0) .. +1 (class 1)
            field = probabilities[:, 1] * 2 - 1
        else:  # the winning class's confidence, signed by whether it is an even or odd class
            field = probabilities.max(axis=1) * np.where(probabilities.argmax(axis=1) % 2, 1, -1)
        self.image.setImage(field.reshape(GRID, GRID), levels=(-1, 1), rect=self.rect)
        step = self.run.latest_snapshot.step if self.run.latest_snapshot else 0
        self.caption.setText(f"{self.run.data.name}: predicted class over the plane at step {step} "
                             f"(blue: class 0, red: class 1; points coloured by their true class)")

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()
