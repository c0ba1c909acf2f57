"""What every optimizer shares: parameters and their layout, learning rate and schedule, weight decay,
gradient clipping, the step loop, and saving/restoring state.

A concrete optimizer names its state arrays, checks its own hyperparameters, and writes its update
rule once, as a function over (value, grad, state arrays, scratch); the base applies it to each chunk of
the flat buffers or to each parameter, whichever layout the parameters have.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import ClassVar

from engine import checks, schedules
from engine.backend import array_module, to_device, to_host
from engine.optimizers.layout import Segment, flat_lanes, parameter_lanes, regularize_runs, run_lanes
from engine.parameter import Parameter, flat_buffers, shaped_like

STATE_FORMAT = "layerlab-optimizer-state"
STATE_VERSION = 1


class Optimizer:
    """Base class. Subclasses define ``name``, ``_check``, ``_state_names``, ``_constants`` and ``_update``.

    Common options: ``weight_decay`` adds ``weight_decay * value`` to the gradient (L2, as PyTorch) of
    parameters with ``regularize=True``; ``clipnorm`` rescales all gradients together when their global
    norm exceeds it (PyTorch's ``clip_grad_norm_``, Keras's ``global_clipnorm``); ``clipvalue`` clips
    each gradient element to [-clipvalue, clipvalue]. Clipping comes first, then weight decay, and the
    network's own gradient buffers are never modified.

    The optimizer keeps the parameters' arrays as they are at construction: write new values into
    them in place (``param.value[...] = ...``) rather than binding new arrays.
    """

    name: ClassVar[str] = "optimizer"
    # AdamW: weight_decay shrinks the weights directly instead of adding L2 to the gradient.
    decoupled_weight_decay: ClassVar[bool] = False
    # Scratch arrays the update rule needs, besides the one that holds a clipped/decayed gradient.
    rule_scratch: ClassVar[int] = 1

    def __init__(self, params, lr, **hyperparameters):
        self._parameter_names, self._parameters = _named_parameters(self.name, params)
        self._schedule = _learning_rate_schedule(self.name, lr)
        self.hyperparameters = self._checked(hyperparameters)
        self.iterations = 0
        self._flat = flat_buffers(self._parameters)
        self._xp = array_module(self._parameters[0].value)
        self._build()

    # -- what each optimizer defines ----------------------------------------------------------------
    def _check(self, hyperparameters: dict) -> dict:
        """Validate and normalise this optimizer's own hyperparameters (raise ValueError)."""
        return hyperparameters

    def _state_names(self) -> tuple[str, ...]:
        return ()

    def _initial_state(self, state_name: str) -> float:
        return 0.0

    def _constants(self, lr: float, t: int) -> tuple:
        """Scalars for step ``t`` (1 for the first step), computed once and passed to every ``_update``."""
        return (lr,)

    def _update(self, xp, segment: Segment, grad, constants: tuple) -> None:
        raise NotImplementedError

    # -- training ------------------------------------------------------------------------------------
    def step(self) -> None:
        """Apply one update from the current gradients, with the learning rate for this step."""
        lr = self.learning_rate
        constants = self._constants(lr, self.iterations + 1)
        grad_scale = self._clip_scale()
        run_lanes(self._lanes, lambda lane: self._update_lane(lane, grad_scale, constants))
        self.iterations += 1

    def zero_grad(self) -> None:
        if self._flat is not None:
            self._flat[1].fill(0)
        else:
            for param in self._parameters:
                param.grad.fill(0)

    @property
    def learning_rate(self) -> float:
        """The rate the next step will use."""
        return float(self._schedule(self.iterations))

    def set_learning_rate(self, value: float) -> None:
        """Change the rate from the next step on; a schedule is rescaled so that it now gives ``value``."""
        value = checks.positive(self.name, "learning_rate", value)
        current = self._schedule(self.iterations)
        if isinstance(self._schedule, schedules.Constant) or current <= 0:
            self._schedule = schedules.Constant(value)  # a schedule at 0 (ended, or warmup start) can't scale
        else:
            self._schedule = self._schedule.scaled(value / current)

    # -- configuration and state ---------------------------------------------------------------------
    def get_config(self) -> dict:
        schedule = self._schedule
        lr = schedule.learning_rate if isinstance(schedule, schedules.Constant) else schedule.get_config()
        return {"name": self.name, "lr": lr, **self.hyperparameters}

    def state_dict(self) -> tuple[dict, dict]:
        """(config, arrays): a JSON-serialisable dict and host copies of every state array.

        Array keys are "<parameter name>.<state name>", e.g. "conv1.kernel.decayed_grad_sum".
        """
        config = {"format": STATE_FORMAT, "version": STATE_VERSION, "optimizer": self.get_config(),
                  "iterations": self.iterations}
        arrays = {f"{param_name}.{state_name}": to_host(array)
                  for param_name, state in zip(self._parameter_names, self._parameter_states, strict=True)
                  for state_name, array in state.items()}
        return config, arrays

    def load_state_dict(self, config: dict, arrays: Mapping) -> None:
        """Restore hyperparameters, schedule, iteration count and state arrays saved by ``state_dict``.

        Everything is checked before anything changes, so a bad state leaves the optimizer as it was.
        """
        if not isinstance(config, dict) or config.get("format") != STATE_FORMAT:
            raise ValueError(f"not an optimizer state: expected format {STATE_FORMAT!r}. "
                             f"Received: {_describe(config)}")
        if config.get("version") != STATE_VERSION:
            raise ValueError(f"optimizer state version {config.get('version')!r} is not supported; "
                             f"expected {STATE_VERSION}")
        saved = dict(config.get("optimizer") or {})
        if saved.pop("name", None) != self.name:
            raise ValueError(f"optimizer state is for {config['optimizer'].get('name')!r}, "
                             f"but this optimizer is {self.name!r}")
        schedule = _learning_rate_schedule(self.name, saved.pop("lr", None))
        if set(saved) != set(self.hyperparameters):
            raise ValueError(f"{self.name} state: expected hyperparameters {sorted(self.hyperparameters)}. "
                             f"Received: {sorted(saved)}")
        hyperparameters = self._checked(saved)
        iterations = config.get("iterations")
        if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
            raise ValueError(f"{self.name} state: iterations must be an integer >= 0. "
                             f"Received: iterations={iterations!r}")

        previous = self.hyperparameters
        self.hyperparameters = hyperparameters  # the state arrays to expect depend on them
        try:
            expected = {f"{param_name}.{state_name}": param.shape
                        for param_name, param in zip(self._parameter_names, self._parameters, strict=True)
                        for state_name in self._state_names()}
            for key, shape in expected.items():
                if key not in arrays:
                    raise ValueError(f"{self.name} state has no array {key!r}")
                if tuple(arrays[key].shape) != tuple(shape):
                    raise ValueError(f"{self.name} state: {key!r} has shape {tuple(arrays[key].shape)}; "
                                     f"the parameter has shape {tuple(shape)}")
        except ValueError:
            self.hyperparameters = previous
            raise
        self._schedule = schedule
        self.iterations = iterations
        self._build()
        for param_name, state in zip(self._parameter_names, self._parameter_states, strict=True):
            for state_name, array in state.items():
                array[...] = to_device(arrays[f"{param_name}.{state_name}"], self._xp)

    # -- internals -----------------------------------------------------------------------------------
    def _checked(self, hyperparameters: dict) -> dict:
        common = {
            "weight_decay": checks.non_negative(self.name, "weight_decay", hyperparameters.pop("weight_decay", 0.0)),
            "clipnorm": checks.optional_positive(self.name, "clipnorm", hyperparameters.pop("clipnorm", None)),
            "clipvalue": checks.optional_positive(self.name, "clipvalue", hyperparameters.pop("clipvalue", None)),
        }
        return {**self._check(dict(hyperparameters)), **common}

    def _build(self) -> None:
        """Allocate state arrays (filled with their initial values) and lay out the segments."""
        xp, names = self._xp, self._state_names()
        scratch_count = 1 + self.rule_scratch
        if self._flat is not None:
            values, grads = self._flat
            buffers = {n: xp.full(values.shape, self._initial_state(n), dtype=values.dtype) for n in names}
            self._parameter_states, offset = [], 0
            for param in self._parameters:
                stop = offset + param.size
                self._parameter_states.append({n: shaped_like(b[offset:stop], param.value) for n, b in buffers.items()})
                offset = stop
            if self.hyperparameters["weight_decay"]:
                runs = regularize_runs(self._parameters)
            else:  # nothing to tell apart: fewer, longer segments (one kernel launch per operation on CuPy)
                runs = [(0, values.size, False)]
            self._lanes = flat_lanes(xp, values, grads, buffers, runs, scratch_count)
        else:
            self._parameter_states = [
                {n: array_module(p.value).full(p.shape, self._initial_state(n), dtype=p.value.dtype) for n in names}
                for p in self._parameters
            ]
            self._lanes = parameter_lanes(self._parameters, self._parameter_states, scratch_count)

    def _update_lane(self, lane: list[Segment], grad_scale: float, constants: tuple) -> None:
        xp = self._xp
        l2 = 0.0 if self.decoupled_weight_decay else self.hyperparameters["weight_decay"]
        clipvalue = self.hyperparameters["clipvalue"]
        for segment in lane:
            grad = segment.grad
            if grad_scale != 1.0 or clipvalue is not None or (l2 and segment.decay):
                grad = _effective_grad(xp, segment, grad_scale, clipvalue, l2 if segment.decay else 0.0)
            self._update(xp, segment, grad, constants)

    def _clip_scale(self) -> float:
        """The factor that brings the global gradient norm down to ``clipnorm`` (1 when within it)."""
        clipnorm = self.hyperparameters["clipnorm"]
        if clipnorm is None:
            return 1.0
        grads = [self._flat[1]] if self._flat is not None else [p.grad for p in self._parameters]
        norm = math.sqrt(sum(float(self._xp.vdot(g, g)) for g in grads))
        return clipnorm / norm if norm > clipnorm else 1.0

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.get_config()}, iterations={self.iterations})"


