"""What the autoencoder views (Reconstructions, Codes) share: a background thread's own copy of a run's network
holding a chosen snapshot, and an example (or a decoded output) as the picture a person recognises.

    copy = SnapshotCopy()
    network = copy.holding(run, snapshot)          # on the views' background thread only
    picture = example_picture(output, run.input_shape)   # (H, W) grey or (H, W, 3) colour, in the input's shape
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

import engine
from app.dashboard.image_grid import tile
from app.document.networks import new_network

GREY = pg.colormap.get("CET-L1")  # black 0 .. white 1: a digit as MNIST draws it


class SnapshotCopy:
    """One network copy for one background thread: built from the run's spec at its first use there (building
    it takes ~100 ms for a large design, time the GUI thread must not spend), loaded with a snapshot's
    weights only when the snapshot asked for changes. Only that thread's tasks call ``holding``, one at a
    time (a BackgroundTasks pool of one thread)."""

    def __init__(self):
        self._network: engine.Network | None = None
        self._run = None
        self._weights = None  # the weights dict now loaded (a snapshot's, by identity)

    def holding(self, run, snapshot) -> engine.Network:
        if self._run is not run:
            self._network, self._run, self._weights = new_network(run.spec), run, None
        if snapshot is not None and snapshot.weights is not self._weights:
            self._network.load_state_dict(snapshot.weights)
            self._weights = snapshot.weights
        return self._network


def example_picture(values: np.ndarray, input_shape: tuple) -> np.ndarray:
    """One example (an input, a reconstruction, a decoded point) as an image: its values put back in the
    input's shape (a 784-value output of a 1x28x28 input is that digit), then a grey 1xHxW as (H, W), a colour
    3xHxW as (H, W, 3) clipped to [0, 1], other channel counts as their tiled planes, a sequence (steps x
    features) as it is, and a vector as one row."""
    values = np.asarray(values, dtype=np.float32)
    if values.size == int(np.prod(input_shape)):
        values = values.reshape(input_shape)
    if values.ndim == 3:
        if values.shape[0] == 1:
            return values[0]
        if values.shape[0] == 3:
            return np.clip(values.transpose(1, 2, 0), 0.0, 1.0)
        return tile(values)
    if values.ndim == 2:
        return values
    return values.reshape(1, -1)


def picture_levels(picture: np.ndarray) -> tuple[float, float]:
    """Levels for a picture: images in [0, 1] (as every image data set here is) are drawn on that fixed scale, so
    a faint reconstruction looks faint; values outside it (a linear output) stretch the scale to show them."""
    finite = picture[np.isfinite(picture)]
    low = min(0.0, float(finite.min())) if finite.size else 0.0
    high = max(1.0, float(finite.max())) if finite.size else 1.0
    return low, high
