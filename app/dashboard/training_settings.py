"""The training settings form: data set, optimizer and its settings, schedule, batch, epochs, L2, ...

    form = TrainingSettingsForm()
    settings = form.settings()          # a RunSettings (ValueError naming the bad field)
    form.load_settings(project_dict)    # show a project's settings; a field it cannot show is refused, in words
    form.settings_edited.connect(...)   # the person changed one: the project's settings dict, to save
    form.settings_refused.connect(...)  # the messages of the last load (each names its "training.<field>")
    form.task_edited.connect(...)       # Loss or Target chosen: {"loss": ...} / {"target": ...}, for the document
    form.show_task(document.task)       # the design's task, shown (task_fields.py)

The form's groups of fields live beside it: Loss, Target and Input noise in task_fields.py, the optimizer and
its own settings (read from its signature) in optimizer_fields.py, Augmentation in augmentation_box.py, the
TensorBoard option in tensorboard_option.py; its number boxes, and the words refusing a project's number that
does not fit one, in form_numbers.py. This module lays them out and reads and writes a project's settings.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QSpinBox, QWidget

import engine
from app.dashboard.augmentation_box import AugmentationBox
from app.dashboard.form_numbers import number_problem, number_text, shown, spin_box
from app.dashboard.optimizer_fields import OptimizerFields
from app.dashboard.run_controller import SCHEDULES, RunSettings
from app.dashboard.run_data import clear_dataset_shapes, dataset_choices
from app.dashboard.task_fields import TaskFields
from app.dashboard.tensorboard_option import TensorBoardOption
from app.tones import follow_tone

MIN_COMBO_CHARACTERS = 10
FORM_ROW_SPACING = 4


def _is_sha256(value) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdefABCDEF" for c in value)


class DatasetBox(QComboBox):
    """The Data set box; it says when it is about to open, so the form can list the sets as they are then."""

    about_to_open = Signal()

    def showPopup(self) -> None:
        self.about_to_open.emit()
        super().showPopup()


class TrainingSettingsForm(QWidget):
    settings_edited = Signal(dict)  # a person changed a setting a project keeps: project_settings()
    settings_refused = Signal(list)  # after each load: why each field not shown as the project says was refused
    task_edited = Signal(dict)  # Loss or Target chosen: the design's task keys to change (app/dashboard/task_fields.py)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._loading = False
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        # Tighter than the style's 6 px: every field in sight at 1280x720 (tests/app/window_fit_checks.py).
        self.form.setVerticalSpacing(FORM_ROW_SPACING)
        # Fields of the project the form could not show as they are (each shows its default instead).
        self.refusals = QLabel()
        self.refusals.setWordWrap(True)
        follow_tone(self.refusals, "warning")
        self.refusals.hide()
        self.dataset = DatasetBox()
        self.dataset.about_to_open.connect(self._refresh_datasets_if_changed)
        self.dataset_checksums: dict[str, str] = {}  # imported sets: name -> checksum, kept with a project
        self._fill_datasets()
        self.train_limit = spin_box(0, 10_000_000, 0)
        self.train_limit.setSpecialValueText("all")
        self.train_limit.setToolTip("Train on the first N examples only (0: all of them)")
        # Loss and Target belong to the design (the spec), Input noise to the training settings.
        self.task = TaskFields(self)
        self.task.task_edited.connect(self.task_edited)
        self.optimizer_fields = OptimizerFields(self.form)
        self.optimizer = self.optimizer_fields.optimizer
        self.learning_rate = self.optimizer_fields.learning_rate
        self.schedule = QComboBox()
        for key, label in SCHEDULES.items():
            self.schedule.addItem(label, key)
        self.batch_size = spin_box(1, 4096, 50)
        self.epochs = spin_box(1, 1000, 2)
        self.l2 = spin_box(0.0, 1.0, 0.0, decimals=5, step=1e-4)
        self.validation = spin_box(0.0, 0.5, 0.1, decimals=2, step=0.05)
        self.early_stopping = spin_box(0, 100, 0)
        self.early_stopping.setSpecialValueText("off")
        self.early_stopping.setToolTip("Stop after this many epochs without a better validation accuracy (or, "
                                       "for a network that does not classify, a lower validation loss)")
        self.seed = spin_box(0, 2**31 - 1, 0)
        self.backend = QComboBox()
        self.backend.addItem("CPU (NumPy)", "numpy")
        self.backend.addItem("GPU (CuPy)", "cupy")
        usable, reason = engine.backend.cupy_status()
        self.backend.setItemData(1, reason, 3)  # Qt.ToolTipRole
        if not usable:  # choosing it still works: the run falls back to the CPU and says why
            self.backend.setItemText(1, "GPU (CuPy) – not found")

        for label, widget in (("Data set", self.dataset), ("Examples", self.train_limit),
                              ("Loss", self.task.loss), ("Target", self.task.target),
                              ("Input noise", self.task.input_noise),
                              ("Optimizer", self.optimizer), ("Learning rate", self.learning_rate),
                              ("Schedule", self.schedule), ("Batch size", self.batch_size),
                              ("Epochs", self.epochs), ("L2", self.l2), ("Validation", self.validation),
                              ("Early stopping", self.early_stopping), ("Seed", self.seed),
                              ("Backend", self.backend)):
            self.form.addRow(label, widget)
            if isinstance(widget, QComboBox):
                # A long data set name must not widen the form past its column: the box shows what fits
                # (the open list shows it whole), so the Train workspace keeps every field in sight.
                widget.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
                widget.setMinimumContentsLength(MIN_COMBO_CHARACTERS)
        # A run setting, like the backend: "tensorboard": true in the project (tensorboard_option.py).
        self.tensorboard = TensorBoardOption()
        self.form.addRow(self.tensorboard)
        # Below every field: the group collapses while off, and its preview stays out of the fields' way.
        self.augmentation = AugmentationBox()
        self.form.addRow(self.augmentation)
        self.form.insertRow(0, self.refusals)
        self.optimizer.currentTextChanged.connect(self.optimizer_fields.show_settings)
        self.optimizer.setCurrentText("Adam")
        self.optimizer_fields.show_settings(self.optimizer.currentText())
        # What a field shows when a project does not say, or says something the form cannot show.
        self.defaults = {"dataset": "mnist" if self.dataset.findData("mnist") >= 0 else self.dataset.itemData(0),
                         "optimizer": self.optimizer.currentText(), "lr": self.learning_rate.value(),
                         **{key: box.value() for key, box in self._number_fields().items()}}
        self.dataset.currentIndexChanged.connect(self._edited)
        self.augmentation.set_dataset(self.dataset.currentData())
        self.dataset.currentIndexChanged.connect(lambda: self.augmentation.set_dataset(self.dataset.currentData()))
        self.augmentation.changed.connect(self._edited)
        self.tensorboard.edited.connect(self._edited)
        self.optimizer.currentIndexChanged.connect(self._edited)
        for box in (self.learning_rate, self.batch_size, self.epochs, self.l2, self.early_stopping, self.seed,
                    self.task.input_noise):
            box.valueChanged.connect(self._edited)

    @property
    def optimizer_settings(self) -> dict[str, QWidget]:
        """The chosen optimizer's own settings' widgets, by name (remade with each choice of optimizer)."""
        return self.optimizer_fields.settings

    def _edited(self, *_args) -> None:
        if not self._loading:
            self.settings_edited.emit(self.project_settings())

    def project_settings(self) -> dict:
        """The settings a project file keeps, in its format (TrainingConfig's names plus "dataset")."""
        settings = {"dataset": self.dataset.currentData(), "epochs": self.epochs.value(),
                    "batch_size": self.batch_size.value(),
                    "optimizer": {"name": self.optimizer.currentText().lower(), "lr": self.learning_rate.value()},
                    "seed": self.seed.value()}
        checksum = self.dataset_checksums.get(self.dataset.currentData())
        if checksum:  # an imported set: a project opened on another computer can say which data it needs
            settings["dataset_sha256"] = checksum
        if self.l2.value():
            settings["l2"] = self.l2.value()
        if self.early_stopping.value():
            settings["early_stopping_patience"] = self.early_stopping.value()
        if self.task.input_noise.value():
            settings["input_noise"] = self.task.input_noise.value()
        if self.augmentation.config():
            settings["augment"] = self.augmentation.config()
        settings["tensorboard"] = self.tensorboard.project_value()
        return settings

    def _fill_datasets(self) -> None:
        self.dataset.clear()
        self.dataset_checksums = {}
        for choice in dataset_choices():
            self.dataset.addItem(choice.label, choice.key)
            if choice.sha256:
                self.dataset_checksums[choice.key] = choice.sha256

    def refresh_datasets(self) -> None:
        """List the data sets as they are now (after an import or a removal), keeping the choice where it
        is still listed. Not an edit: the window reloads the project's settings after it."""
        current = self.dataset.currentData()
        self._loading = True
        try:
            self._fill_datasets()
            index = self.dataset.findData(current)
            self.dataset.setCurrentIndex(index if index >= 0 else self.dataset.findData(self.defaults["dataset"]))
        finally:
            self._loading = False

    def _refresh_datasets_if_changed(self) -> None:
        """As the box opens: a set imported or removed outside this window (`layerlab datasets import` in a
        terminal) is listed as it is now. A chosen set that is gone gives way to the default, as an edit."""
        listed = [(self.dataset.itemData(i), self.dataset.itemText(i)) for i in range(self.dataset.count())]
        if listed == [(choice.key, choice.label) for choice in dataset_choices()]:
            return
        before = self.dataset.currentData()
        clear_dataset_shapes()  # a set replaced outside may have another shape now
        self.refresh_datasets()
        if self.dataset.currentData() != before:
            self._edited()

    def choose_dataset(self, key: str) -> None:
        """Select ``key`` as the person's choice (Data set > Import…'s "Use for Training"): the project records
        it, and an imported set's checksum, even when it was selected already (a replaced set has a new one)."""
        index = self.dataset.findData(key)
        if index < 0:
            return
        if index == self.dataset.currentIndex():
            self._edited()
        else:
            self.dataset.setCurrentIndex(index)

    def select_dataset(self, key: str | None) -> None:
        index = self.dataset.findData(key) if key else -1
        if index >= 0:
            self.dataset.setCurrentIndex(index)

    def _number_fields(self) -> dict:
        """The project's numeric fields (TrainingConfig's names) and the boxes that show them."""
        return {"epochs": self.epochs, "batch_size": self.batch_size, "seed": self.seed, "l2": self.l2,
                "early_stopping_patience": self.early_stopping, "input_noise": self.task.input_noise}

    def load_settings(self, settings: dict) -> None:
        """Show a project's training settings (TrainingConfig's names plus "dataset"); unknown keys are ignored.

        Every field shown is checked: a value of the wrong type or beyond its box's range is refused with a
        message naming the field ("training.epochs: 2147483648 is beyond the largest, 1000; ..."), listed at
        the top of the form and sent as ``settings_refused``, and the field shows its default. A field the
        project does not set shows its default too: nothing is left from the project shown before.
        Loading is not an edit: ``settings_edited`` stays quiet.
        """
        self._loading = True
        try:
            refused = self._load(settings if isinstance(settings, dict) else {})
        finally:
            self._loading = False
        self.refusals.setText("Not taken from the project:\n"
                              + "\n".join(f"• {message}" for message in refused))
        self.refusals.setVisible(bool(refused))
        self.settings_refused.emit(list(refused))

    def _load(self, settings: dict) -> list[str]:
        refused: list[str] = []

        def refuse(field: str, value, why: str, default) -> None:
            refused.append(f"training.{field}: {shown(value)} {why}; the form shows the default, "
                           f"{number_text(default)}")

        self._load_dataset(settings, refuse, refused.append)
        self.optimizer_fields.load(settings.get("optimizer"), refuse, self.defaults["optimizer"], self.defaults["lr"])
        self.augmentation.load_config(settings.get("augment"), refuse, number_problem)
        self.tensorboard.load(settings.get("tensorboard"), refuse)
        for key, box in self._number_fields().items():
            value = settings.get(key)
            default = self.defaults[key]
            if value is None:  # not set (or "off": early stopping, L2, input noise)
                box.setValue(default)
                continue
            problem = number_problem(value, box)
            if problem:
                refuse(key, value, problem, default)
                value = default
            box.setValue(int(value) if isinstance(box, QSpinBox) else float(value))
        return refused

    def _load_dataset(self, settings: dict, refuse, warn) -> None:
        key = settings.get("dataset")
        index = self.dataset.findData(key) if isinstance(key, str) else -1
        if index < 0 and isinstance(key, str):  # imported since the list was made (e.g. by `layerlab datasets`)?
            self._fill_datasets()
            index = self.dataset.findData(key)
        checksum = settings.get("dataset_sha256")
        if checksum is not None and not _is_sha256(checksum):
            warn(f"training.dataset_sha256: {shown(checksum)} is not a SHA-256 checksum (64 hex digits); ignored")
            checksum = None
        if index < 0:
            default = self.defaults["dataset"]
            if key is not None and checksum:  # an imported set this computer does not have (yet)
                refuse("dataset", key, f"is an imported data set (checksum {checksum[:12]}) that is not on this "
                                       f"computer: import it with Data set > Import… under that name", default)
            elif key is not None:
                refuse("dataset", key, "is not a data set this LayerLab knows", default)
            index = self.dataset.findData(default)
        elif checksum and self.dataset_checksums.get(key) not in (None, checksum.lower()):
            warn(f"training.dataset_sha256: the project's “{key}” had checksum {checksum[:12]}; the imported set of "
                 f"that name here has {self.dataset_checksums[key][:12]}: other data under the same name. The form "
                 f"keeps “{key}”, and a run trains on the data here")
        self.dataset.setCurrentIndex(index)

    def show_task(self, task: dict) -> None:
        """Show the design's task (its "loss" and "target"); not an edit."""
        self.task.show_task(task)

    def settings(self) -> RunSettings:
        """What the form says (ValueError naming a bad field)."""
        limit = self.train_limit.value() or None
        # Only where it applies (the target is the input), and only then named: a classifier's config is as before.
        noise = {"input_noise": self.task.noise()} if self.task.noise() else {}
        config = engine.training.TrainingConfig(epochs=self.epochs.value(), batch_size=self.batch_size.value(),
                                optimizer=self.optimizer_fields.config(), l2=self.l2.value(),
                                seed=self.seed.value(),
                                early_stopping_patience=self.early_stopping.value() or None,
                                augment=self.augmentation.config() if self.augmentation.applies() else False,
                                **noise)
        return RunSettings(self.dataset.currentData(), config, self.validation.value(), limit,
                           self.backend.currentData(), self.schedule.currentData(), tensorboard=self.tensorboard.logs())
