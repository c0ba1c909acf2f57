"""Activations: every layer's output for one example, from the latest snapshot.

Conv/pool outputs show as a grid of feature maps, dense outputs as a heat strip (one cell per unit), a sequence
(steps x features) as the image it is; the input of a colour model (3xHxW) shows as the colour picture it is.
A recurrent layer (SimpleRNN, LSTM, GRU: ``Network.hidden_states`` has its states after the pass) shows its
hidden state over the steps, steps across and units down, whether it returns the sequence or its last state:
what the layer carries from row to row of a digit read as a sequence.
One example through the seed CNN takes ~1 ms on an idle machine but ~300 ms while training shares the
cores (measured), so the forward pass runs on a background thread, on a network copy only that thread
uses; while one is in flight, newer requests collapse into one follow-up. The draw panel can call
``show_example(image)`` with its digit; before any run it lays out the model reading the drawing, given
as a run without a number (``ActiveRun.of_model``, app/run_state.py).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from app.dashboard.background import BackgroundTasks, LatestOnly
from app.dashboard.image_grid import SEQUENTIAL, image_view, tile, value_levels
from app.dashboard.snapshot_pictures import SnapshotCopy

MAX_FEATURE_MAPS = 32  # per layer; enough to see what the layer picks out, small enough to stay readable
MAX_STRIP_COLUMNS = 64  # a dense layer's units wrap into rows of this many


def activation_image(output: np.ndarray, colour: bool = False) -> np.ndarray:
    """One node's output for one example (without the batch axis) as a 2-D image; with ``colour``, a 3xHxW
    output (a colour model's input, pixels in [0, 1]) as one (H, W, 3) RGB image."""
    if colour and output.ndim == 3 and output.shape[0] == 3:
        return np.clip(np.asarray(output, dtype=np.float32).transpose(1, 2, 0), 0.0, 1.0)
    if output.ndim == 3:  # channels x height x width
        return tile(output[:MAX_FEATURE_MAPS])
    if output.ndim == 2:  # a sequence, steps x features (a Reshape before a recurrent layer): one row a step
        return np.asarray(output, dtype=np.float32)
    flat = output.reshape(-1)
    columns = min(len(flat), MAX_STRIP_COLUMNS)
    rows = -(-len(flat) // columns)
    strip = np.full(rows * columns, np.nan, dtype=np.float32)
    strip[:len(flat)] = flat
    return strip.reshape(rows, columns)


def hidden_state_image(states: np.ndarray) -> np.ndarray:
    """One example's hidden states (steps, units) as a row-major image: one column per step (time runs left
    to right), one row per unit."""
    return np.ascontiguousarray(np.asarray(states, dtype=np.float32).T)


def hidden_state_plot(layout: pg.GraphicsLayoutWidget, row: int, col: int) -> tuple[pg.PlotItem, pg.ImageItem]:
    """A plot with "step" and "unit" axes holding one ImageItem: the picture of a recurrent layer's states.
    Not aspect-locked: 28 steps by 128 units would otherwise be a sliver."""
    plot = layout.addPlot(row=row, col=col)
    plot.setLabel("bottom", "step")
    plot.setLabel("left", "unit")
    plot.invertY(True)  # unit 0 at the top, as the rows of the other images
    plot.setMenuEnabled(False)
    image = pg.ImageItem(axisOrder="row-major")
    image.setColorMap(SEQUENTIAL)
    plot.addItem(image)
    return plot, image


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
        self.tasks = BackgroundTasks(self)
        self._copy = SnapshotCopy()  # the background thread's own network, built there (not on the GUI thread)
        self._refreshes = LatestOnly(self.tasks)
        self.drawn_image: np.ndarray | None = None
        self._images: dict[str, pg.ImageItem] = {}
        self.node_labels: dict[str, pg.LabelItem] = {}
        self._cells: dict[str, tuple[int, int, object]] = {}  # node id -> (row, column, its view or plot)
        # Node id -> the ImageItem showing a recurrent layer's hidden state over the steps (steps x units).
        self.hidden_state_images: dict[str, pg.ImageItem] = {}
        self.hidden_state_plots: dict[str, pg.PlotItem] = {}  # their plots, with the "step" and "unit" axes
        self._rng = np.random.default_rng()
        self.example.valueChanged.connect(self._use_test_example)
        self.random_button.clicked.connect(lambda: self.example.setValue(
            int(self._rng.integers(0, self.example.maximum() + 1))))

    def begin_run(self, run) -> None:
        """Lay out one image per node (created once per run; snapshots only update them)."""
        self.run = run
        self.plots.clear()
        self._images, self.node_labels, self._cells = {}, {}, {}
        self.hidden_state_images, self.hidden_state_plots = {}, {}
        network = run.inference_network
        self.example.setMaximum(max(0, len(run.data.test_labels) - 1))
        if run.data.is_toy:
            self.caption.setText("A 2-D toy set: see the Boundary tab; the layers below are its units.")
        for index, node_id in enumerate(network.order):
            row, column = divmod(index, 4)
            self.node_labels[node_id] = self.plots.addLabel(node_id, row=2 * row, col=column)
            view, image = image_view(self.plots, SEQUENTIAL, row=2 * row + 1, col=column)
            self._images[node_id] = image
            self._cells[node_id] = (2 * row + 1, column, view)
        for column in range(min(4, len(network.order))):
            # Equal columns: a recurrent layer's plot (axes, no locked aspect) would otherwise take them all.
            self.plots.ci.layout.setColumnStretchFactor(column, 1)
        self.refresh()

    def show_example(self, image: np.ndarray) -> None:
        """Show the activations for ``image`` (e.g. the drawn digit, 28x28 or 1x28x28 in [0, 1], or a colour
        model's picture, 3xHxW)."""
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

    def refresh(self, event=None) -> None:
        run = self.run
        if run is None or (event is not None and not self.isVisible()):
            return  # a hidden tab does no work on each snapshot; showing it refreshes
        x = self._input()
        if x is None:
            return
        if self._refreshes.defer(self.refresh):
            return
        snapshot = run.latest_snapshot
        if self.drawn_image is not None:  # from the Draw panel: a drawing, or a colour model's (3, H, W) picture
            source = "the dropped picture" if self.drawn_image.ndim == 3 and len(self.drawn_image) == 3 else \
                "the drawn image"
        else:
            source = f"test example #{self.example.value()}{_label_text(run, self.example.value())}"

        def forward(_report):
            network = self._copy.holding(run, snapshot)
            outputs = network.forward(x, training=False, return_all=True)
            shown = {node_id: np.array(output[0]) for node_id, output in outputs.items()}
            states = {}
            for node_id in outputs:
                node_states = network.hidden_states(node_id)
                if node_states is not None:
                    states[node_id] = np.array(node_states[0])
            return shown, states

        self._refreshes.submit(forward, lambda result: self._show(run, *result, source, snapshot), self._show_failure)

    def _show(self, run, outputs: dict, states: dict, source: str, snapshot) -> None:
        if run is self.run:
            network = run.inference_network
            for node_id, image_item in self._images.items():
                shape = "x".join(map(str, outputs[node_id].shape))
                if node_id in states:
                    image = self._hidden_state_item(node_id)
                    picture = hidden_state_image(states[node_id])
                    image.setImage(picture, levels=value_levels(picture))
                    steps, units = states[node_id].shape
                    self.node_labels[node_id].setText(f"{node_id} hidden state: {steps} steps x {units} units")
                    continue
                mosaic = activation_image(outputs[node_id], colour=node_id == network.input_id)
                image_item.setImage(mosaic, levels=(0.0, 1.0) if mosaic.ndim == 3 else value_levels(mosaic))
                self.node_labels[node_id].setText(f"{node_id} {shape}")
            step = snapshot.step if snapshot is not None else 0
            weights = run.name if run.is_model else f"the weights of step {step}"
            recurrent = (" · recurrent layers: their hidden state at each step (across) for each unit (down)"
                         if states else "")
            self.caption.setText(f"{source}: {_reading(network, outputs[network.output_id], run)}with {weights}"
                                 f"{recurrent}")

    def _hidden_state_item(self, node_id: str) -> pg.ImageItem:
        """The ImageItem of ``node_id``'s hidden state: the cell's plain view is swapped, at the first pass that
        shows the node is recurrent, for a plot with "step" and "unit" axes."""
        if node_id not in self.hidden_state_images:
            row, column, view = self._cells[node_id]
            self.plots.removeItem(view)
            plot, image = hidden_state_plot(self.plots, row, column)
            self._cells[node_id] = (row, column, plot)
            self.hidden_state_plots[node_id] = plot
            self._images[node_id] = self.hidden_state_images[node_id] = image
        return self.hidden_state_images[node_id]

    def _show_failure(self, message: str) -> None:
        self.caption.setText(f"Could not compute the activations: {message}")

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()


def _label_text(run, index: int) -> str:
    """" (label 7)" for a test example of a classification set; "" where its label names no class."""
    label = np.asarray(run.data.test_labels[index])
    if label.ndim != 0 or not np.issubdtype(label.dtype, np.integer) or not 0 <= int(label) < len(run.data.class_names):
        return ""  # a regression target, not a class
    return f" (label {run.data.class_names[int(label)]})"


def _reading(network, output: np.ndarray, run) -> str:
    """What the network made of the example, for the caption: a classifier's guess ("predicted 7 (93%) "); a
    reconstruction or a regression shows in the output's picture."""
    head = network.output_head
    if not head.classifier:
        return "every layer's output "
    probabilities = head.probabilities(output[None])[0]
    guess = int(probabilities.argmax())
    return f"predicted {run.data.class_names[guess]} ({probabilities[guess]:.0%}) "
