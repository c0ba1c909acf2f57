"""The training form's "Augmentation" group: shifts, rotations, flips and noise, with a preview of what they do.

    box = AugmentationBox()
    box.config()                        # {"shift": 2, "rotation": 10.0, ...} (TrainingConfig.augment), or False
    box.load_config(value, refuse, number_problem)   # a project's "augment"; bad values refused in words
    box.set_dataset("mnist")            # the preview shows that set's images; a 2-D toy set turns the group off
    box.changed.connect(...)            # the person changed a setting (or turned the group on or off)

The group is checkable and collapses when off, so the form is as short as before until someone wants it.
The preview's sample is read on a background thread (engine.datasets.load, cached after the first time) and
only while the group is on; the draws themselves are a few images, computed on the GUI thread.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

import engine
from app.dashboard.augmentation_preview import AugmentationPreview, load_preview_sample
from app.dashboard.background import BackgroundTasks
from app.tones import follow_tone

TOY_PREFIX = "toy:"
DRAWS = 4  # random draws shown per training image
PREVIEW_SEED = 2022  # the preview's draws are numbered from it: new ones at each redraw, the same in every test
# What the group shows when it is turned on, and what True meant before augment became a dict.
DEFAULTS = {"shift": 2, "rotation": 10.0, "flip_horizontal": False, "flip_vertical": False, "noise": 0.0}
OFF = {"shift": 0, "rotation": 0.0, "flip_horizontal": False, "flip_vertical": False, "noise": 0.0}
FLIP_TIP = ("Mirror half the images at random. Suits photos (a mirrored cat is still a cat), not digits or "
            "letters: a mirrored 2 is no 2.")


class AugmentationBox(QGroupBox):
    changed = Signal()  # a setting changed, or the group was turned on or off

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Augmentation", parent)
        self.setCheckable(True)
        self.setChecked(False)
        self.setToolTip("Train on randomly shifted, rotated, flipped or noisy copies of the training images")
        self._dataset: str | None = None
        self._sample = None  # the PreviewSample of self._dataset, once loaded
        self._loading: str | None = None  # the data set whose sample is being read
        self._draws = 0
        self._quiet = False
        self.tasks = BackgroundTasks(self)

        self.shift = QSpinBox()
        self.shift.setRange(0, 8)
        self.shift.setSuffix(" px")
        self.shift.setSpecialValueText("off")
        self.shift.setToolTip("Move each image up to this many pixels, across and down")
        self.rotation = QDoubleSpinBox()
        self.rotation.setRange(0.0, 180.0)
        self.rotation.setDecimals(1)
        self.rotation.setSingleStep(5.0)
        self.rotation.setSuffix("°")
        self.rotation.setSpecialValueText("off")
        self.rotation.setToolTip("Turn each image by a random angle up to this many degrees either way")
        self.flip_horizontal = QCheckBox("Flip horizontally")
        self.flip_vertical = QCheckBox("Flip vertically")
        for box in (self.flip_horizontal, self.flip_vertical):
            box.setToolTip(FLIP_TIP)
        self.noise = QDoubleSpinBox()
        self.noise.setRange(0.0, 0.5)
        self.noise.setDecimals(3)
        self.noise.setSingleStep(0.05)
        self.noise.setSpecialValueText("off")
        self.noise.setToolTip("Add Gaussian noise of this standard deviation (pixels run from 0 to 1)")
        self.shuffle_button = QPushButton("Shuffle")
        self.shuffle_button.setToolTip("New random draws for the preview")
        self.preview = AugmentationPreview()
        # Said in place of the fields when the data set is not made of images (the group is off then).
        self.not_images = QLabel("Augmentation is for images; this data set is points.")
        self.not_images.setWordWrap(True)
        # In a tone's colour, which a style sheet keeps when the group is off (the greyed text was hard to read).
        follow_tone(self.not_images, "warning")
        self.not_images.hide()

        # The fields and the preview sit in one body, hidden while the group is off: the form stays short.
        self.body = QWidget()
        fields = QFormLayout()
        fields.setContentsMargins(0, 0, 0, 0)
        fields.addRow("Shift ±", self.shift)
        fields.addRow("Rotate ±", self.rotation)
        fields.addRow(self.flip_horizontal)
        fields.addRow(self.flip_vertical)
        fields.addRow("Noise σ", self.noise)
        shuffle_row = QHBoxLayout()
        shuffle_row.addWidget(QLabel(f"Preview: image, {DRAWS} draws"))
        shuffle_row.addStretch(1)
        shuffle_row.addWidget(self.shuffle_button)
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addLayout(fields)
        body.addLayout(shuffle_row)
        body.addWidget(self.preview)
        layout = QVBoxLayout(self)
        layout.addWidget(self.not_images)
        layout.addWidget(self.body)
        self._set_boxes(DEFAULTS)
        self._show_body()

        self.toggled.connect(self._turned)
        for box in (self.shift, self.rotation, self.noise):
            box.valueChanged.connect(self._setting_changed)
        for box in (self.flip_horizontal, self.flip_vertical):
            box.toggled.connect(self._setting_changed)
        self.shuffle_button.clicked.connect(self.redraw)

    # -- what the form asks ------------------------------------------------------------------------------
    def config(self) -> dict | bool:
        """The settings as TrainingConfig.augment takes them: a dict, or False when off (or all at zero)."""
        if not self.isChecked():
            return False
        config = {"shift": self.shift.value(), "rotation": self.rotation.value(),
                  "flip_horizontal": self.flip_horizontal.isChecked(), "flip_vertical": self.flip_vertical.isChecked(),
                  "noise": self.noise.value()}
        return config if config != OFF else False

    def applies(self) -> bool:
        """Whether augmentation means anything for the chosen data set (images, not a toy set's points)."""
        return not (self._dataset or "").startswith(TOY_PREFIX)

    def load_config(self, value, refuse, number_problem) -> None:
        """Show a project's "augment": False/absent (off), True (its old meaning: shift 2, rotation 10) or a
        dict of the keys in DEFAULTS (a missing key is off). A value the boxes cannot show is refused with
        ``refuse(field, value, why, default)`` and shows off; ``number_problem(value, box)`` says why a number
        does not fit a box. An unknown key is refused too: the engine refuses it, and a misspelt setting that
        silently did nothing would leave the group on with no effect."""
        self._quiet = True
        try:
            self._set_boxes(DEFAULTS)
            self.setChecked(False)
            if value is None or value is False:
                return
            if value is True:
                value = dict(DEFAULTS)
            if not isinstance(value, dict):
                refuse("augment", value, 'is neither true, false nor settings like {"shift": 2, "rotation": 10}',
                       "off")
                return
            shown = dict(OFF)
            for key in sorted(set(value) - set(DEFAULTS), key=str):  # a typo ("rotate") would otherwise do nothing
                refuse(f"augment.{key}", value[key], f"is not one of the settings ({', '.join(DEFAULTS)})", "off")
            for key, box in (("shift", self.shift), ("rotation", self.rotation), ("noise", self.noise)):
                given = value.get(key)
                problem = None if given is None else number_problem(given, box)
                if problem:
                    refuse(f"augment.{key}", given, problem, "off")
                elif given is not None:
                    shown[key] = given
            for key in ("flip_horizontal", "flip_vertical"):
                given = value.get(key)
                if given is not None and not isinstance(given, bool):
                    refuse(f"augment.{key}", given, "is not true or false", "off")
                elif given is not None:
                    shown[key] = given
            self._set_boxes(shown)
            self.setChecked(True)
        finally:
            self._quiet = False
            self._refresh_preview()

    def allow_edits(self, allowed: bool) -> None:
        """Off while a run trains (its settings are fixed at Start); never on for a set of points."""
        self.setEnabled(allowed and self.applies())

    def set_dataset(self, key: str | None) -> None:
        """The preview follows the form's data set; a toy set's points cannot be augmented: the group is off."""
        if key == self._dataset:
            return
        self._dataset, self._sample = key, None
        images = self.applies()
        self.setEnabled(images)
        self.not_images.setVisible(not images)
        self._show_body()
        self._refresh_preview()

    # -- the preview ---------------------------------------------------------------------------------------
    def redraw(self) -> None:
        """New random draws of the sample images (the Shuffle button; each setting change)."""
        sample = self._sample
        if sample is None or sample.images is None:
            return
        originals = sample.images
        config = self.config()
        if config is False:  # off: every draw is the image itself
            augmented = np.repeat(originals[:, None], DRAWS, axis=1)
        else:
            augment = engine.datasets.Augmentation.from_config(config)
            self._draws += 1
            rng = np.random.default_rng([PREVIEW_SEED, self._draws])
            batch = np.repeat(originals, DRAWS, axis=0)
            augmented = np.clip(augment(batch, rng), 0.0, 1.0).reshape(len(originals), DRAWS, *originals.shape[1:])
        self.preview.show_examples(originals, augmented)

    def _refresh_preview(self) -> None:
        """Read the sample if the preview needs one it has not got; otherwise draw again."""
        if self._quiet or not self.isChecked() or not self.applies() or self._dataset is None:
            return
        if self._sample is not None:
            if self._sample.images is None:
                self.preview.show_message(self._sample.message)
            else:
                self.redraw()
            return
        if self._loading == self._dataset:
            return  # on its way
        key = self._loading = self._dataset
        self.preview.show_message("Loading a few examples…")
        self.tasks.submit(lambda _report: load_preview_sample(key), on_success=self._sample_loaded,
                          on_failure=lambda message: self._sample_failed(key, message))

    def _sample_loaded(self, sample) -> None:
        if self._loading == sample.key:
            self._loading = None
        if sample.key != self._dataset:  # the person chose another set meanwhile: that one's turn
            self._refresh_preview()
            return
        self._sample = sample
        self._refresh_preview()

    def _sample_failed(self, key: str, message: str) -> None:
        if self._loading == key:
            self._loading = None
        if key == self._dataset:
            self.preview.show_message(f"No preview: {message}")
        else:
            self._refresh_preview()

    # -- the person's edits ----------------------------------------------------------------------------
    def _show_body(self) -> None:
        """The fields and preview while the group is on (for images); folded away otherwise."""
        shown = self.isChecked() and self.applies()
        self.body.setVisible(shown)
        # Each control hidden on its own too: a folded control is hidden, not merely inside something hidden
        # (what tests/app/window_fit_checks.py asks of every control it finds).
        for widget in (self.shift, self.rotation, self.flip_horizontal, self.flip_vertical, self.noise,
                       self.shuffle_button):
            widget.setVisible(shown)

    def _turned(self, _on: bool) -> None:
        self._show_body()
        if not self._quiet:
            self._refresh_preview()
            self.changed.emit()

    def _setting_changed(self, *_args) -> None:
        if not self._quiet:
            self._refresh_preview()
            self.changed.emit()

    def _set_boxes(self, values: dict) -> None:
        self.shift.setValue(int(values["shift"]))
        self.rotation.setValue(float(values["rotation"]))
        self.flip_horizontal.setChecked(bool(values["flip_horizontal"]))
        self.flip_vertical.setChecked(bool(values["flip_vertical"]))
        self.noise.setValue(float(values["noise"]))
