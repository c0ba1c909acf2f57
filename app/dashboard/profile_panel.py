"""Where the time of one training step goes, layer by layer (``engine.profile_step``), as bars.

Profiling runs on a background thread on a private NumPy copy of the network with the latest weights
(or fresh ones before the first snapshot), on one batch of the run's training data.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

import engine
from app.document.networks import new_network

FORWARD_COLOR = "#3b4cca"
BACKWARD_COLOR = "#d9480f"


def profile_run(spec: dict, weights: dict | None, images: np.ndarray, labels: np.ndarray):
    network = new_network(spec)
    if weights is not None:
        network.load_state_dict(weights)
    return engine.profile_step(network, images, labels)


class ProfilePanel(QWidget):
    def __init__(self, tasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.tasks = tasks
        self.profile_button = QPushButton("Profile a step")
        self.caption = QLabel("Times one training step of the current run, layer by layer (on the CPU).")
        self.caption.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "milliseconds per step (forward | backward)")
        self.plot.showGrid(x=True, alpha=0.2)
        self.forward_bars = pg.BarGraphItem(x0=[], y=[], height=0.6, width=[], brush=FORWARD_COLOR)
        self.backward_bars = pg.BarGraphItem(x0=[], y=[], height=0.6, width=[], brush=BACKWARD_COLOR)
        self.plot.addItem(self.forward_bars)
        self.plot.addItem(self.backward_bars)
        top = QHBoxLayout()
        top.addWidget(self.profile_button)
        top.addWidget(self.caption, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)
        self.profile_button.clicked.connect(self.profile_latest)
        self.get_run = lambda: None
        self.timings = []

    def set_run_source(self, get_run) -> None:
        self.get_run = get_run

    def begin_run(self, run) -> None:
        self.profile_button.setEnabled(True)

    def profile_latest(self) -> None:
        run = self.get_run()
        if run is None:
            self.caption.setText("Start a run first: the profile uses its network and a batch of its data.")
            return
        batch = run.settings.config.batch_size
        train = run.data.training
        weights = run.latest_snapshot.weights if run.latest_snapshot else None
        self.profile_button.setEnabled(False)
        self.caption.setText(f"Profiling a step of {batch} examples…")

        def failed(message):
            self.profile_button.setEnabled(True)
            self.caption.setText(f"Profiling failed: {message}")

        self.tasks.submit(lambda _report: profile_run(run.spec, weights, train.train_images[:batch],
                                                      train.train_labels[:batch]),
                          lambda timings: self.show_timings(timings, batch), failed)

    def show_timings(self, timings, batch: int) -> None:
        self.profile_button.setEnabled(True)
        self.timings = timings
        rows = np.arange(len(timings))[::-1]  # the first layer at the top
        forward = np.array([t.forward_ms for t in timings])
        backward = np.array([t.backward_ms for t in timings])
        self.forward_bars.setOpts(x0=np.zeros(len(timings)), y=rows, width=forward, height=0.6)
        self.backward_bars.setOpts(x0=forward, y=rows, width=backward, height=0.6)
        self.plot.getAxis("left").setTicks([[(int(r), f"{t.id} ({t.type})") for r, t in zip(rows, timings,
                                                                                         strict=True)]])
        self.plot.autoRange()
        total = forward.sum() + backward.sum()
        slowest = max(timings, key=lambda t: t.total_ms)
        self.caption.setText(f"One step of {batch} examples: {total:.1f} ms "
                             f"(forward {forward.sum():.1f}, backward {backward.sum():.1f}); "
                             f"slowest: {slowest.id} with {slowest.total_ms:.1f} ms. "
                             f"Blue: forward, orange: backward. Measured while training shares the CPU.")
