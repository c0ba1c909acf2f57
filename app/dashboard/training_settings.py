"""The training settings form: data set, optimizer and its settings, schedule, batch, epochs, L2, ...

    form = TrainingSettingsForm()
    settings = form.settings()          # a RunSettings (ValueError naming the bad field)
    form.load_settings(project_dict)    # show a project's settings; a field it cannot show is refused, in words
    form.settings_edited.connect(...)   # the person changed one: the project's settings dict, to save
    form.settings_refused.connect(...)  # the messages of the last load (each names its "training.<field>")
    form.task_edited.connect(...)       # Loss or Target chosen: {"loss": ...} / {"target": ...}, for the document
    form.show_task(document.task)       # the design's task, shown (task_fields.py)


The optimizer's own settings (momentum, beta_1, rho, ...) are read from its signature, so an
optimizer added to the engine shows up here with its settings and defaults.
"""

from __future__ import annotations

import inspect
import json

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

import engine
from app.dashboard.augmentation_box import AugmentationBox
from app.dashboard.run_controller import SCHEDULES, RunSettings
from app.dashboard.run_data import clear_dataset_shapes, dataset_choices
from app.dashboard.task_fields import TaskFields
from app.dashboard.tensorboard_option import TensorBoardOption
from app.tones import follow_tone

MIN_COMBO_CHARACTERS = 10
FORM_ROW_SPACING = 4
# Settings every optimizer has, shown elsewhere in the form (or not at all).
_SHARED_SETTINGS = {"self", "params", "lr", "weight_decay", "clipnorm", "clipvalue"}


def _spin(low, high, value, decimals=None, step=None):
    if decimals is None:
        box = QSpinBox()
    else:
        box = QDoubleSpinBox()
        box.setDecimals(decimals)
    box.setRange(low, high)
    if step is not None:
        box.setSingleStep(step)
    box.setValue(value)
    return box


