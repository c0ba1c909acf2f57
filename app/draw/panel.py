"""The Draw panel: draw a digit and watch the network read it, bar by bar, as you draw.

    panel = DrawPanel()                          # the bundled seed CNN trained on MNIST
    panel.use_weights(run.spec, snapshot.weights)  # follow a training run's latest snapshot
    panel.activations_requested.connect(dashboard.show_example)

Inference runs on the GUI thread on the panel's own NumPy copy of the network: one example through the
seed CNN takes ~1 ms on an idle machine, well inside a frame, and a copy only this panel uses is never
touched by training.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

import engine
import resources
from app.draw.pad import DrawingPad
from app.draw.preprocess import MNIST_BOX, MNIST_FIELD, mnist_style
from app.refcount_guard import protect_singletons

BUNDLED_MODEL = "models/seed-cnn-mnist.llmodel"


def digit_field(input_shape: tuple) -> tuple[int | None, str]:
    """The square field a network with ``input_shape`` reads a drawing as, or (None, why it cannot).

    >>> digit_field((1, 28, 28))
    (28, '')
    """
    shape = tuple(int(size) for size in input_shape)
    if len(shape) == 3 and shape[0] == 1 and shape[1] == shape[2]:
        return shape[1], ""
    if len(shape) == 1 and round(shape[0] ** 0.5) ** 2 == shape[0]:  # a flattened square image (an MLP)
        return round(shape[0] ** 0.5), ""
    received = "x".join(map(str, shape))
    if len(shape) == 3 and shape[0] != 1:
        return None, (f"Drawing is disabled: this network reads {shape[0]}-channel images ({received}); "
                      "a drawing has one channel.")
    return None, (f"Drawing is disabled: this network's input is {received}; a drawing needs a square "
                  "single-channel image (1xNxN, e.g. 1x28x28) or a flattened one (N*N values).")


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max())
    return shifted / shifted.sum()


class DrawPanel(QWidget):
    activations_requested = Signal(object)  # the preprocessed digit, (field, field) float32 in [0, 1]
    prediction_updated = Signal(object)  # the class probabilities just shown

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        protect_singletons()  # bar updates emit pyqtgraph signals many times a second
        self.pad = DrawingPad()
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.guesses = QLabel("Draw a digit.")
        self.guesses.setWordWrap(True)  # it sits in the narrow column beside the pad
        font = self.guesses.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        self.guesses.setFont(font)
        self.preview_view = pg.GraphicsLayoutWidget()
        self.preview_view.setFixedSize(84, 84)  # 3 screen pixels per MNIST pixel
        preview_box = self.preview_view.addViewBox(lockAspect=True, enableMouse=False, invertY=True)
        self.preview = pg.ImageItem(axisOrder="row-major")
        preview_box.addItem(self.preview)
        self.bars_plot = pg.PlotWidget()
        self.bars_plot.setMouseEnabled(False, False)
        self.bars_plot.setMenuEnabled(False)
        self.bars_plot.hideButtons()
        self.bars_plot.setYRange(0, 1, padding=0)
        self.bars_plot.setMinimumHeight(110)
        self.bars = pg.BarGraphItem(x=np.arange(10), height=np.zeros(10), width=0.7, brush="#3d8bd9")
        self.bars_plot.addItem(self.bars)

        self.clear_button = QPushButton("Clear")
        self.undo_button = QPushButton("Undo")
        self.eraser_button = QPushButton("Eraser")
        self.eraser_button.setCheckable(True)
        self.load_button = QPushButton("Load image…")
        self.save_button = QPushButton("Save PNG…")
        self.activations_button = QPushButton("Show activations")
        buttons = QGridLayout()
        for index, button in enumerate((self.clear_button, self.undo_button, self.eraser_button, self.load_button,
                                        self.save_button, self.activations_button)):
            buttons.addWidget(button, *divmod(index, 2))  # two columns: the panel fits a narrow side dock
        side = QVBoxLayout()
        side.addWidget(QLabel("Network sees"))
        side.addWidget(self.preview_view)
        side.addWidget(self.guesses)
        side.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(self.pad, 1)
        top.addLayout(side)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 3)
        layout.addLayout(buttons)
        layout.addWidget(self.bars_plot, 2)
        layout.addWidget(self.note)

        self.network: engine.Network | None = None
        self.spec: dict | None = None
        self.field: int | None = None
        self.class_names: list[str] = []
        self.digit = np.zeros((MNIST_FIELD, MNIST_FIELD), dtype=np.float32)
        self.probabilities = np.zeros(0, dtype=np.float32)
        self.pad.drawing_changed.connect(self.classify)
        self.clear_button.clicked.connect(self.pad.clear)
        self.undo_button.clicked.connect(self.pad.undo_last_stroke)
        self.eraser_button.toggled.connect(self.pad.set_erasing)
        self.load_button.clicked.connect(self._choose_image)
        self.save_button.clicked.connect(self._choose_save_path)
        self.activations_button.clicked.connect(lambda: self.activations_requested.emit(self.digit.copy()))
        self.use_bundled_model()

    # -- which network reads the drawing -----------------------------------------------------------
    def use_bundled_model(self) -> None:
        """Read drawings with the seed CNN trained on MNIST that ships with LayerLab."""
        try:
            bundled = engine.load(resources.path(BUNDLED_MODEL))
        except (OSError, engine.ModelFileError) as exc:
            self._disable(f"Drawing is disabled: the bundled model could not be loaded ({exc}).")
            return
        # Rebuilt on NumPy: the file loads onto the current backend, which may be the GPU.
        self.use_weights(bundled.spec, bundled.state_dict())
        self.note.setText("Read by the bundled seed CNN (trained on MNIST, 99.2% test accuracy).")

    def use_weights(self, spec: dict, state_dict: dict, class_names=None) -> None:
        """Read drawings with ``spec``'s network holding ``state_dict`` (e.g. a training snapshot's weights).

        The network is rebuilt only when the spec changes; otherwise the weights are copied into the
        panel's own copy, so following snapshots costs one copy each.
        """
        if self.network is None or spec != self.spec:
            try:
                network = engine.Network(spec, xp=np)
            except (engine.SpecError, ValueError) as exc:
                return self._disable(f"Drawing is disabled: the network is not valid ({exc}).")
            field, why = digit_field(network.input_shape)
            if field is None or len(network.output_shape) != 1:
                return self._disable(why or "Drawing is disabled: this network's output is not one score per class.")
            self.network, self.spec, self.field = network, spec, field
        try:
            self.network.load_state_dict(state_dict)
        except ValueError as exc:
            return self._disable(f"Drawing is disabled: the weights do not fit the network ({exc}).")
        classes = int(self.network.output_shape[0])
        self.class_names = list(class_names) if class_names else [str(index) for index in range(classes)]
        self.note.setText(f"Read by {self.network.name or 'the network'}"
                          + ("" if self.field == MNIST_FIELD else f", the drawing resized to {self.field}x{self.field}")
                          + ".")
        self._set_enabled(True)
        self.bars.setOpts(x=np.arange(classes), height=np.zeros(classes))
        self.bars_plot.getAxis("bottom").setTicks([list(enumerate(self.class_names))])
        self.bars_plot.setXRange(-0.6, classes - 0.4, padding=0)
        self.classify()

    def _disable(self, why: str) -> None:
        self.network = None
        self.note.setText(why)
        self.guesses.setText("")
        self._set_enabled(False)

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.pad, self.bars_plot, self.activations_button, self.load_button):
            widget.setEnabled(enabled)

    # -- reading the drawing ------------------------------------------------------------------------
    def classify(self) -> None:
        """Preprocess the drawing, show it, run the network and update the bars and guesses."""
        if self.network is None:
            return
        field = self.field
        self.digit = mnist_style(self.pad.pixels(), field=field, box=round(field * MNIST_BOX / MNIST_FIELD))
        self.preview.setImage(self.digit, levels=(0.0, 1.0))
        if not self.digit.any():
            self.probabilities = np.zeros(len(self.class_names), dtype=np.float32)
            self.bars.setOpts(height=self.probabilities)
            self.guesses.setText("Draw a digit.")
            return
        x = self.digit.reshape((1, *self.network.input_shape))
        logits = np.asarray(self.network.forward(x, training=False)).reshape(-1)
        self.probabilities = softmax(logits.astype(np.float64)).astype(np.float32)
        self.bars.setOpts(height=self.probabilities)
        first, second = np.argsort(self.probabilities)[::-1][:2]
        names = self.class_names
        self.guesses.setText(f"I read <b>{names[first]}</b> ({self.probabilities[first]:.0%}); "
                             f"else {names[second]} ({self.probabilities[second]:.0%})")
        self.prediction_updated.emit(self.probabilities)

    # -- files --------------------------------------------------------------------------------------
    def load_image(self, path) -> None:
        """Classify the image file at ``path`` instead of a drawing (dark ink on light paper is inverted)."""
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(path) as image:
                grey = np.asarray(image.convert("L"), dtype=np.uint8)
        except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
            raise ValueError(f"{Path(path).name}: not a readable image ({exc})") from None
        if grey.mean() > 127:  # mostly light: a digit written on paper
            grey = 255 - grey
        self.pad.set_background(grey)

    def save_png(self, path) -> None:
        if not self.pad.canvas.save(str(path), "PNG"):
            raise OSError(f"{Path(path).name}: could not be written")

    def _choose_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load an image to classify", "",
                                              "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp)")
        if path:
            try:
                self.load_image(path)
            except ValueError as exc:
                QMessageBox.warning(self, "Load image", str(exc))

    def _choose_save_path(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the drawing", "drawing.png", "PNG images (*.png)")
        if path:
            try:
                self.save_png(path)
            except OSError as exc:
                QMessageBox.warning(self, "Save PNG", str(exc))
