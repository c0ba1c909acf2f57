"""Weight initializers, with Keras's names, arguments and defaults.

A config is a name or a dict with a ``name`` and the initializer's arguments::

    init = initializers.get("he_normal")
    init = initializers.get({"name": "truncated_normal", "stddev": 0.1})
    fan_in, fan_out = initializers.compute_fans((32, 1, 5, 5), "conv")
    kernel = init((32, 1, 5, 5), fan_in, fan_out, np.random.default_rng(0), np.float32)

Values are drawn on the host from the run's seeded generator, always in float64 and then rounded to
the requested dtype, so a float64 network (gradient checks) starts from the same weights as its
float32 twin. The network copies the result to the device.

The fan-scaled initializers are all ``VarianceScaling`` presets, exactly as in Keras: glorot_* use
the average of the fans, he_* and lecun_* the fan in, and the "normal" variants draw from a normal
truncated at two standard deviations (stddev corrected by 0.8796 so the variance stays scale / fan).
"""

from __future__ import annotations

import difflib
import functools
import inspect
import math
import re

import numpy as np

from engine import checks

# Standard deviation of a unit normal truncated to [-2, 2]; Keras divides by it so that the
# truncated draw keeps the variance the fan-scaling rule asks for.
_TRUNCATED_UNIT_STDDEV = 0.87962566103423978


class Initializer:
    """Base: ``init(shape, fan_in, fan_out, rng, dtype) -> numpy.ndarray`` and ``get_config()``."""

    name = "initializer"

    def __call__(self, shape, fan_in: float, fan_out: float, rng: np.random.Generator, dtype=np.float32):
        shape = tuple(int(d) for d in shape)
        return np.asarray(self._draw(shape, fan_in, fan_out, rng), dtype=np.float64).astype(dtype, copy=False)

    def _draw(self, shape, fan_in, fan_out, rng) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    name = "zeros"

    def _draw(self, shape, fan_in, fan_out, rng):
        return np.zeros(shape)


class Ones(Initializer):
    name = "ones"

    def _draw(self, shape, fan_in, fan_out, rng):
        return np.ones(shape)


class Constant(Initializer):
    """Every value equal to ``value`` (Keras default 0)."""

    name = "constant"

    def __init__(self, value: float = 0.0):
        self.value = checks.initial_value(self.name, "value", value)

    def _draw(self, shape, fan_in, fan_out, rng):
        return np.full(shape, self.value)

    def get_config(self):
        return {"name": self.name, "value": self.value}


class RandomNormal(Initializer):
    """Normal(mean, stddev); Keras defaults mean=0, stddev=0.05."""

    name = "random_normal"

    def __init__(self, mean: float = 0.0, stddev: float = 0.05):
        self.mean = checks.initial_value(self.name, "mean", mean)
        self.stddev = _positive_initial(self.name, "stddev", stddev)

    def _draw(self, shape, fan_in, fan_out, rng):
        return self.mean + self.stddev * rng.standard_normal(shape)

    def get_config(self):
        return {"name": self.name, "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomNormal):
    """Normal(mean, stddev) with draws beyond two stddev re-drawn, as TensorFlow does; stddev 0.05."""

    name = "truncated_normal"

    def _draw(self, shape, fan_in, fan_out, rng):
        return self.mean + self.stddev * truncated_unit_normal(shape, rng)


class RandomUniform(Initializer):
    """Uniform on [minval, maxval); Keras defaults -0.05, 0.05."""

    name = "random_uniform"

    def __init__(self, minval: float = -0.05, maxval: float = 0.05):
        self.minval = checks.initial_value(self.name, "minval", minval)
        self.maxval = checks.initial_value(self.name, "maxval", maxval)
        if not self.minval < self.maxval:
            raise ValueError(f"{self.name}: minval must be less than maxval. "
                             f"Received: minval={checks.shown(minval)}, maxval={checks.shown(maxval)}")

    def _draw(self, shape, fan_in, fan_out, rng):
        return rng.uniform(self.minval, self.maxval, shape)

    def get_config(self):
        return {"name": self.name, "minval": self.minval, "maxval": self.maxval}


class VarianceScaling(Initializer):
    """Variance ``scale / n`` with n the fan in, the fan out or their average (``mode``).

    ``distribution`` is "truncated_normal" (Keras's default), "untruncated_normal" (alias "normal")
    or "uniform" (limit sqrt(3 * scale / n)).
    """

    name = "variance_scaling"
    MODES = ("fan_in", "fan_out", "fan_avg")
    DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "normal", "uniform")

    def __init__(self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal"):
        self.scale = _positive_initial(self.name, "scale", scale)
        self.mode = _choice(self.name, "mode", mode, self.MODES)
        self.distribution = _choice(self.name, "distribution", distribution, self.DISTRIBUTIONS)

    def _draw(self, shape, fan_in, fan_out, rng):
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, float(fan))
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return rng.uniform(-limit, limit, shape)
        if self.distribution == "truncated_normal":
            return math.sqrt(variance) / _TRUNCATED_UNIT_STDDEV * truncated_unit_normal(shape, rng)
        return math.sqrt(variance) * rng.standard_normal(shape)

    def get_config(self):
        return {"name": self.name, "scale": self.scale, "mode": self.mode, "distribution": self.distribution}


class _Preset(VarianceScaling):
    """A named VarianceScaling rule (glorot_uniform, he_normal...): takes no arguments."""

    preset: tuple[float, str, str]

    def __init__(self):
        super().__init__(*self.preset)

    def get_config(self):
        return {"name": self.name}


class GlorotUniform(_Preset):
    """Uniform in +-sqrt(6 / (fan_in + fan_out)); the default for kernels."""

    name, preset = "glorot_uniform", (1.0, "fan_avg", "uniform")