def _shown(value) -> str:
    """A project's value as its file spells it, cut short: a refusal quotes what it refused."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _is_sha256(value) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdefABCDEF" for c in value)


def _number_text(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


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
        self.train_limit = _spin(0, 10_000_000, 0)
        self.train_limit.setSpecialValueText("all")
        self.train_limit.setToolTip("Train on the first N examples only (0: all of them)")
        # Loss and Target belong to the design (the spec), Input noise to the training settings.
        self.task = TaskFields(self)
        self.task.task_edited.connect(self.task_edited)
        self.optimizer = QComboBox()
        self.optimizer.addItems(engine.optimizers.OPTIMIZERS)
        self.learning_rate = _spin(1e-6, 10.0, 1e-3, decimals=6, step=1e-4)
        self.learning_rate.setToolTip("Changing it while training takes effect at the next step")
        self.learning_rate.setKeyboardTracking(False)  # a typed rate counts once, at Enter: not each keystroke
        self.schedule = QComboBox()
        for key, label in SCHEDULES.items():
            self.schedule.addItem(label, key)
        self.batch_size = _spin(1, 4096, 50)
        self.epochs = _spin(1, 1000, 2)
        self.l2 = _spin(0.0, 1.0, 0.0, decimals=5, step=1e-4)
        self.validation = _spin(0.0, 0.5, 0.1, decimals=2, step=0.05)
        self.early_stopping = _spin(0, 100, 0)
        self.early_stopping.setSpecialValueText("off")
        self.early_stopping.setToolTip("Stop after this many epochs without a better validation accuracy (or, "
                                       "for a network that does not classify, a lower validation loss)")
        self.seed = _spin(0, 2**31 - 1, 0)
        self.backend = QComboBox()
        self.backend.addItem("CPU (NumPy)", "numpy")
        self.backend.addItem("GPU (CuPy)", "cupy")
        usable, reason = engine.backend.cupy_status()
        self.backend.setItemData(1, reason, 3)  # Qt.ToolTipRole
        if not usable:  # choosing it still works: the run falls back to the CPU and says why
            self.backend.setItemText(1, "GPU (CuPy) – not found")
        self.optimizer_settings: dict[str, QWidget] = {}

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
        self.optimizer.currentTextChanged.connect(self._show_optimizer_settings)
        self.optimizer.setCurrentText("Adam")
        self._show_optimizer_settings(self.optimizer.currentText())
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
            refused.append(f"training.{field}: {_shown(value)} {why}; the form shows the default, "
                           f"{_number_text(default)}")

        self._load_dataset(settings, refuse, refused.append)
        self._load_optimizer(settings.get("optimizer"), refuse)
        self.augmentation.load_config(settings.get("augment"), refuse, self._number_problem)
        self.tensorboard.load(settings.get("tensorboard"), refuse)
        for key, box in self._number_fields().items():
            value = settings.get(key)
            default = self.defaults[key]
            if value is None:  # not set (or "off": early stopping, L2, input noise)
                box.setValue(default)
                continue
            problem = self._number_problem(value, box)
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
            warn(f"training.dataset_sha256: {_shown(checksum)} is not a SHA-256 checksum (64 hex digits); ignored")
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

    def _load_optimizer(self, optimizer, refuse) -> None:
        names = {name.lower(): name for name in engine.optimizers.OPTIMIZERS}
        name, rate = self.defaults["optimizer"], self.defaults["lr"]
        if isinstance(optimizer, str):
            optimizer = {"name": optimizer}
        if optimizer is not None and not isinstance(optimizer, dict):
            refuse("optimizer", optimizer, 'is neither an optimizer\'s name nor {"name": ..., "lr": ...}',
                   f"{name}, learning rate {rate:g}")
            optimizer = {}
        optimizer = optimizer or {}
        given = optimizer.get("name")
        if isinstance(given, str) and given.lower() in names:
            name = names[given.lower()]
        elif given is not None:
            refuse("optimizer.name", given, f"is not one of {', '.join(names.values())}", name)
        given = optimizer.get("lr")
        problem = None if given is None else self._number_problem(given, self.learning_rate)
        if given is not None and problem:
            refuse("optimizer.lr", given, problem, rate)
        elif given is not None:
            rate = given
        self.optimizer.setCurrentText(name)
        self.learning_rate.setValue(rate)

    @staticmethod
    def _number_problem(value, box) -> str | None:
        """Why ``value`` cannot be shown in ``box`` (its type, its range), or None."""
        whole = isinstance(box, QSpinBox)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "is not a whole number" if whole else "is not a number"
        if whole and isinstance(value, float) and not value.is_integer():
            return "is not a whole number"
        if value > box.maximum():
            return f"is beyond the largest, {_number_text(box.maximum())}"
        if value < box.minimum():
            return f"is below the smallest, {_number_text(box.minimum())}"
        return None

    def _show_optimizer_settings(self, name: str) -> None:
        for widget in self.optimizer_settings.values():
            self.form.removeRow(widget)
        self.optimizer_settings = {}
        signature = inspect.signature(getattr(engine.optimizers, name).__init__)
        row = self.form.getWidgetPosition(self.learning_rate)[0] + 1
        for setting in signature.parameters.values():
            default = setting.default
            if setting.name in _SHARED_SETTINGS or default is inspect.Parameter.empty or default is None:
                continue
            if isinstance(default, bool):
                widget = QCheckBox()
                widget.setChecked(default)
            elif isinstance(default, (int, float)):
                widget = _spin(0.0, 1e6, float(default), decimals=10 if 0 < abs(default) < 1e-3 else 4, step=0.01)
            else:
                continue
            self.form.insertRow(row, f"  {setting.name}", widget)
            row += 1
            self.optimizer_settings[setting.name] = widget

    def _optimizer_config(self) -> dict:
        config = {"name": self.optimizer.currentText(), "lr": self.learning_rate.value()}
        for name, widget in self.optimizer_settings.items():
            config[name] = widget.isChecked() if isinstance(widget, QCheckBox) else widget.value()
        return config

    def show_task(self, task: dict) -> None:
        """Show the design's task (its "loss" and "target"); not an edit."""
        self.task.show_task(task)

    def settings(self) -> RunSettings:
        """What the form says (ValueError naming a bad field)."""
        limit = self.train_limit.value() or None
        # Only where it applies (the target is the input), and only then named: a classifier's config is as before.
        noise = {"input_noise": self.task.noise()} if self.task.noise() else {}
        config = engine.training.TrainingConfig(epochs=self.epochs.value(), batch_size=self.batch_size.value(),
                                optimizer=self._optimizer_config(), l2=self.l2.value(),
                                seed=self.seed.value(),
                                early_stopping_patience=self.early_stopping.value() or None,
                                augment=self.augmentation.config() if self.augmentation.applies() else False,
                                **noise)
        return RunSettings(self.dataset.currentData(), config, self.validation.value(), limit,
                           self.backend.currentData(), self.schedule.currentData(), tensorboard=self.tensorboard.logs())
