"""Activations: every layer's output for one example, from the latest snapshot.

Conv/pool outputs show as a grid of feature maps, dense outputs as a heat strip (one cell per unit).
One example through the NumPy inference copy takes about a millisecond, so it runs on the GUI thread.
The draw panel can call ``show_example(image)`` with its digit.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from app.dashboard.image_grid import SEQUENTIAL, image_view, tile, value_levels

MAX_FEATURE_MAPS = 32  # per layer; enough to see what the layer picks out, small enough to stay readable
MAX_STRIP_COLUMNS = 64  # a dense layer's units wrap into rows of this many


def activation_image(output: np.ndarray) -> np.ndarray:
    """One node's output for one example (without the batch axis) as a 2-D image."""
    if output.ndim == 3:  # channels x height x width
        return tile(output[:MAX_FEATURE_MAPS])
    flat = output.reshape(-1)
    columns = min(len(flat), MAX_STRIP_COLUMNS)
    rows = -(-len(flat) // columns)
    strip = np.full(rows * columns, np.nan, dtype=np.float32)
    strip[:len(flat)] = flat
    return strip.reshape(rows, columns)


class ActivationsPanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.example = QSpinBox()
        self.example.setPrefix("test example #")
        self.random_button = QPushButton("Random")
        self.caption = QLabel("Start a run to see its activations.")
        self.caption.setWordWrap(True)
        self.plots = pg.GraphicsLayoutWidget()
        top = QHBoxLayout()
        top.addWidget(self.example)
        top.addWidget(self.random_button)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.plots, 1)
        layout.addWidget(self.caption)
        self.run = None
        self.drawn_image: np.ndarray | None = None
        self._images: dict[str, pg.ImageItem] = {}
        self._labels: dict[str, pg.LabelItem] = {}
        self._rng = np.random.default_rng()
        self.example.valueChanged.connect(self._use_test_example)
        self.random_button.clicked.connect(lambda: self.example.setValue(
            int(self._rng.integers(0, self.example.maximum() + 1))))

    def begin_run(self, run) -> None:
        """Lay out one image per node (created once per run; snapshots only update them)."""
        self.run = run
        self.plots.clear()
        self._images, self._labels = {}, {}
        network = run.inference_network
        self.example.setMaximum(max(0, len(run.data.test_labels) - 1))
        if run.data.is_toy:
            self.caption.setText("A 2-D toy set: see the Decision boundary tab; the layers below are its units.")
        for index, node_id in enumerate(network.order):
            row, column = divmod(index, 4)
            self._labels[node_id] = self.plots.addLabel(node_id, row=2 * row, col=column)
            _, image = image_view(self.plots, SEQUENTIAL, row=2 * row + 1, col=column)
            self._images[node_id] = image
        self.refresh()

    def show_example(self, image: np.ndarray) -> None:
        """Show the activations for ``image`` (e.g. the drawn digit, 28x28 or 1x28x28 in [0, 1])."""
        self.drawn_image = np.asarray(image, dtype=np.float32)
        self.refresh()

    def _use_test_example(self, _index: int) -> None:
        self.drawn_image = None
        self.refresh()

    def _input(self) -> np.ndarray | None:
        run = self.run
        shape = run.input_shape
        if self.drawn_image is not None and self.drawn_image.size == int(np.prod(shape)):
            return self.drawn_image.reshape((1, *shape))
        if len(run.data.test_labels) == 0:
            return None
        return run.data.test_images[self.example.value()][None]

    def refresh(self, _event=None) -> None:
        run = self.run
        if run is None or not self.isVisible() and _event is not None:
            return  # a hidden tab does no work on each snapshot; showing it refreshes
        x = self._input()
        if x is None:
            return
        outputs = run.inference_network.forward(x, training=False, return_all=True)
        for node_id, image_item in self._images.items():
            output = np.asarray(outputs[node_id][0])
            mosaic = activation_image(output)
            image_item.setImage(mosaic, levels=value_levels(mosaic))
            self._labels[node_id].setText(f"{node_id} {'x'.join(map(str, output.shape))}")
        logits = np.asarray(outputs[run.inference_network.output_id][0]).reshape(-1)
        probabilities = np.exp(logits - logits.max())
        probabilities /= probabilities.sum()
        guess = int(probabilities.argmax())
        source = "the drawn image" if self.drawn_image is not None else f"test example #{self.example.value()} " \
            f"(label {run.data.class_names[int(run.data.test_labels[self.example.value()])]})"
        step = run.latest_snapshot.step if run.latest_snapshot else 0
        self.caption.setText(f"{source}: predicted {run.data.class_names[guess]} ({probabilities[guess]:.0%}) "
                             f"with the weights of step {step}")

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()