class GlorotNormal(_Preset):
    name, preset = "glorot_normal", (1.0, "fan_avg", "truncated_normal")


class HeUniform(_Preset):
    """Uniform in +-sqrt(6 / fan_in); suits ReLU layers."""

    name, preset = "he_uniform", (2.0, "fan_in", "uniform")


class HeNormal(_Preset):
    name, preset = "he_normal", (2.0, "fan_in", "truncated_normal")


class LecunUniform(_Preset):
    name, preset = "lecun_uniform", (1.0, "fan_in", "uniform")


class LecunNormal(_Preset):
    name, preset = "lecun_normal", (1.0, "fan_in", "truncated_normal")


class Orthogonal(Initializer):
    """A random orthogonal matrix times ``gain`` (Keras default 1.0); the default for recurrent kernels.

    As Keras: the shape is read as a matrix (product of all axes but the last) x (last axis); a normal draw
    of the taller orientation is QR-factored, Q's columns signed by R's diagonal (so Q is uniformly
    distributed), and transposed back where the matrix is wider than tall. An (H, 4H) LSTM recurrent kernel
    thus has orthonormal rows.
    """

    name = "orthogonal"

    def __init__(self, gain: float = 1.0):
        self.gain = checks.initial_value(self.name, "gain", gain)

    def _draw(self, shape, fan_in, fan_out, rng):
        rows = math.prod(shape[:-1]) if len(shape) > 1 else 1
        columns = shape[-1] if shape else 1
        q, r = np.linalg.qr(rng.standard_normal((max(rows, columns), min(rows, columns))))
        q *= np.sign(np.diag(r))
        if rows < columns:
            q = q.T
        return self.gain * q.reshape(shape)

    def get_config(self):
        return {"name": self.name, "gain": self.gain}


INITIALIZERS: dict[str, type[Initializer]] = {
    cls.name: cls
    for cls in (Zeros, Ones, Constant, GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform,
                LecunNormal, TruncatedNormal, RandomNormal, RandomUniform, VarianceScaling, Orthogonal)
}


def get(config) -> Initializer:
    """An initializer from a name ("he_normal", Keras's "HeNormal" too), a dict with "name", or an instance."""
    if isinstance(config, Initializer):
        return config
    if isinstance(config, str):
        name, arguments = config, {}
    elif isinstance(config, dict) and isinstance(config.get("name"), str):
        arguments = dict(config)
        name = arguments.pop("name")
    else:
        raise ValueError('an initializer config must be a name such as "glorot_uniform" or a dict such as '
                         f'{{"name": "truncated_normal", "stddev": 0.1}}. Received: {checks.shown(config)}')
    key = _snake_case(name)
    if key not in INITIALIZERS:
        raise ValueError(_unknown_name_message(name, key))
    cls = INITIALIZERS[key]
    accepted = _arguments_of(cls)
    unexpected = sorted(set(arguments) - set(accepted), key=str)
    if unexpected:
        raise ValueError(f"initializer '{key}' got unexpected argument(s) "
                         f"{', '.join(str(u)[:60] for u in unexpected)}; "
                         f"expected: {', '.join(accepted) or 'no arguments'}")
    return cls(**arguments)


@functools.cache
def _arguments_of(cls) -> tuple[str, ...]:
    """The arguments ``cls`` takes; cached, since inspect.signature costs ~0.1 ms and every node's
    initializers are resolved on every edit (20,000 Dense nodes: 4 of the 5 s shape inference took)."""
    return tuple(p for p in inspect.signature(cls.__init__).parameters if p != "self")


def compute_fans(shape, kind: str) -> tuple[int, int]:
    """(fan_in, fan_out) of a kernel in LayerLab's layouts.

    kind "dense": shape (in, out) -> (in, out).
    kind "conv":  shape (out, in, *kernel) -> (in * prod(kernel), out * prod(kernel)).
    """
    shape = tuple(int(d) for d in shape)
    if kind == "dense":
        if len(shape) != 2:
            raise ValueError(f"compute_fans: a dense kernel is (in, out). Received: shape={shape}")
        return shape[0], shape[1]
    if kind == "conv":
        if len(shape) < 3:
            raise ValueError(f"compute_fans: a conv kernel is (out, in, *kernel). Received: shape={shape}")
        receptive_field = math.prod(shape[2:])
        return shape[1] * receptive_field, shape[0] * receptive_field
    raise ValueError(f"compute_fans: kind must be 'dense' or 'conv'. Received: kind={kind!r}")


def truncated_unit_normal(shape, rng: np.random.Generator) -> np.ndarray:
    """Standard normal draws with every value beyond +-2 re-drawn (TensorFlow's truncated_normal)."""
    values = rng.standard_normal(shape)
    outside = np.abs(values) > 2.0
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2.0
    return values


def _snake_case(name: str) -> str:
    """"HeNormal" and "he_normal" both name he_normal, so Keras class names work too."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name.strip()).lower()


def _unknown_name_message(received: str, key: str) -> str:
    message = f"unknown initializer {checks.shown(received)}; expected one of: {', '.join(INITIALIZERS)}"
    close = difflib.get_close_matches(key, INITIALIZERS, n=1) if len(key) < 100 else []
    return message + (f". Did you mean {close[0]!r}?" if close else "")


def _choice(owner: str, field: str, value, choices) -> str:
    if value not in choices:
        raise ValueError(f"{owner}: {field} must be one of {', '.join(choices)}. "
                         f"Received: {field}={checks.shown(value)}")
    return value


def _positive_initial(owner: str, field: str, value) -> float:
    """A spread (stddev, scale): > 0, and no larger than any initial value may be."""
    checks.positive(owner, field, value)
    return checks.initial_value(owner, field, value)
