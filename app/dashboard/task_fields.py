"""The training form's task fields: Loss, Target and Input noise.

Loss and Target are not training settings but part of the design: the spec's top-level "loss" and "target"
keys (docs/spec.md), edited through the document so that Ctrl+Z undoes them and the project saves them with
the network. The fields only say what the person chose (``task_edited``) and show what the document holds
(``show_task``); the window passes one to the other. A choice the design cannot have (binary cross-entropy
without a sigmoid output, cross-entropy on the input) is a design problem the engine names (rules "loss" and
"target shape"), shown in Problems and on a disabled Start like any other.

Input noise is a training setting (TrainingConfig.input_noise, kept in the project's "training"): the
standard deviation of the noise added to each training input while the target stays the clean example, a
denoising autoencoder. It means something only when the target is the input, so it is enabled only then.

    fields = TaskFields()
    fields.task_edited.connect(editor.set_task)     # {"loss": "mean_squared_error"} or {"target": "input"}
    document.task_changed.connect(fields.show_task)
    fields.noise()                                   # the noise a run uses now (0.0 unless the target is the input)
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox

from app.document.model import TASK_DEFAULTS

LOSSES = {"cross_entropy": "Cross-entropy — classify", "mean_squared_error": "Mean squared error",
          "binary_cross_entropy": "Binary cross-entropy"}
TARGETS = {"labels": "The labels", "input": "The input (autoencoder)"}

LOSS_TIP = ("What training makes small. Cross-entropy classifies: one score per class, compared with the label. "
            "Mean squared error and binary cross-entropy compare every output with its target value (binary "
            "cross-entropy reads probabilities: the output must end in a sigmoid). Part of the design: Ctrl+Z "
            "undoes a change.")
TARGET_TIP = ("What the output is compared with: the data set's labels, or the input itself (an autoencoder, "
              "which learns to reproduce what it reads). Part of the design: Ctrl+Z undoes a change.")
NOISE_TIP = ("Makes a denoising autoencoder: Gaussian noise of this standard deviation is added to each training "
             "image (then clipped to 0-1) while the target stays the clean image, so the network learns to "
             "remove noise. 0: off.")
NOISE_OFF_TIP = "Input noise makes a denoising autoencoder: it applies when the target is the input."


class TaskFields(QObject):
    task_edited = Signal(dict)  # a person's choice: {"loss": key} or {"target": key}

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._showing = False
        self._allowed = True
        self.loss = QComboBox()
        for key, label in LOSSES.items():
            self.loss.addItem(label, key)
        self.loss.setToolTip(LOSS_TIP)
        self.target = QComboBox()
        for key, label in TARGETS.items():
            self.target.addItem(label, key)
        self.target.setToolTip(TARGET_TIP)
        self.input_noise = QDoubleSpinBox()
        self.input_noise.setRange(0.0, 1.0)
        self.input_noise.setDecimals(2)
        self.input_noise.setSingleStep(0.05)
        self.input_noise.setSpecialValueText("off")
        self.input_noise.setKeyboardTracking(False)  # a typed value counts once, at Enter: one undo step
        self.loss.currentIndexChanged.connect(lambda _index: self._chosen("loss", self.loss))
        self.target.currentIndexChanged.connect(lambda _index: self._chosen("target", self.target))
        self._follow_target()

    def task(self) -> dict:
        """What the fields show: {"loss": ..., "target": ...}."""
        return {"loss": self.loss.currentData(), "target": self.target.currentData()}

    def show_task(self, task: dict) -> None:
        """Show the document's task (not an edit: ``task_edited`` stays quiet). A value this form does not list
        (a hand-written spec) is shown as it is spelled; the engine's design problem says what is wrong with it."""
        self._showing = True
        try:
            for key, combo in (("loss", self.loss), ("target", self.target)):
                value = task.get(key, TASK_DEFAULTS[key])
                index = combo.findData(value)
                if index < 0:
                    combo.addItem(str(value), value)
                    index = combo.count() - 1
                combo.setCurrentIndex(index)
        finally:
            self._showing = False
        self._follow_target()

    def reconstructs(self) -> bool:
        return self.target.currentData() == "input"

    def noise(self) -> float:
        """The input noise a run uses: the box's value where it applies (the target is the input), else 0."""
        return self.input_noise.value() if self.reconstructs() else 0.0

    def allow_edits(self, allowed: bool) -> None:
        """Off while a run trains (as the other fields): the run has its own copy of the design and settings."""
        self._allowed = allowed
        self.loss.setEnabled(allowed)
        self.target.setEnabled(allowed)
        self._follow_target()

    def _chosen(self, key: str, combo: QComboBox) -> None:
        self._follow_target()
        if not self._showing:
            self.task_edited.emit({key: combo.currentData()})

    def _follow_target(self) -> None:
        applies = self.reconstructs()
        self.input_noise.setEnabled(self._allowed and applies)
        self.input_noise.setToolTip(NOISE_TIP if applies else NOISE_OFF_TIP)
