"""The Draw panel: draw a digit and watch the network read it, bar by bar, as you draw, and see why.

    panel = DrawPanel()                            # the bundled seed CNN trained on MNIST
    panel.use_weights(run.spec, snapshot.weights)  # follow a training run's latest snapshot
    panel.activations_requested.connect(dashboard.show_example)
    panel.saliency_button.setChecked(True)         # a heat map of what the top class rests on, over the drawing
    panel.pen_down_changed                         # the stroke began / its reading is shown (app/pen_down.py)

A network that reads colour images (3xHxW) gets an image drop target instead of the pad (app/draw/image_mode.py):
drop, paste or open a picture, and the bars read it with the data set's class names.

A network trained to give its input back (an autoencoder: the spec's "target" is "input") has no classes to
read: beside what it sees, the panel shows what it makes of it (its output, live as you draw), in place of the
bars and the "Why?" map (app/draw/saliency_display.py).

The network runs in a reader process of its own (app/draw/reader_client.py), never on the GUI thread: the
panel sends each drawing and shows each answer when it comes, newest first; an answer older than one
already shown (or than a clear) is dropped.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

import engine
import resources
from app.document.networks import design_report
from app.draw.digit_views import PREVIEW_SCALE, DigitPreview, ProbabilityBars
from app.draw.image_mode import PLACEHOLDER, ImageInput
from app.draw.network_choice import BUNDLED_CAPTION
from app.draw.pad import DrawingPad
from app.draw.pad_files import choose_image, choose_save_path, load_ink, save_png
from app.draw.pen_state import PenState
from app.draw.preprocess import MNIST_FIELD
from app.draw.reader import colour_shape, digit_field
from app.draw.reader_client import ReaderClient
from app.draw.saliency_display import SaliencyDisplay
from app.refcount_guard import protect_singletons

BUNDLED_MODEL = "models/seed-cnn-mnist.llmodel"
RECONSTRUCTION_NOTE = " It is trained to give its input back: beside what it sees, what it makes of it."


def _tool_button(text: str, tip: str, checkable: bool = False) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.setCheckable(checkable)
    button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return button


class DrawPanel(QWidget):
    activations_requested = Signal(object)  # the preprocessed digit, (field, field) float32 in [0, 1]
    prediction_updated = Signal(object)  # the class probabilities just shown
    saliency_updated = Signal(object)  # the heat map just shown over the drawing, (field, field) in [0, 1]
    pen_down_changed = Signal(bool)  # True: a stroke started; False: it finished and is read (app/draw/pen_state.py)

    def __init__(self, parent: QWidget | None = None, reader_mode: str | None = None):
        super().__init__(parent)
        protect_singletons()  # readings arrive as signals many times a second
        self.pad = DrawingPad()
        self.image_input = ImageInput()  # in the pad's place for a colour model
        self.input_stack = QStackedWidget()
        self.input_stack.addWidget(self.pad)
        self.input_stack.addWidget(self.image_input)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.guesses = QLabel("Draw a digit.")
        self.guesses.setWordWrap(True)  # it sits in the narrow column beside the pad
        self.guesses.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        # A fixed size: a label whose text changes with every reading would otherwise ask its dock and the
        # whole window to lay themselves out again, up to 60 times a second.
        self.guesses.setFixedSize(MNIST_FIELD * PREVIEW_SCALE, 4 * self.guesses.fontMetrics().lineSpacing())
        self.guesses.setAutoFillBackground(True)  # opaque, so its repaints need not repaint the window under it
        self.preview = DigitPreview()
        self.bars = ProbabilityBars()
        # An autoencoder's output for what it sees, beside it (shown only for such a network).
        self.reconstruction_title = QLabel("Network makes")
        self.reconstruction_preview = DigitPreview()
        self.reconstruction: np.ndarray | None = None  # the reconstruction on screen, shaped as the digit
        self.reconstructs = False
        self.why = SaliencyDisplay(self.preview, self.pad, self.image_input.pad, self)
        self.saliency_method, self.map_note = self.why.method, self.why.note

        self.clear_button = _tool_button("Clear", "Wipe the pad")
        self.undo_button = _tool_button("Undo", "Remove the last stroke")
        self.eraser_button = _tool_button("Eraser", "Strokes erase while this is on", checkable=True)
        self.load_button = _tool_button("Load…", "Classify an image file instead of a drawing")
        self.save_button = _tool_button("Save…", "Save the drawing as a PNG")
        self.saliency_button = _tool_button("Why?", "Show over the drawing what the top guess rests on",
                                            checkable=True)
        self.activations_button = _tool_button("Layers", "Show every layer's response to the drawing "
                                               "(the Activations tab of the training dashboard)")
        tools = QGridLayout()
        tools.setSpacing(3)
        self.drawing_tools = (self.clear_button, self.undo_button, self.eraser_button, self.load_button,
                              self.save_button)
        for column, button in enumerate(self.drawing_tools):
            tools.addWidget(button, 0, column)
        tools.addWidget(self.saliency_button, 1, 0)
        tools.addWidget(self.saliency_method, 1, 1, 1, 3)
        tools.addWidget(self.activations_button, 1, 4)
        side = QVBoxLayout()
        side.addWidget(QLabel("Network sees"))
        side.addWidget(self.preview)
        side.addWidget(self.reconstruction_title)
        side.addWidget(self.reconstruction_preview)
        side.addWidget(self.guesses)
        side.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(self.input_stack, 1)
        top.addLayout(side)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(top, 3)
        layout.addLayout(tools)
        layout.addWidget(self.map_note)
        layout.addWidget(self.bars, 2)
        self.bars_room = QWidget()  # keeps the bars' room while they are hidden: the pad stays by its buttons
        self.bars_room.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        layout.addWidget(self.bars_room, 2)
        self.bars_room.hide()
        layout.addWidget(self.note)

        self.spec: dict | None = None
        self.weights: dict = {}
        self.field: int | None = None
        self.image_shape: tuple | None = None  # (3, H, W) for a colour model: the image mode
        self.class_names: list[str] = []
        self.model_name = ""
        self.digit = np.zeros((MNIST_FIELD, MNIST_FIELD), dtype=np.float32)
        self.probabilities = np.zeros(0, dtype=np.float32)
        self._placement = None  # where the shown digit's square lies on the pad
        self._requested = 0  # the id of the newest drawing sent to the reader
        self._shown = 0  # the id of the newest drawing whose reading is on screen (or of a clear)
        self._network_version = 0
        self._shown_version = 0  # the network version that read the drawing on screen
        self._shapes_spec: dict | None = None  # the spec whose shapes and task ``_shapes`` holds
        self._shapes: tuple = ((), None, False)
        self._bundled: tuple[dict, dict] | None = None  # the bundled model's (spec, weights), once read
        self.reader = ReaderClient(self, mode=reader_mode)
        self.reader.reading_arrived.connect(self._show_reading)
        self.reader.saliency_arrived.connect(self._show_saliency)
        self.reader.read_failed.connect(self._read_failed)
        self.reader.network_failed.connect(self._network_failed)
        self.reader.network_loaded.connect(self._network_loaded)
        self.pad.pointer_entered.connect(self.reader.start)  # ~0.5 s start-up, hidden before the first stroke
        self.image_input.pad.pointer_entered.connect(self.reader.start)
        self.image_input.picture_ready.connect(lambda _picture: self.classify())
        self.pad.drawing_changed.connect(self.classify)
        self.pen = PenState(lambda: self.reading_is_current, self)
        self.pad.stroke_started.connect(self.pen.stroke_started)
        self.pad.stroke_finished.connect(self.pen.stroke_finished)
        self.pen.changed.connect(self.pen_down_changed)
        self.bars.painted.connect(self.pen.reading_shown)  # once the reading is on screen, not before its paint
        self.reconstruction_preview.painted.connect(self.pen.reading_shown)
        self.why.updated.connect(self.saliency_updated)
        self.clear_button.clicked.connect(self.pad.clear)
        self.undo_button.clicked.connect(self.pad.undo_last_stroke)
        self.eraser_button.toggled.connect(self.pad.set_erasing)
        self.load_button.clicked.connect(lambda: choose_image(self, self.pad))
        self.save_button.clicked.connect(lambda: choose_save_path(self, self.pad))
        self.saliency_button.toggled.connect(self._saliency_toggled)
        self.saliency_method.currentIndexChanged.connect(lambda _index: self.classify())
        self.activations_button.clicked.connect(lambda: self.activations_requested.emit(self.digit.copy()))
        self.use_bundled_model()

    # -- which network reads the drawing -----------------------------------------------------------
    def use_bundled_model(self, caption: str | None = None) -> None:
        """Read drawings with the seed CNN trained on MNIST that ships with LayerLab (read from disk once)."""
        if self._bundled is None:
            try:
                bundled = engine.load(resources.path(BUNDLED_MODEL))
            except (OSError, engine.ModelFileError) as exc:
                self.disable(f"Drawing is disabled: the bundled model could not be loaded ({exc}).")
                return
            self._bundled = (bundled.spec, bundled.state_dict())
        spec, weights = self._bundled
        self.use_weights(spec, weights, caption=caption or f"{BUNDLED_CAPTION}.")
        self.model_name = "the bundled seed CNN"

    @property
    def heat(self) -> np.ndarray | None:
        """The saliency map shown, if any."""
        return self.why.heat

    @property
    def reads_bundled_model(self) -> bool:
        return self._bundled is not None and self.spec is self._bundled[0]

    def use_weights(self, spec: dict, state_dict: dict, class_names=None, caption: str | None = None) -> None:
        """Read drawings with ``spec``'s network holding ``state_dict`` (e.g. a training snapshot's weights,
        which nobody mutates: the reader is handed them as they are, not copied). ``caption`` says whose
        network reads (default: its name)."""
        try:
            input_shape, output_shape, reconstructs = self._shapes_of(spec)
        except engine.SpecError as exc:
            return self.disable(f"Drawing is disabled: the network is not valid ({exc}).")
        field, why = digit_field(input_shape)
        image_shape = colour_shape(input_shape)
        if (field is None and image_shape is None) or not reconstructs and len(output_shape or ()) != 1:
            return self.disable(why or "Drawing is disabled: this network's output is not one score per class.")
        self.spec, self.weights, self.field = spec, state_dict, field
        self._set_image_mode(image_shape)
        self._set_reconstruction_mode(reconstructs)
        self._network_version = self.reader.set_network(spec, state_dict)
        classes = 0 if reconstructs else 2 if int(output_shape[0]) == 1 else int(output_shape[0])  # 1 output: 2
        self.class_names = list(class_names) if class_names and not reconstructs else [str(i) for i in range(classes)]
        self.model_name = spec.get("name") or "the network"
        resized = "" if field in (MNIST_FIELD, None) else f" The drawing is resized to {field}x{field}."
        if image_shape is not None:
            resized = f" Pictures are resized to {image_shape[2]}x{image_shape[1]}."
        self.note.setText((caption or f"Read by {self.model_name}.") + resized + RECONSTRUCTION_NOTE * reconstructs)
        self._set_enabled(True)
        if len(self.probabilities) != classes:  # else the bars stay until the new weights' reading replaces them
            self.probabilities = np.zeros(classes, dtype=np.float32)
        self.bars.set_probabilities(self.probabilities, self.class_names)
        self.classify()

    def _shapes_of(self, spec: dict) -> tuple[tuple, tuple | None, bool]:
        """(input shape, output shape, whether it gives its input back: an autoencoder, whose output is an image of
        the input's size by the engine's rule) of ``spec``'s network, kept for the same spec object: a training run
        sends its one spec with every snapshot, and shape inference takes the GUI thread 1.5-2 ms (raises
        engine.SpecError for an invalid network)."""
        if spec is not self._shapes_spec:
            report = design_report(spec)  # the document's report of this design, not another inference
            if report.errors:
                raise report.errors[0]
            self._shapes_spec = spec
            self._shapes = (report.input_node.output_shape, report.output_shape, report.target == "input")
        return self._shapes

    def _set_image_mode(self, image_shape: tuple | None) -> None:
        """The drop target for a colour model, the drawing pad and its tools for any other; in image mode the
        guesses have room for a two-word class name in large type and its runner-up."""
        self.image_shape, drawing = image_shape, image_shape is None
        self.image_input.set_shape(image_shape)
        self.input_stack.setCurrentWidget(self.pad if drawing else self.image_input)
        self.guesses.setFixedHeight((4 if drawing else 6) * self.guesses.fontMetrics().lineSpacing())
        for button in self.drawing_tools:  # disabled too: Draw > Clear Pad and Undo Stroke follow them
            button.setVisible(drawing)
            button.setEnabled(drawing)

    def _set_reconstruction_mode(self, on: bool) -> None:
        """For an autoencoder: its reconstruction beside what it sees, and no class bars nor "Why?" map (there
        is no class to explain)."""
        self.reconstructs = on
        self.reconstruction_title.setVisible(on)
        self.reconstruction_preview.setVisible(on)
        self.bars.setVisible(not on)
        self.bars_room.setVisible(on)
        for widget in (self.saliency_button, self.saliency_method):
            widget.setVisible(not on)
        if on and self.saliency_button.isChecked():
            self.saliency_button.setChecked(False)

    @property
    def input_is_blank(self) -> bool:
        """Nothing to read: a blank pad, or no picture yet in image mode."""
        return self.image_input.picture is None if self.image_shape is not None else self.pad.is_blank()

    def disable(self, why: str, input_shape: tuple | None = None) -> None:
        """Drawing is off; the caption says ``why``. With the design's ``input_shape``, the panel shows what it
        will take once trained: the drop target for a colour design (not a black pad), the pad for another."""
        if input_shape is not None:
            self._set_image_mode(colour_shape(input_shape))
        self.spec = None
        self.note.setText(why)
        self.guesses.setText("")
        self._set_enabled(False)

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.pad, self.image_input, self.bars, self.activations_button, self.load_button):
            widget.setEnabled(enabled)
        for widget in (self.saliency_button, self.saliency_method):  # an autoencoder has no class to explain
            widget.setEnabled(enabled and not self.reconstructs)

    def _network_failed(self, version: int, why: str) -> None:
        if version == self._network_version:
            self.disable(f"Drawing is disabled: the weights do not fit the network ({why}).")

    # -- reading the drawing ------------------------------------------------------------------------
    @property
    def chosen_saliency(self) -> str | None:
        """The saliency method to ask for with each reading, or None while the map is off."""
        return self.saliency_method.currentData() if self.saliency_button.isChecked() else None

    @property
    def reading_is_current(self) -> bool:
        """The reading on screen is of the drawing as it is now, by the network as it is now: no change or
        answer is on its way."""
        return (not self.pad.change_pending and self._shown == self._requested
                and (self._shown_version >= self._network_version or self.input_is_blank))

    def _network_loaded(self, version: int) -> None:
        """The reader has the newest weights in: read the drawing again if older ones read what is shown."""
        if version == self._network_version and self._shown_version < version and not self.input_is_blank:
            self.classify()

    def classify(self) -> None:
        """Send the drawing to the reader (returns at once); a blank pad is shown as blank right away. (An
        autoencoder's reading is its reconstruction.)"""
        if self.spec is None:
            return
        if self.image_shape is not None:  # a ready picture, read as it is (None: none yet)
            pixels = self.image_input.pixels()
        else:
            pixels = self.pad.pixels()
            pixels = pixels if pixels.any() else None
        self._requested += 1
        if pixels is None:
            self.reader.cancel()
            self._shown = self._requested  # anything still on its way is older than this clear
            self._show_blank()
            return
        self.reader.request(self._requested, pixels, self.chosen_saliency)

    def _show_blank(self) -> None:
        self.digit = np.zeros(self.image_shape or (self.field, self.field), dtype=np.float32)
        self.preview.set_digit(self.digit)
        self.probabilities = np.zeros(len(self.class_names), dtype=np.float32)
        self.bars.set_probabilities(self.probabilities)
        self.guesses.setText(f"{PLACEHOLDER}." if self.image_shape is not None else "Draw a digit.")
        self._placement = None
        self.reconstruction = np.zeros_like(self.digit)
        self.reconstruction_preview.set_digit(self.reconstruction)
        self.why.show_heat(None)
        self.why.show_note("")

    def _show_reading(self, reading) -> None:
        if reading.request_id <= self._shown or self.spec is None:
            return  # a newer drawing, or a clear, is on screen already
        if reading.placement is None:  # nothing but faint specks: the reader saw a blank pad
            self._show_blank()
            self._shown, self._shown_version = reading.request_id, reading.network_version
            return
        self._shown, self._shown_version = reading.request_id, reading.network_version
        self.digit, self._placement = reading.digit, reading.placement
        self.preview.set_digit(self.digit)
        if reading.reconstruction is not None:
            self._show_reconstruction(reading.reconstruction)
            return
        self.probabilities = reading.probabilities
        self.bars.set_probabilities(self.probabilities)
        first, second = np.argsort(self.probabilities)[::-1][:2]
        names = self.class_names
        self.guesses.setText(f"I read <b style='font-size:large'>{names[first]}</b> ({self.probabilities[first]:.0%})"
                             f"<br>else {names[second]} ({self.probabilities[second]:.0%})")
        self.prediction_updated.emit(self.probabilities)

    def _show_reconstruction(self, reconstruction: np.ndarray) -> None:
        """An autoencoder's output for the digit on screen, beside it, and how far it is from it."""
        self.reconstruction = reconstruction
        self.reconstruction_preview.set_digit(reconstruction)
        error = float(np.mean((np.clip(reconstruction, 0.0, 1.0) - self.digit) ** 2))
        self.guesses.setText(f"Mean squared error: <b>{error:.3f}</b>")  # the column is narrow: a few words

    def _show_saliency(self, saliency) -> None:
        if saliency.request_id == self._shown and self.chosen_saliency is not None:  # else: of a drawing gone,
            self.why.show(saliency, self._placement, self.image_shape is not None)  # or the map was switched off

    def _saliency_toggled(self, on: bool) -> None:
        self.saliency_method.setEnabled(self.spec is not None)
        self.map_note.setVisible(on)
        if on:
            self.classify()  # ask for the map of the drawing as it is
        else:
            self.why.show_heat(None)
            self.why.show_note("")

    def _read_failed(self, request_id: int, why: str) -> None:
        if self.spec is None:
            return  # disabled: the note says why already
        if request_id == -1 or request_id > self._shown:
            self.note.setText(f"Could not read the drawing: {why}")

    # -- files (app/draw/pad_files.py) -----------------------------------------------------------------
    def load_image(self, path) -> None:
        """Classify the image file at ``path`` instead of a drawing; ``engine.UserFileError`` names a refused one."""
        load_ink(self.pad, path)

    def save_png(self, path) -> None:
        save_png(self.pad, path)
