"""ReLU, the plain way. (The other activations in ``engine.ops.activations`` are already written plainly,
each forward beside its backward; only ReLU has a fast path, a piecewise maximum shared between the cores.)"""

from __future__ import annotations

from engine.backend import array_module


def relu_forward(x):
    """y, saved: y itself (where y > 0 the gradient passes)."""
    y = array_module(x).maximum(x, 0)
    return y, y


def relu_backward(dy, y):
    """dx."""
    return dy * (y > 0)
