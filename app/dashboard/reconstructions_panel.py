"""Reconstructions: for a design trained to give back its input (an autoencoder: ``output_head.reconstructs``), a
row of test images above what the network makes of them, live from each weight snapshot, with each one's
error (mean squared, per pixel) under it. New examples picks others at random.

A denoising autoencoder (a run trained with input noise) is shown doing what it is for: three rows, the clean
test images, noisy copies of them (noise as in training, drawn once per choice of examples from the run's seed
with engine.training.with_input_noise, so every snapshot reads the same noisy images), and what the network
makes of the noisy copies, each error measured against the clean original (engine.evaluate with the noisy
copies as its inputs: the trainer's validation figure).

Eight images through even a convolutional autoencoder take milliseconds alone, but far longer while training
shares the cores, so (as in Activations) the pass runs on a background thread, on a network copy only that
thread uses; while one is in flight, newer snapshots collapse into one follow-up. The dashboard hides this tab
for designs that do not reconstruct their input.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

import engine
from app.dashboard.background import BackgroundTasks, LatestOnly
from app.dashboard.snapshot_pictures import GREY, SnapshotCopy, example_picture, picture_levels

EXAMPLES = 8  # one row that stays readable beside the training form at 1280 px
LABEL_HEIGHT = 22


class ReconstructionsPanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.new_examples_button = QPushButton("New examples")
        self.new_examples_button.setToolTip("Show other test images, chosen at random")
        self.caption = QLabel("Train an autoencoder (a design whose target is its input) to see its "
                              "reconstructions here.")
        self.caption.setWordWrap(True)
        self.plots = pg.GraphicsLayoutWidget()
        top = QHBoxLayout()
        top.addWidget(self.new_examples_button)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.plots, 1)
        layout.addWidget(self.caption)
        # Rows 2 and 3 (the noisy inputs' heading and images) are filled only for a run with input noise.
        self.reconstructions_heading = self.plots.addLabel("reconstructions", row=4, col=0, colspan=EXAMPLES)
        headings = (self.plots.addLabel("test originals", row=0, col=0, colspan=EXAMPLES),
                    self.reconstructions_heading)
        self.originals: list[pg.ImageItem] = []
        self.reconstructions: list[pg.ImageItem] = []
        self.noisy: list[pg.ImageItem] = []  # the noisy inputs' row; empty for a run without input noise
        self.error_labels: list[pg.LabelItem] = []
        self._views: list[pg.ViewBox] = []
        self._noisy_row: list = []  # the row's heading and view boxes, to take out of the layout again
        for column in range(EXAMPLES):
            self.originals.append(self._image_cell(1, column))
            self.reconstructions.append(self._image_cell(5, column))
            self.error_labels.append(self.plots.addLabel("", row=6, col=column, size="8pt"))
        # The words take their line's height, the images the rest (a label's row would otherwise get as much).
        for label in (*headings, *self.error_labels):
            label.setMaximumHeight(LABEL_HEIGHT)
        self.plots.addLabel("", row=7, col=0, colspan=EXAMPLES)  # below the rows: the height they leave
        self.plots.ci.layout.setRowStretchFactor(7, 1)
        self.run = None
        self.applies = False  # the dashboard shows this tab only for a run whose design reconstructs
        self.examples = np.zeros(0, dtype=np.int64)  # the test images shown (indices)
        self.input_noise = 0.0  # the run's input noise (its standard deviation); 0: the clean images are read
        self.noisy_inputs: np.ndarray | None = None  # with input noise: what the network reads, one per example
        self.errors: np.ndarray | None = None  # each one's mean squared error, as last shown
        self.shown_step: int | None = None  # the snapshot step the reconstructions come from
        self.tasks = BackgroundTasks(self)
        self._copy = SnapshotCopy()
        self._refreshes = LatestOnly(self.tasks)
        self._rng = np.random.default_rng()
        self.new_examples_button.clicked.connect(self.choose_new_examples)

    def _image_cell(self, row: int, column: int, views: list | None = None) -> pg.ImageItem:
        view = self.plots.addViewBox(row=row, col=column, lockAspect=True, invertY=True, enableMouse=False)
        self._views.append(view)
        if views is not None:
            views.append(view)
        view.setMenuEnabled(False)
        image = pg.ImageItem(axisOrder="row-major")
        image.setColorMap(GREY)
        view.addItem(image)
        return image

    def begin_run(self, run) -> None:
        self.applies = run.reconstructs and len(run.data.test_images) > 0
        self.run = run if self.applies else None
        self.errors, self.shown_step = None, None
        config = getattr(getattr(run, "settings", None), "config", None)  # a model shown in the views has none
        self.input_noise = float(getattr(config, "input_noise", 0.0) or 0.0) if self.applies else 0.0
        self._show_noisy_row(self.input_noise > 0)
        for image in (*self.originals, *self.reconstructions):
            image.clear()
        for label in self.error_labels:
            label.setText("")
        self.new_examples_button.setEnabled(self.applies)
        if not self.applies:
            self.caption.setText("This run's design does not reconstruct its input: nothing to show here.")
            return
        self.caption.setText("Waiting for the first snapshot…")
        self.choose_new_examples()

    def choose_new_examples(self) -> None:
        """Other test images at random: shown at once, their reconstructions as soon as they are computed."""
        run = self.run
        if run is None:
            return
        count = min(EXAMPLES, len(run.data.test_images))
        self.examples = np.sort(self._rng.choice(len(run.data.test_images), size=count, replace=False))
        self.errors, self.shown_step = None, None  # until these examples' reconstructions are shown
        self.noisy_inputs = None
        if self.input_noise:  # drawn once for these examples, as the trainer draws its validation noise
            self.noisy_inputs = engine.training.with_input_noise(
                run.data.test_images[self.examples], self.input_noise, run.settings.config.seed,
                engine.training.VALIDATION_NOISE_STREAM)
        for column, image in enumerate(self.originals):
            if column < count:
                picture = example_picture(run.data.test_images[self.examples[column]], run.input_shape)
                image.setImage(picture, levels=picture_levels(picture))
            else:
                image.clear()
        for column, image in enumerate(self.noisy):
            if column < count:
                picture = example_picture(self.noisy_inputs[column], run.input_shape)
                image.setImage(picture, levels=picture_levels(picture))
            else:
                image.clear()
        for image in self.reconstructions:
            image.clear()
        for label in self.error_labels:
            label.setText("")
        self.refresh()

    def refresh(self, event=None) -> None:
        run = self.run
        if run is None or run.latest_snapshot is None:
            return
        if event is not None and not self.isVisible():
            return  # a hidden tab does no work per snapshot; showing it catches up
        if self._refreshes.defer(self.refresh):
            return
        snapshot, examples, noisy = run.latest_snapshot, self.examples, self.noisy_inputs
        images = run.data.test_images[examples]
        labels = run.data.test_labels[examples]

        def reconstruct(_report):
            network = self._copy.holding(run, snapshot)
            # With input noise the network reads the noisy copies; the errors are against the clean images.
            evaluation = engine.evaluate(network, images, labels, batch_size=len(images), inputs=noisy)
            return evaluation.outputs, evaluation.example_errors()

        self._refreshes.submit(reconstruct, lambda result: self._show(run, examples, snapshot, *result),
                               self._show_failure)

    def _show(self, run, examples: np.ndarray, snapshot, outputs: np.ndarray, errors: np.ndarray) -> None:
        if run is self.run and examples is self.examples:  # not a run or examples since replaced
            for column, output in enumerate(outputs):
                picture = example_picture(output, run.input_shape)
                self.reconstructions[column].setImage(picture, levels=picture_levels(picture))
                self.error_labels[column].setText(f"{errors[column]:.4f}")
            self.errors = np.asarray(errors, dtype=np.float64)
            self.shown_step = snapshot.step
            if self.input_noise:
                self.caption.setText(
                    f"{len(examples)} test images (top), the same with noise of standard deviation "
                    f"{self.input_noise:g} as in training (middle), and what the network makes of the noisy images "
                    f"(below) with the weights of step {snapshot.step}; under each, its error against the clean "
                    f"original (the mean squared difference per value; mean {self.errors.mean():.4f})")
            else:
                self.caption.setText(
                    f"{len(examples)} test images (top) and the network's reconstructions (below) with the weights "
                    f"of step {snapshot.step}; under each, its error (the mean squared difference per value; mean "
                    f"{self.errors.mean():.4f})")

    def _show_noisy_row(self, shown: bool) -> None:
        """The noisy inputs' row (rows 2 and 3) for a run with input noise, taken out of the layout otherwise."""
        if shown == bool(self._noisy_row):
            return
        self.reconstructions_heading.setText("what the network makes of the noisy inputs" if shown
                                             else "reconstructions")
        if shown:
            heading = self.plots.addLabel("noisy inputs (as in training)", row=2, col=0, colspan=EXAMPLES)
            heading.setMaximumHeight(LABEL_HEIGHT)
            self._noisy_row.append(heading)
            self.noisy = [self._image_cell(3, column, self._noisy_row) for column in range(EXAMPLES)]
            self._fit_image_heights()
            return
        for item in self._noisy_row:
            self.plots.removeItem(item)
            if item in self._views:
                self._views.remove(item)
        self._noisy_row, self.noisy = [], []

    def _show_failure(self, message: str) -> None:
        self.caption.setText(f"Could not compute the reconstructions: {message}")

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_image_heights()

    def _fit_image_heights(self) -> None:
        # Each image as tall as its column is wide, so the rows and the errors stay together at the top.
        side = max(16.0, self.plots.width() / EXAMPLES - 8)
        for view in self._views:
            view.setMaximumHeight(side)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()
