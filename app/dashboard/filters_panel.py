"""Learned filters: a conv layer's kernels as an image grid, or a first Dense layer's units as images.

A layer that reads a colour image (a first Conv2D with 3 input channels, or a first Dense layer over a 3xHxW
input) shows each kernel or unit as one colour picture, its 3 input channels as R, G and B, each scaled so
that 0 is mid-grey (``centred_rgb``); deeper layers show their kernels in the diverging colour map.

The grid's ImageItem is created once; each snapshot only calls ``setImage``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.dashboard.image_grid import DIVERGING, centred_rgb, image_view, symmetric_levels, tile

MAX_DENSE_UNITS = 64  # a 1024-unit layer as 1024 images is unreadable; the first 64 show the idea


def filter_layers(network) -> dict[str, str]:
    """Node id -> description, for each layer whose weights can be drawn as images."""
    layers = {}
    input_shape = tuple(network.input_shape)
    for node_id in network.order:
        layer_type = network.layers[node_id].type_name
        if layer_type == "Conv2D":
            colour = input_shape[:1] == (3,) and reads_the_image(network, node_id)
            layers[node_id] = f"{node_id} (Conv2D kernels{', in colour' if colour else ''})"
        elif layer_type == "Dense" and len(input_shape) == 3 and _dense_reads_the_input(network, node_id):
            layers[node_id] = f"{node_id} (Dense units as {input_shape[1]}x{input_shape[2]} images)"
    return layers


def _dense_reads_the_input(network, node_id: str) -> bool:
    """Whether only Flatten-like reshapes lie between the Input and this Dense layer."""
    return _reads_the_input(network, node_id, ("Flatten", "Reshape"))


# Between the Input and a convolution, layers that keep each channel one colour plane (its kernel's three
# input channels are then R, G and B).
COLOUR_PRESERVING = ("Dropout", "BatchNormalization", "MaxPooling2D", "AveragePooling2D")


def reads_the_image(network, node_id: str) -> bool:
    """Whether the layer ``node_id`` reads the network's input image itself: a first Conv2D (through only
    ``COLOUR_PRESERVING`` layers) or a first Dense layer (through only a Flatten)."""
    through = COLOUR_PRESERVING if network.layers[node_id].type_name == "Conv2D" else ("Flatten", "Reshape")
    return _reads_the_input(network, node_id, through)


def _reads_the_input(network, node_id: str, through: tuple) -> bool:
    """Whether only layers of the types ``through``, one after another, lie between the Input and ``node_id``."""
    sources = network.graph.inputs[node_id]
    while sources:
        if len(sources) != 1:
            return False
        source = sources[0]
        if source == network.input_id:
            return True
        if network.layers[source].type_name not in through:
            return False
        sources = network.graph.inputs[source]
    return False


RGB_CAPTION = "shown in colour (R, G, B; each scaled on its own, grey is 0)"


def filter_mosaic(weights: dict, node_id: str, layer_type: str, input_shape: tuple,
                  reads_image: bool = True) -> tuple[np.ndarray, str]:
    """(mosaic, caption) for one layer from a snapshot's weights: a 2-D mosaic of signed weights, or, for a
    layer reading a colour image itself (``reads_image``), an (H, W, 3) RGB mosaic in [0, 1]."""
    kernel = weights[f"{node_id}.kernel"]
    colour_input = reads_image and len(input_shape) == 3 and input_shape[0] == 3
    if layer_type == "Conv2D":
        out_channels, in_channels, height, width = kernel.shape
        if in_channels == 3 and colour_input:
            return tile(centred_rgb(kernel)), f"{out_channels} kernels of {height}x{width}, {RGB_CAPTION}"
        if in_channels == 1:
            return tile(kernel[:, 0]), f"{out_channels} kernels of {height}x{width}"
        # One row per output filter, one column per input channel it reads.
        rows = [tile(kernel[o], columns=in_channels) for o in range(out_channels)]
        return tile(np.stack(rows), columns=1), (f"{out_channels} filters (rows) x {in_channels} input channels "
                                                 f"(columns), {height}x{width}")
    channels, height, width = input_shape
    units = kernel.shape[1]
    shown = min(units, MAX_DENSE_UNITS)
    images = kernel[:, :shown].T.reshape(shown, channels, height, width)
    more = f" (the first {shown} of {units})" if shown < units else ""
    if colour_input:
        return tile(centred_rgb(images)), f"{shown} units' input weights{more}, {RGB_CAPTION}"
    return tile(images.mean(axis=1)), f"{shown} units' input weights{more}"


class FiltersPanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.layer = QComboBox()
        self.caption = QLabel("Start a run to see its filters.")
        self.caption.setWordWrap(True)  # a long caption must not widen the dashboard past the training form
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
                                        tuple(network.input_shape), reads_the_image(network, node_id))
        colours = "" if mosaic.ndim == 3 else " · blue negative, red positive"
        self.image.setImage(mosaic, levels=(0.0, 1.0) if mosaic.ndim == 3 else symmetric_levels(mosaic))
        self.caption.setText(f"{caption} · step {run.latest_snapshot.step}{colours}")

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()
