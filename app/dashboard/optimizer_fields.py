"""The training form's optimizer fields: the Optimizer box, its Learning rate, and the optimizer's own settings.

The optimizer's own settings (momentum, beta_1, rho, ...) are read from its signature, so an optimizer added
to the engine shows up here with its settings and defaults; they are rows of the form, under Learning rate,
remade each time another optimizer is chosen. Kept apart from the rest of the form (training_settings.py)
because they are the one group whose rows come and go.

    fields = OptimizerFields(form_layout)       # the form adds fields.optimizer and fields.learning_rate as rows
    fields.show_settings("Adam")                # then the optimizer's own rows, under Learning rate
    fields.load(project["optimizer"], refuse, default_name, default_rate)
    fields.config()                             # {"name": "Adam", "lr": 0.001, "beta_1": 0.9, ...}
"""

from __future__ import annotations

import inspect

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QWidget

import engine
from app.dashboard.form_numbers import number_problem, spin_box

# Settings every optimizer has, shown elsewhere in the form (or not at all).
SHARED_SETTINGS = {"self", "params", "lr", "weight_decay", "clipnorm", "clipvalue"}


class OptimizerFields:
    def __init__(self, form: QFormLayout):
        self.form = form
        self.optimizer = QComboBox()
        self.optimizer.addItems(engine.optimizers.OPTIMIZERS)
        self.learning_rate = spin_box(1e-6, 10.0, 1e-3, decimals=6, step=1e-4)
        self.learning_rate.setToolTip("Changing it while training takes effect at the next step")
        self.learning_rate.setKeyboardTracking(False)  # a typed rate counts once, at Enter: not each keystroke
        self.settings: dict[str, QWidget] = {}  # the chosen optimizer's own settings, by name

    def show_settings(self, name: str) -> None:
        """The rows of optimizer ``name``'s own settings, under Learning rate (in place of the last one's)."""
        for widget in self.settings.values():
            self.form.removeRow(widget)
        self.settings = {}
        signature = inspect.signature(getattr(engine.optimizers, name).__init__)
        row = self.form.getWidgetPosition(self.learning_rate)[0] + 1
        for setting in signature.parameters.values():
            default = setting.default
            if setting.name in SHARED_SETTINGS or default is inspect.Parameter.empty or default is None:
                continue
            if isinstance(default, bool):
                widget = QCheckBox()
                widget.setChecked(default)
            elif isinstance(default, (int, float)):
                widget = spin_box(0.0, 1e6, float(default), decimals=10 if 0 < abs(default) < 1e-3 else 4, step=0.01)
            else:
                continue
            self.form.insertRow(row, f"  {setting.name}", widget)
            row += 1
            self.settings[setting.name] = widget

    def load(self, optimizer, refuse, name: str, rate: float) -> None:
        """Show a project's "optimizer" (a name, or {"name": ..., "lr": ...}); ``name`` and ``rate`` are shown
        where it says nothing, and where what it says is refused (through ``refuse``, in words)."""
        names = {name.lower(): name for name in engine.optimizers.OPTIMIZERS}
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
        problem = None if given is None else number_problem(given, self.learning_rate)
        if given is not None and problem:
            refuse("optimizer.lr", given, problem, rate)
        elif given is not None:
            rate = given
        self.optimizer.setCurrentText(name)
        self.learning_rate.setValue(rate)

    def config(self) -> dict:
        """The optimizer as TrainingConfig takes it: its name, rate and own settings."""
        config = {"name": self.optimizer.currentText(), "lr": self.learning_rate.value()}
        for name, widget in self.settings.items():
            config[name] = widget.isChecked() if isinstance(widget, QCheckBox) else widget.value()
        return config
