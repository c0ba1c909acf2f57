"""Trainable parameters: a value and its gradient, side by side.

A network allocates all its parameters as views into one flat value buffer and one flat gradient
buffer (``ParameterStore``), so an optimizer can update every weight with a handful of whole-buffer
operations instead of a Python loop over layers. Code that only needs one parameter keeps using
``param.value`` and ``param.grad`` as ordinary arrays.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class Parameter:
    """A trainable array and its gradient (same shape, same dtype).

    ``regularize`` says whether L2 / weight decay applies (kernels yes; biases and
    normalisation scales no, as in Keras' ``kernel_regularizer``).
    """

    __slots__ = ("value", "grad", "regularize")

    def __init__(self, value, grad=None, regularize: bool = True):
        self.value = value
        self.grad = grad if grad is not None else value * 0
        self.regularize = regularize

    @property
    def shape(self):
        return self.value.shape

    @property
    def size(self) -> int:
        return int(self.value.size)

    def zero_grad(self) -> None:
        self.grad[...] = 0

    def __repr__(self) -> str:
        return f"Parameter(shape={tuple(self.value.shape)}, dtype={self.value.dtype})"


class ParameterStore:
    """Hands out parameters that are views into two flat buffers (values, gradients).

    Usage: ``store = ParameterStore(xp, dtype, total_size)``; ``store.take(shape)`` returns a
    Parameter whose value and grad are views of the next ``prod(shape)`` elements.
    """

    def __init__(self, xp, dtype, total_size: int):
        self.values = xp.zeros(total_size, dtype=dtype)
        self.grads = xp.zeros(total_size, dtype=dtype)
        self._offset = 0

    def take(self, shape: tuple[int, ...], regularize: bool = True) -> Parameter:
        size = 1
        for dim in shape:
            size *= int(dim)
        start, stop = self._offset, self._offset + size
        if stop > self.values.size:
            raise ValueError(f"ParameterStore overflow: asked for {stop} of {self.values.size} elements")
        self._offset = stop
        return Parameter(self.values[start:stop].reshape(shape), self.grads[start:stop].reshape(shape), regularize)


def flat_buffers(params: Iterable[Parameter]):
    """(values, grads) when ``params`` tile one flat buffer pair exactly, in order; else None.

    Optimizers use this to update everything at once; a hand-made list of parameters
    (tests, notebooks) simply takes the per-parameter path.
    """
    params = list(params.values() if isinstance(params, Mapping) else params)
    if not params:
        return None
    values, grads = params[0].value.base, params[0].grad.base
    if values is None or grads is None or values.ndim != 1 or grads.ndim != 1:
        return None
    expected_bytes = 0
    for p in params:
        if p.value.base is not values or p.grad.base is not grads:
            return None
        if not (p.value.flags.c_contiguous and p.grad.flags.c_contiguous):
            return None
        if (_address(p.value) - _address(values) != expected_bytes
                or _address(p.grad) - _address(grads) != expected_bytes):
            return None
        expected_bytes += p.value.nbytes
    if expected_bytes != values.nbytes or expected_bytes != grads.nbytes:
        return None
    return values, grads


def _address(array) -> int:
    """Address of an array's first element, NumPy or CuPy."""
    data = array.data
    return int(data.ptr) if hasattr(data, "ptr") else int(array.ctypes.data)
