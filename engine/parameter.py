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

    def take(self, shape: tuple[int, ...], regularize: bool = True, transposed: bool = False) -> Parameter:
        """The next ``prod(shape)`` elements as a Parameter of ``shape``; with ``transposed``, stored as the
        transpose of ``shape`` (column-major), which is what a product reading the parameter's columns wants."""
        size = 1
        for dim in shape:
            size *= int(dim)
        start, stop = self._offset, self._offset + size
        if stop > self.values.size:
            raise ValueError(f"ParameterStore overflow: asked for {stop} of {self.values.size} elements")
        self._offset = stop
        return Parameter(_shaped(self.values[start:stop], shape, transposed),
                         _shaped(self.grads[start:stop], shape, transposed), regularize)


def _shaped(flat, shape: tuple, transposed: bool):
    return flat.reshape(tuple(shape)[::-1]).T if transposed else flat.reshape(shape)


def shaped_like(flat, like):
    """A view of 1-D ``flat`` with the shape and memory order of parameter array ``like`` (C or F order)."""
    return _shaped(flat, like.shape, transposed=like.ndim > 1 and not like.flags.c_contiguous)


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
        if not _dense(p.value) or p.grad.strides != p.value.strides:  # element i of both buffers: one weight
            return None
        if (_address(p.value) - _address(values) != expected_bytes
                or _address(p.grad) - _address(grads) != expected_bytes):
            return None
        expected_bytes += p.value.nbytes
    if expected_bytes != values.nbytes or expected_bytes != grads.nbytes:
        return None
    return values, grads


def _dense(array) -> bool:
    """True when ``array`` fills one block of memory in C or F order (a parameter's two layouts)."""
    return bool(array.flags.c_contiguous or array.flags.f_contiguous)


def _address(array) -> int:
    """Address of an array's first element, NumPy or CuPy."""
    data = array.data
    return int(data.ptr) if hasattr(data, "ptr") else int(array.ctypes.data)
