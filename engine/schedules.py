"""Learning-rate schedules: the rate as a function of the optimizer's step count (0 for the first step).

Formulas and argument names follow Keras (``keras.optimizers.schedules``), so a schedule from a Keras
notebook reads the same here::

    schedule = schedules.get({"name": "exponential", "initial_learning_rate": 0.01,
                              "decay_steps": 1000, "decay_rate": 0.96})
    schedule(0)      # 0.01
    schedule(1000)   # 0.0096
    schedules.get(0.01)   # a constant rate

Every rate a schedule produces is proportional to its rate fields, so ``scaled(factor)`` is how an
optimizer honours a learning rate changed live in the GUI while keeping the schedule's shape.
"""

from __future__ import annotations

import difflib
import inspect
import math
from numbers import Real

from engine import checks


class Schedule:
    """Base: ``schedule(step) -> float``, ``get_config()``, ``scaled(factor)``."""

    name = "schedule"
    rate_fields: tuple[str, ...] = ("initial_learning_rate",)

    def __call__(self, step: int) -> float:
        raise NotImplementedError

    def get_config(self) -> dict:
        arguments = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {"name": self.name, **{field: getattr(self, field) for field in arguments}}

    def scaled(self, factor: float) -> Schedule:
        """The same schedule with every rate multiplied by ``factor``."""
        config = self.get_config()
        for field in self.rate_fields:
            if config.get(field) is not None:
                config[field] *= factor
        return get(config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    name = "constant"
    rate_fields = ("learning_rate",)

    def __init__(self, learning_rate: float):
        self.learning_rate = checks.positive(self.name, "learning_rate", learning_rate)

    def __call__(self, step):
        return self.learning_rate


class StepDecay(Schedule):
    """``initial_learning_rate * factor ** floor(step / step_size)`` (PyTorch's StepLR; factor 0.1)."""

    name = "step"

    def __init__(self, initial_learning_rate: float, step_size: int, factor: float = 0.1):
        self.initial_learning_rate = checks.positive(self.name, "initial_learning_rate", initial_learning_rate)
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"{self.name}: step_size must be a positive integer. Received: step_size={step_size!r}")
        self.step_size = step_size
        self.factor = checks.positive(self.name, "factor", factor)

    def __call__(self, step):
        return self.initial_learning_rate * self.factor ** (step // self.step_size)


class ExponentialDecay(Schedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``; ``staircase`` floors the exponent."""

    name = "exponential"

    def __init__(self, initial_learning_rate: float, decay_steps: float, decay_rate: float,
                 staircase: bool = False):
        self.initial_learning_rate = checks.positive(self.name, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = checks.positive(self.name, "decay_steps", decay_steps)
        self.decay_rate = checks.positive(self.name, "decay_rate", decay_rate)
        self.staircase = checks.boolean(self.name, "staircase", staircase)

    def __call__(self, step):
        progress = step / self.decay_steps
        if self.staircase:
            progress = math.floor(progress)
        return self.initial_learning_rate * self.decay_rate ** progress


class InverseTimeDecay(Schedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``; ``staircase`` floors step / decay_steps."""

    name = "inverse_time"

    def __init__(self, initial_learning_rate: float, decay_steps: float, decay_rate: float,
                 staircase: bool = False):
        self.initial_learning_rate = checks.positive(self.name, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = checks.positive(self.name, "decay_steps", decay_steps)
        self.decay_rate = checks.non_negative(self.name, "decay_rate", decay_rate)
        self.staircase = checks.boolean(self.name, "staircase", staircase)

    def __call__(self, step):
        progress = step / self.decay_steps
        if self.staircase:
            progress = math.floor(progress)
        return self.initial_learning_rate / (1.0 + self.decay_rate * progress)


class CosineDecay(Schedule):
    """Half a cosine from the rate down to ``alpha`` times it over ``decay_steps``, then flat (Keras).

    With ``warmup_steps`` the rate first climbs linearly from ``initial_learning_rate`` to
    ``warmup_target`` and the cosine then starts from ``warmup_target``; as in Keras, warmup needs both.
    """

    name = "cosine"
    rate_fields = ("initial_learning_rate", "warmup_target")

    def __init__(self, initial_learning_rate: float, decay_steps: float, alpha: float = 0.0,
                 warmup_target: float | None = None, warmup_steps: int = 0):
        self.decay_steps = checks.positive(self.name, "decay_steps", decay_steps)
        self.alpha = checks.non_negative(self.name, "alpha", alpha)
        if self.alpha > 1:
            raise ValueError(f"{self.name}: alpha (the final fraction of the rate) must be in [0, 1]. "
                             f"Received: alpha={alpha!r}")
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0:
            raise ValueError(f"{self.name}: warmup_steps must be an integer >= 0. "
                             f"Received: warmup_steps={warmup_steps!r}")
        if warmup_steps > 0 and warmup_target is None:
            raise ValueError(f"{self.name}: warmup_steps needs warmup_target, the rate reached after warmup "
                             f"(warmup starts from initial_learning_rate). Received: warmup_steps={warmup_steps}, "
                             f"warmup_target=None")
        self.warmup_steps = warmup_steps
        if warmup_target is None:
            self.initial_learning_rate = checks.positive(self.name, "initial_learning_rate", initial_learning_rate)
            self.warmup_target = None
        else:  # warming up from 0 is the usual choice, so a zero start is allowed here
            self.initial_learning_rate = checks.non_negative(self.name, "initial_learning_rate", initial_learning_rate)
            self.warmup_target = checks.positive(self.name, "warmup_target", warmup_target)

    def __call__(self, step):
        if self.warmup_target is None:
            return self._decayed(self.initial_learning_rate, min(step, self.decay_steps))
        if step < self.warmup_steps:
            climbed = (self.warmup_target - self.initial_learning_rate) * step / self.warmup_steps
            return self.initial_learning_rate + climbed
        return self._decayed(self.warmup_target, min(step - self.warmup_steps, self.decay_steps))

    def _decayed(self, rate: float, step: float) -> float:
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return rate * ((1.0 - self.alpha) * cosine + self.alpha)


SCHEDULES: dict[str, type[Schedule]] = {
    cls.name: cls for cls in (Constant, StepDecay, ExponentialDecay, InverseTimeDecay, CosineDecay)
}


def get(config) -> Schedule:
    """A schedule from a number (a constant rate), a dict with "name", or a Schedule."""
    if isinstance(config, Schedule):
        return config
    if isinstance(config, Real) and not isinstance(config, bool):
        return Constant(config)
    if not (isinstance(config, dict) and isinstance(config.get("name"), str)):
        raise ValueError("a learning rate must be a positive number or a schedule config such as "
                         '{"name": "exponential", "initial_learning_rate": 0.01, "decay_steps": 1000, '
                         f'"decay_rate": 0.96}}. Received: {config!r}')
    arguments = dict(config)
    name = arguments.pop("name")
    key = name.strip().lower()
    if key not in SCHEDULES:
        message = f"unknown learning-rate schedule {name!r}; expected one of: {', '.join(SCHEDULES)}"
        close = difflib.get_close_matches(key, SCHEDULES, n=1)
        raise ValueError(message + (f". Did you mean {close[0]!r}?" if close else ""))
    cls = SCHEDULES[key]
    parameters = inspect.signature(cls.__init__).parameters
    accepted = [p for p in parameters if p != "self"]
    unexpected = sorted(set(arguments) - set(accepted))
    missing = [p for p in accepted if parameters[p].default is inspect.Parameter.empty and p not in arguments]
    if unexpected or missing:
        problems = ([f"unexpected argument(s) {', '.join(unexpected)}"] if unexpected else []) + (
            [f"missing argument(s) {', '.join(missing)}"] if missing else [])
        raise ValueError(f"schedule '{key}': {'; '.join(problems)}; expected: {', '.join(accepted)}")
    return cls(**arguments)








