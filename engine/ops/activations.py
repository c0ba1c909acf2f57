"""Element-wise activations (and softmax over the channel/feature axis): forward and backward together.

Each activation is a pair of functions: ``forward(x) -> (y, saved)`` and ``backward(dy, saved) -> dx``,
where ``saved`` is whatever the derivative needs (the output for relu/sigmoid/tanh, the input for
the others). ``forward(..., inplace=True)`` may overwrite ``x`` — the fused Dense/Conv2D activation
uses it on its own pre-activation buffer. No function modifies ``dy``.

ReLU, on every convolution and most dense layers, has a fast pair of its own (``relu_fast``) whose plain
form is ``engine.ops.reference.activations``; the others are written plainly here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from engine.backend import array_module
from engine.ops.relu_fast import relu_backward, relu_forward

LEAKY_RELU_SLOPE = 0.2  # keras.activations.leaky_relu's default negative_slope
ELU_ALPHA = 1.0


@dataclass(frozen=True)
class Activation:
    name: str
    forward: Callable
    backward: Callable


def _linear_forward(x, inplace=False):
    return x, None


def _linear_backward(dy, saved):
    return dy


def _leaky_relu_forward(x, inplace=False):
    xp = array_module(x)
    y = xp.where(x > 0, x, x * x.dtype.type(LEAKY_RELU_SLOPE))
    return y, y


def _leaky_relu_backward(dy, y):
    xp = array_module(dy)
    return xp.where(y > 0, dy, dy * dy.dtype.type(LEAKY_RELU_SLOPE))


def _sigmoid_forward(x, inplace=False):
    xp = array_module(x)
    # 1 / (1 + exp(-x)) overflows for large negative x; the tanh form is exact and stable.
    y = xp.tanh(x * x.dtype.type(0.5), out=x if inplace else None)
    y *= 0.5
    y += 0.5
    return y, y


def _sigmoid_backward(dy, y):
    return dy * y * (1 - y)


def _tanh_forward(x, inplace=False):
    xp = array_module(x)
    y = xp.tanh(x, out=x if inplace else None)
    return y, y


def _tanh_backward(dy, y):
    return dy * (1 - y * y)


def softmax(x, axis=1):
    """Numerically stable softmax (shift by the max); shown to people, never fed to a log."""
    xp = array_module(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    e = xp.exp(shifted)
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _softmax_forward(x, inplace=False):
    y = softmax(x, axis=1)
    return y, y


def _softmax_backward(dy, y):
    return y * (dy - (dy * y).sum(axis=1, keepdims=True))


def _elu_forward(x, inplace=False):
    xp = array_module(x)
    y = xp.where(x > 0, x, ELU_ALPHA * xp.expm1(xp.minimum(x, 0)))
    return y, y


def _elu_backward(dy, y):
    xp = array_module(dy)
    # For x <= 0, d/dx alpha*(e^x - 1) = y + alpha.
    return xp.where(y > 0, dy, dy * (y + ELU_ALPHA))


_SQRT_HALF = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def erf(x):
    """Error function, accurate to the dtype: NumPy has none built in.

    float32: Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, below float32 resolution near 1).
    float64: a positive power series below 2.5 and a continued fraction for erfc above
    (|error| ~ 1e-15), so float64 gradient checks and PyTorch cross-checks agree to 1e-12.
    """
    if x.dtype.itemsize >= 8:
        return _erf_float64(x)
    xp = array_module(x)
    sign = xp.sign(x)
    a = xp.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return (sign * (1.0 - poly * xp.exp(-a * a))).astype(x.dtype, copy=False)


_SERIES_LIMIT = 2.5


def _erf_float64(x):
    xp = array_module(x)
    a = xp.abs(x)
    # erf(a) = 2/sqrt(pi) * exp(-a^2) * sum_n (2a^2)^n * a / (2n+1)!!  (every term positive: no cancellation)
    s = xp.minimum(a, _SERIES_LIMIT)
    term = s.copy()
    total = s.copy()
    two_s2 = 2 * s * s
    for n in range(1, 60):
        term *= two_s2 / (2 * n + 1)
        total += term
    series = (2 / math.sqrt(math.pi)) * xp.exp(-s * s) * total
    # erfc(a) = exp(-a^2)/sqrt(pi) / (a + (1/2)/(a + 1/(a + (3/2)/(a + ...))))  for a >= 2.5
    big = xp.maximum(a, _SERIES_LIMIT)
    fraction = big.copy()
    for k in range(80, 0, -1):
        fraction = big + (k / 2) / fraction
    tail = 1 - xp.exp(-big * big) / math.sqrt(math.pi) / fraction
    return xp.sign(x) * xp.where(a < _SERIES_LIMIT, series, tail)


def _gelu_forward(x, inplace=False):
    # Exact GELU, x * Phi(x), as keras.activations.gelu(approximate=False) and torch's default.
    y = x * (0.5 * (1.0 + erf(x * _SQRT_HALF)))
    return y.astype(x.dtype, copy=False), x


def _gelu_backward(dy, x):
    xp = array_module(x)
    cdf = 0.5 * (1.0 + erf(x * _SQRT_HALF))
    pdf = _INV_SQRT_2PI * xp.exp(-0.5 * x * x)
    return (dy * (cdf + x * pdf)).astype(dy.dtype, copy=False)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("linear", _linear_forward, _linear_backward),
        Activation("relu", relu_forward, relu_backward),
        Activation("leaky_relu", _leaky_relu_forward, _leaky_relu_backward),
        Activation("sigmoid", _sigmoid_forward, _sigmoid_backward),
        Activation("tanh", _tanh_forward, _tanh_backward),
        Activation("softmax", _softmax_forward, _softmax_backward),
        Activation("elu", _elu_forward, _elu_backward),
        Activation("gelu", _gelu_forward, _gelu_backward),
    )
}


def get_activation(name) -> Activation:
    """The activation called ``name`` (None means linear); ValueError listing the choices otherwise."""
    if name is None:
        name = "linear"
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]