def _effective_grad(xp, segment: Segment, grad_scale: float, clipvalue, l2: float):
    """The gradient the rule should see, written into the segment's first scratch array."""
    grad, out = segment.grad, segment.scratch[0]
    if grad_scale != 1.0:
        xp.multiply(grad, grad_scale, out=out)
        grad = out
    if clipvalue is not None:
        xp.clip(grad, -clipvalue, clipvalue, out=out)
        grad = out
    if l2:
        decay = segment.scratch[1]  # the rule's scratch is free until the rule runs
        xp.multiply(segment.value, l2, out=decay)
        xp.add(grad, decay, out=out)
    return out


def _named_parameters(owner: str, params) -> tuple[list[str], list[Parameter]]:
    if isinstance(params, Mapping):
        names, values = [str(k) for k in params], list(params.values())
    elif isinstance(params, Parameter):
        names, values = ["0"], [params]
    else:
        values = list(params)
        names = [str(i) for i in range(len(values))]
    if not values:
        raise ValueError(f"{owner}: there are no parameters to optimize")
    for name, value in zip(names, values, strict=True):
        if not isinstance(value, Parameter):
            raise ValueError(f"{owner}: params must be Parameters, e.g. net.parameters(). "
                             f"Received: {name}={type(value).__name__}")
    return names, values


def _learning_rate_schedule(owner: str, lr) -> schedules.Schedule:
    if isinstance(lr, (schedules.Schedule, dict)):
        return schedules.get(lr)
    return schedules.Constant(checks.positive(owner, "lr", lr))


def _describe(config) -> str:
    if isinstance(config, dict):
        return f"format={config.get('format')!r}"
    return f"{type(config).__name__}"
