"""Learned filters: a conv layer's kernels as an image grid, or a first Dense layer's units as images.

The grid's ImageItem is created once; each snapshot only calls ``setImage``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.dashboard.image_grid import DIVERGING, image_view, symmetric_levels, tile

MAX_DENSE_UNITS = 64  # a 1024-unit layer as 1024 images is unreadable; the first 64 show the idea


def filter_layers(network) -> dict[str, str]:
    """Node id -> description, for each layer whose weights can be drawn as images."""
    layers = {}
    input_shape = tuple(network.input_shape)
    for node_id in network.order:
        layer_type = network.layers[node_id].type_name
        if layer_type == "Conv2D":
            layers[node_id] = f"{node_id} (Conv2D kernels)"
        elif layer_type == "Dense" and len(input_shape) == 3 and _dense_reads_the_input(network, node_id):
            layers[node_id] = f"{node_id} (Dense units as {input_shape[1]}x{input_shape[2]} images)"
    return layers


def _dense_reads_the_input(network, node_id: str) -> bool:
    """Whether only Flatten-like reshapes lie between the Input and this Dense layer."""
    sources = network.graph.inputs[node_id]
    while sources:
        if len(sources) != 1:
            return False
        source = sources[0]
        if source == network.input_id:
            return True
        if network.layers[source].type_name not in ("Flatten", "Reshape"):
            return False
        sources = network.graph.inputs[source]
    return False


def filter_mosaic(weights: dict, node_id: str, layer_type: str, input_shape: tuple) -> tuple[np.ndarray, str]:
    """(mosaic, caption) for one layer from a snapshot's weights."""
    kernel = weights[f"{node_id}.kernel"]
    if layer_type == "Conv2D":
        out_channels, in_channels, height, width = kernel.shape
        if in_channels == 1:
            return tile(kernel[:, 0]), f"{out_channels} kernels of {height}x{width}"
        # One row per output filter, one column per input channel it reads.
        rows = [tile(kernel[o], columns=in_channels) for o in range(out_channels)]
        return tile(np.stack(rows), columns=1), (f"{out_channels} filters (rows) x {in_channels} input channels "
                                                 f"(columns), {height}x{width}")
    channels, height, width = input_shape
    units = kernel.shape[1]
    shown = min(units, MAX_DENSE_UNITS)
    images = kernel[:, :shown].T.reshape(shown, channels, height, width).mean(axis=1)
    more = f" (the first {shown} of {units})" if shown < units else ""
    return tile(images), f"{shown} units' input weights{more}"


class FiltersPanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.layer = QComboBox()
        self.caption = QLabel("Start a run to see its filters.")
        self.plots = pg.GraphicsLayoutWidget()
        self.view, self.image = image_view(self.plots, DIVERGING)
        top = QHBoxLayout()
        top.addWidget(QLabel("Layer"))
        top.addWidget(self.layer, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.plots, 1)
        layout.addWidget(self.caption)
        self.layer.currentIndexChanged.connect(lambda _: self.refresh())
        self.run = None

    def begin_run(self, run) -> None:
        self.run = run
        layers = filter_layers(run.inference_network)
        self.layer.blockSignals(True)
        self.layer.clear()
        for node_id, text in layers.items():
            self.layer.addItem(text, node_id)
        self.layer.blockSignals(False)
        self.caption.setText("Waiting for the first snapshot…" if layers else
                             "This network has no convolution, and no Dense layer reading the image directly.")

    def refresh(self, event=None) -> None:
        run = self.run
        node_id = self.layer.currentData()
        if run is None or run.latest_snapshot is None or node_id is None:
            return
        if event is not None and not self.isVisible():
            return  # a hidden tab does no work per snapshot; showing it catches up
        network = run.inference_network
        mosaic, caption = filter_mosaic(run.latest_snapshot.weights, node_id, network.layers[node_id].type_name,
                                        tuple(network.input_shape))
        self.image.setImage(mosaic, levels=symmetric_levels(mosaic))
        self.caption.setText(f"{caption} · step {run.latest_snapshot.step} · blue negative, red positive")

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()
