"""A training config as Keras code: the optimizer (with its schedule and clipping), the loss and the metric.

Used by ``engine.export.keras_code``. LayerLab's optimizers take Keras's argument names and PyTorch's update
rules and defaults; each is written with LayerLab's own values (defaults included), so the Keras run uses
the same settings even where Keras's defaults differ (Adam's epsilon, RMSprop's rho). What still differs is
said in a comment in the script (``notes``).
"""

from __future__ import annotations

import inspect

from engine import optimizers, schedules
from engine.training.config import TrainingConfig

_OPTIMIZER_CLASSES = {cls.name.lower(): cls for cls in (
    optimizers.SGD, optimizers.Momentum, optimizers.Nesterov, optimizers.AdaGrad, optimizers.RMSProp,
    optimizers.Adadelta, optimizers.Adam, optimizers.AdamW)}

# LayerLab's optimizer -> (Keras's class, the LayerLab arguments it takes, in order)
_KERAS_OPTIMIZERS = {
    "sgd": ("SGD", ("momentum", "nesterov")),
    "momentum": ("SGD", ("momentum", "nesterov")),
    "nesterov": ("SGD", ("momentum", "nesterov")),
    "adagrad": ("Adagrad", ("initial_accumulator_value", "epsilon")),
    "rmsprop": ("RMSprop", ("rho", "momentum", "epsilon", "centered")),
    "adadelta": ("Adadelta", ("rho", "epsilon")),
    "adam": ("Adam", ("beta_1", "beta_2", "epsilon")),
    "adamw": ("AdamW", ("weight_decay", "beta_1", "beta_2", "epsilon")),
}

_SCHEDULES = {"exponential": "ExponentialDecay", "inverse_time": "InverseTimeDecay", "cosine": "CosineDecay"}

# What the loss reads and how accuracy is counted, for each kind of output head (engine.output_head).
LOSSES = {
    "softmax": ("keras.losses.SparseCategoricalCrossentropy(from_logits=False)",
                'keras.metrics.SparseCategoricalAccuracy(name="accuracy")'),
    "logits": ("keras.losses.SparseCategoricalCrossentropy(from_logits=True)",
               'keras.metrics.SparseCategoricalAccuracy(name="accuracy")'),
    "sigmoid": ("keras.losses.BinaryCrossentropy(from_logits=False)",
                'keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.5)'),
    "binary_logit": ("keras.losses.BinaryCrossentropy(from_logits=True)",
                     'keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)'),
    # values, not classes: the mean squared error of what the model shows is the figure
    "mse": ("keras.losses.MeanSquaredError()", 'keras.metrics.MeanSquaredError(name="mean_squared_error")'),
    "sigmoid_bce": ("keras.losses.BinaryCrossentropy(from_logits=False)",
                    'keras.metrics.MeanSquaredError(name="mean_squared_error")'),
}


def training_config(training: dict | None) -> TrainingConfig:
    """The TrainingConfig in a project's "training" object (its other keys, "dataset" and so on, ignored)."""
    if not training:
        return TrainingConfig()
    known = {name: value for name, value in training.items() if name in TrainingConfig.__dataclass_fields__}
    return TrainingConfig.from_dict(known)


class KerasOptimizer:
    """``code``: the expression making the Keras optimizer; ``l2``: the L2 factor for kernel regularizers
    (LayerLab's weight decay added to the gradient; 0 for AdamW, whose decay is decoupled); ``needs_step_decay``:
    the script must define its StepDecay schedule; ``notes``: differences in words."""

    def __init__(self, config: TrainingConfig):
        settings = dict(config.optimizer)
        if "learning_rate" in settings:
            settings["lr"] = settings.pop("learning_rate")
        # As the Trainer does: the run's l2 and clipnorm unless the optimizer config sets its own.
        if config.l2:
            settings.setdefault("weight_decay", config.l2)
        if config.clipnorm:
            settings.setdefault("clipnorm", config.clipnorm)
        key = str(settings.pop("name")).strip().lower()
        if key not in _OPTIMIZER_CLASSES:
            raise ValueError(f"optimizer: unknown optimizer {key!r}; "
                             f"expected one of: {', '.join(optimizers.OPTIMIZERS)}")
        cls = _OPTIMIZER_CLASSES[key]
        defaults = {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()
                    if p.default is not inspect.Parameter.empty}
        values = {**defaults, **settings}
        keras_class, names = _KERAS_OPTIMIZERS[key]
        self.needs_step_decay = False
        self.notes: list[str] = []
        arguments = [f"learning_rate={self._learning_rate(values['lr'])}"]
        for name in names:
            if name == "nesterov":
                arguments.append(f"nesterov={bool(values.get('nesterov', key == 'nesterov'))!r}")
            elif name == "momentum" and keras_class == "SGD":
                arguments.append(f"momentum={float(values.get('momentum', 0.0))!r}")
            else:
                arguments.append(f"{name}={values[name]!r}")
        decay = float(values.get("weight_decay") or 0.0)
        self.l2 = 0.0 if key == "adamw" else decay
        if values.get("clipnorm"):
            # LayerLab's clipnorm rescales all gradients together: Keras's global_clipnorm
            arguments.append(f"global_clipnorm={values['clipnorm']!r}")
        if values.get("clipvalue"):
            arguments.append(f"clipvalue={values['clipvalue']!r}")
        self.code = f"keras.optimizers.{keras_class}({', '.join(arguments)})"
        self.adamw = key == "adamw"
        if key in ("adam", "adamw", "rmsprop", "adagrad", "adadelta"):
            self.notes.append(f"LayerLab's {cls.name} follows PyTorch's update rule; Keras's {keras_class} adds "
                              f"epsilon at a slightly different place, so runs differ in the last digits.")

    def _learning_rate(self, lr) -> str:
        if not isinstance(lr, dict):
            return repr(float(lr))
        settings = schedules.get(lr).get_config()  # checked, with LayerLab's defaults filled in
        name = settings.pop("name")
        if name == "constant":
            return repr(float(settings["learning_rate"]))
        arguments = ", ".join(f"{key}={value!r}" for key, value in settings.items())
        if name == "step":
            self.needs_step_decay = True
            return f"StepDecay({arguments})"
        return f"keras.optimizers.schedules.{_SCHEDULES[name]}({arguments})"
