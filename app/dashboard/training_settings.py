"""The training settings form: data set, optimizer and its settings, schedule, batch, epochs, L2, ...

    form = TrainingSettingsForm()
    settings = form.settings()          # a RunSettings (ValueError naming the bad field)
    form.load_settings(project_dict)    # show a project's settings
    form.settings_edited.connect(...)   # the person changed one: the project's settings dict, to save


The optimizer's own settings (momentum, beta_1, rho, ...) are read from its signature, so an
optimizer added to the engine shows up here with its settings and defaults.
"""

from __future__ import annotations

import inspect

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QSpinBox,
    QWidget,
)

import engine
from app.dashboard.run_controller import SCHEDULES, RunSettings
from app.dashboard.run_data import dataset_choices

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


class TrainingSettingsForm(QWidget):
    settings_edited = Signal(dict)  # a person changed a setting a project keeps: project_settings()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._loading = False
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.dataset = QComboBox()
        for choice in dataset_choices():
            self.dataset.addItem(choice.label, choice.key)
        self.train_limit = _spin(0, 10_000_000, 0)
        self.train_limit.setSpecialValueText("all")
        self.train_limit.setToolTip("Train on the first N examples only (0: all of them)")
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
        self.early_stopping.setToolTip("Stop after this many epochs without a better validation accuracy")
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
                              ("Optimizer", self.optimizer), ("Learning rate", self.learning_rate),
                              ("Schedule", self.schedule), ("Batch size", self.batch_size),
                              ("Epochs", self.epochs), ("L2", self.l2), ("Validation", self.validation),
                              ("Early stopping", self.early_stopping), ("Seed", self.seed),
                              ("Backend", self.backend)):
            self.form.addRow(label, widget)
        self.optimizer.currentTextChanged.connect(self._show_optimizer_settings)
        self.optimizer.setCurrentText("Adam")
        self._show_optimizer_settings(self.optimizer.currentText())
        self.dataset.currentIndexChanged.connect(self._edited)
        self.optimizer.currentIndexChanged.connect(self._edited)
        for box in (self.learning_rate, self.batch_size, self.epochs, self.l2, self.early_stopping, self.seed):
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
        if self.l2.value():
            settings["l2"] = self.l2.value()
        if self.early_stopping.value():
            settings["early_stopping_patience"] = self.early_stopping.value()
        return settings

    def select_dataset(self, key: str | None) -> None:
        index = self.dataset.findData(key) if key else -1
        if index >= 0:
            self.dataset.setCurrentIndex(index)

    def load_settings(self, settings: dict) -> None:
        """Show a project's training settings (TrainingConfig's names plus "dataset"); unknown keys are ignored.

        Loading is not an edit: ``settings_edited`` stays quiet.
        """
        self._loading = True
        try:
            self._load(settings)
        finally:
            self._loading = False

    def _load(self, settings: dict) -> None:
        self.select_dataset(settings.get("dataset"))
        optimizer = settings.get("optimizer") or {}
        if isinstance(optimizer, str):
            optimizer = {"name": optimizer}
        names = {name.lower(): name for name in engine.optimizers.OPTIMIZERS}
        if str(optimizer.get("name", "")).lower() in names:
            self.optimizer.setCurrentText(names[optimizer["name"].lower()])
        if isinstance(optimizer.get("lr"), (int, float)):
            self.learning_rate.setValue(optimizer["lr"])
        for key, box in (("epochs", self.epochs), ("batch_size", self.batch_size), ("seed", self.seed),
                         ("l2", self.l2), ("early_stopping_patience", self.early_stopping)):
            value = settings.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                box.setValue(value)

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

    def settings(self) -> RunSettings:
        """What the form says (ValueError naming a bad field)."""
        limit = self.train_limit.value() or None
        config = engine.training.TrainingConfig(epochs=self.epochs.value(), batch_size=self.batch_size.value(),
                                optimizer=self._optimizer_config(), l2=self.l2.value(),
                                seed=self.seed.value(),
                                early_stopping_patience=self.early_stopping.value() or None)
        return RunSettings(self.dataset.currentData(), config, self.validation.value(), limit,
                           self.backend.currentData(), self.schedule.currentData())
