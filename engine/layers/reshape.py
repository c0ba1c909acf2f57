"""Reshape: the same values, read as another shape (Keras's Reshape; the batch axis is never touched)."""

from __future__ import annotations

import math

from engine.design_limits import MAX_SIZE
from engine.layers.base import REQUIRED, Field, Layer, describe_shape, describe_value


def check_target_shape(value, name: str) -> list[int]:
    """1 to 3 integers >= 1, one of which may be -1 (inferred from the input's size)."""
    ok = isinstance(value, (list, tuple)) and 1 <= len(value) <= 3
    ok = ok and all(isinstance(d, int) and not isinstance(d, bool) and (d == -1 or 1 <= d <= MAX_SIZE)
                    for d in value)
    if not ok:
        raise ValueError(f"{name} must be a list of 1 to 3 integers >= 1 (one of them may be -1, inferred); "
                         f"received {name}={describe_value(value)}")
    if sum(1 for d in value if d == -1) > 1:
        raise ValueError(f"{name} may hold -1 (inferred) only once; received {name}={describe_value(value)}")
    return [int(d) for d in value]


class Reshape(Layer):
    """(any shape) -> ``target_shape`` holding the same number of values, in C order (as Keras and PyTorch)."""

    type_name = "Reshape"
    fields = {"target_shape": Field("shape", REQUIRED, low=-1, high=MAX_SIZE, check=check_target_shape,
                                    help="The new shape of one example, e.g. [28, 28] (steps x features) or "
                                         "[1, 28, 28]; one number may be -1, worked out from the input's size.")}

    def output_shape(self, input_shapes):
        shape = tuple(input_shapes[0])
        size = math.prod(shape)
        target = list(self.target_shape)
        known = math.prod(d for d in target if d != -1)
        if -1 in target:
            if size % known:
                raise self.error(f"Reshape cannot read {describe_shape(shape)} ({size:,} values) as "
                                 f"{describe_shape(target)}: {size:,} is not a multiple of {known:,}",
                                 "reshape size")
            target[target.index(-1)] = size // known
        elif known != size:
            raise self.error(f"Reshape cannot read {describe_shape(shape)} ({size:,} values) as "
                             f"{describe_shape(target)} ({known:,} values): the sizes must be equal",
                             "reshape size")
        return tuple(target)

    def build(self, input_shapes, store, rng, xp, dtype) -> None:
        super().build(input_shapes, store, rng, xp, dtype)
        self._target = self.output_shape(input_shapes)

    def forward(self, inputs, training):
        x = inputs[0]
        self._x_shape = x.shape
        return x.reshape((x.shape[0],) + self._target)

    def backward(self, dy, need_input_grads=True):
        return [dy.reshape(self._x_shape)]
