"""Histograms of weights and gradients per layer over time, as a heat map (TensorBoard's "offset" view
seen from above): x is the snapshot, y the value, colour how many values fell there.

Each snapshot keeps a fixed random sample of each kernel's values (so a 3-million-weight layer costs
as little as a small one); the history halves its resolution instead of growing without bound.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.dashboard.image_grid import SEQUENTIAL

SAMPLE_SIZE = 4096
MAX_COLUMNS = 200
BINS = 60


class TensorHistory:
    """Samples of one tensor's values at successive snapshots."""

    def __init__(self, size: int, seed: int = 0):
        self.sample = np.sort(np.random.default_rng(seed).choice(size, min(size, SAMPLE_SIZE), replace=False))
        self.steps: list[int] = []
        self.columns: list[np.ndarray] = []

    def add(self, step: int, values: np.ndarray) -> None:
        self.steps.append(step)
        self.columns.append(values.reshape(-1)[self.sample].astype(np.float32))
        if len(self.columns) > MAX_COLUMNS:  # keep the whole run, at half the resolution
            self.steps, self.columns = self.steps[::2], self.columns[::2]

    def heat_map(self) -> tuple[np.ndarray, float, float]:
        """(BINS x snapshots counts, low, high) over one shared value range."""
        values = np.stack(self.columns)  # snapshots x samples
        finite = values[np.isfinite(values)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if high <= low:
            high = low + 1e-6
        bins = np.clip(((values - low) / (high - low) * BINS).astype(np.int64), 0, BINS - 1)
        offsets = np.arange(len(values))[:, None] * BINS
        counts = np.bincount((bins + offsets).reshape(-1), minlength=len(values) * BINS)
        return counts.reshape(len(values), BINS).T.astype(np.float32), low, high


class HistogramsPanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.tensor = QComboBox()
        self.kind = QComboBox()
        self.kind.addItems(["weights", "gradients"])
        self.caption = QLabel("Start a run to see how its weights and gradients are distributed over time.")
        self.caption.setWordWrap(True)  # a run's caption is long: one line would set the whole dock's width
        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "snapshot")
        self.plot.setLabel("left", "value")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(SEQUENTIAL)
        self.plot.addItem(self.image)
        top = QHBoxLayout()
        top.addWidget(QLabel("Tensor"))
        top.addWidget(self.tensor, 1)
        top.addWidget(self.kind)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.caption)
        self.histories: dict[tuple[str, str], TensorHistory] = {}
        self.tensor.currentIndexChanged.connect(lambda _: self.redraw())
        self.kind.currentIndexChanged.connect(lambda _: self.redraw())

    def begin_run(self, run) -> None:
        self.histories = {}
        self.tensor.blockSignals(True)
        self.tensor.clear()
        for name, parameter in run.inference_network.parameters().items():
            self.tensor.addItem(f"{name} ({'x'.join(map(str, parameter.shape))})", name)
        self.tensor.blockSignals(False)

    def record(self, event) -> None:
        """Keep a sample of every tensor of a snapshot (every one, shown or not, so the history is complete)."""
        for kind, arrays in (("weights", event.weights), ("gradients", event.gradients)):
            for index in range(self.tensor.count()):
                name = self.tensor.itemData(index)
                if name not in arrays:
                    continue
                key = (kind, name)
                if key not in self.histories:
                    self.histories[key] = TensorHistory(arrays[name].size, seed=index)
                self.histories[key].add(event.step, arrays[name])

    def refresh(self, event=None) -> None:
        """Draw the recorded history; on a snapshot (``event``), only while the tab is showing."""
        if event is None or self.isVisible():
            self.redraw()

    def redraw(self) -> None:
        history = self.histories.get((self.kind.currentText(), self.tensor.currentData()))
        if history is None or not history.columns:
            return
        counts, low, high = history.heat_map()
        self.image.setImage(np.log1p(counts), autoLevels=True)
        columns = counts.shape[1]
        self.image.setRect(0, low, columns, high - low)
        self.caption.setText(f"{self.kind.currentText()} of {self.tensor.currentData()}: {columns} snapshot(s), "
                             f"steps {history.steps[0]}–{history.steps[-1]}, values {low:.3g} to {high:.3g} "
                             f"(a sample of {len(history.sample):,}); brighter = more values")

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.redraw()
