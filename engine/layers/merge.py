"""Multi-input layers: Add (residual connections) and Concatenate (inception-style branches)."""

from __future__ import annotations

from engine.backend import array_module
from engine.layers.base import Field, Layer, describe_shape, describe_value


class Add(Layer):
    """Element-wise sum of inputs that all have the same shape."""

    type_name = "Add"
    fields = {}
    min_inputs = 2
    max_inputs = None

    def output_shape(self, input_shapes):
        first = input_shapes[0]
        for shape in input_shapes[1:]:
            if tuple(shape) != tuple(first):
                received = ", ".join(describe_shape(s) for s in input_shapes)
                raise self.error(f"Add needs inputs of one shape; received {received}", "inputs must match")
        return tuple(first)

    def flops(self, input_shapes, output_shape):
        size = 1
        for d in output_shape:
            size *= d
        return (len(input_shapes) - 1) * size

    def forward(self, inputs, training):
        self._count = len(inputs)
        y = inputs[0] + inputs[1]
        for x in inputs[2:]:
            y += x
        return y

    def backward(self, dy, need_input_grads=True):
        # No layer modifies a gradient it receives, so every input may share dy.
        return [dy] * self._count


class Concatenate(Layer):
    """Joins inputs along ``axis`` (1 = channels for images, features for vectors; the batch is axis 0)."""

    type_name = "Concatenate"
    # An example has at most three axes (channels, height, width), so -3..3; 0 is the batch, refused below.
    fields = {"axis": Field("int", 1, low=-3, high=3,
                            help="The axis to join along: 1 is the channels of an image, or a vector's features.")}
    min_inputs = 2
    max_inputs = None

    def configure(self, axis):
        if axis == 0:
            raise ValueError(f"axis must be a non-zero integer (axis 0 is the batch); "
                             f"received axis={describe_value(axis)}")
        self.axis = axis

    def _example_axis(self, rank: int) -> int:
        """The axis within one example's shape (which has no batch axis)."""
        axis = self.axis if self.axis > 0 else self.axis + rank + 1
        if not 1 <= axis <= rank:
            raise self.error(f"axis {self.axis} is out of range for inputs of rank {rank} (plus the batch axis)",
                             "axis must exist")
        return axis - 1

    def output_shape(self, input_shapes):
        rank = len(input_shapes[0])
        if any(len(s) != rank for s in input_shapes):
            received = ", ".join(describe_shape(s) for s in input_shapes)
            raise self.error(f"Concatenate needs inputs of one rank; received {received}", "inputs must match")
        axis = self._example_axis(rank)
        for shape in input_shapes[1:]:
            if any(a != b for i, (a, b) in enumerate(zip(shape, input_shapes[0], strict=True)) if i != axis):
                received = ", ".join(describe_shape(s) for s in input_shapes)
                raise self.error(f"Concatenate needs inputs that differ only along axis {self.axis}; "
                                 f"received {received}", "inputs must match")
        out = list(input_shapes[0])
        out[axis] = sum(s[axis] for s in input_shapes)
        return tuple(out)

    def forward(self, inputs, training):
        xp = array_module(inputs[0])
        axis = self._example_axis(inputs[0].ndim - 1) + 1
        self._sizes = [x.shape[axis] for x in inputs]
        self._axis = axis
        return xp.concatenate(inputs, axis=axis)

    def backward(self, dy, need_input_grads=True):
        grads, start = [], 0
        index = [slice(None)] * dy.ndim
        for size in self._sizes:
            index[self._axis] = slice(start, start + size)
            grads.append(dy[tuple(index)])
            start += size
        return grads
