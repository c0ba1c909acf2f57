"""Scratch buffers reused from one training step to the next.

A convolution's im2col matrix and its gradient are tens of megabytes. Allocated afresh each step,
such buffers come straight from the OS (too big for malloc's heap), and touching their pages for
the first time costs as much as a third of the copy itself. A layer keeps one ``Workspace`` and asks
it for buffers by name; a buffer is reallocated only when its shape or dtype changes. A buffer from
here is overwritten by the layer's next training pass: only what nobody reads after that may live in
one (what backward reads of its own pass, an output the next layer consumes within the step).
"""

from __future__ import annotations

from engine.backend import array_module


class Workspace:
    def __init__(self):
        self._buffers = {}
        self._children = {}

    def get(self, name: str, shape: tuple, dtype, like):
        """An uninitialised buffer ``name`` of ``shape`` and ``dtype`` on the device of ``like``."""
        xp = array_module(like)
        buffer = self._buffers.get(name)
        if buffer is None or buffer.shape != tuple(shape) or buffer.dtype != dtype or array_module(buffer) is not xp:
            buffer = None  # let the old one go before the new one is allocated
            self._buffers.pop(name, None)
            buffer = xp.empty(shape, dtype=dtype)
            self._buffers[name] = buffer
        return buffer

    def child(self, name: str) -> Workspace:
        """A workspace of its own for a sub-operation (its buffer names cannot clash with ours)."""
        if name not in self._children:
            self._children[name] = Workspace()
        return self._children[name]

    def clear(self) -> None:
        self._buffers.clear()
        self._children.clear()


def scratch_buffer(workspace: Workspace | None, name: str, shape: tuple, like):
    """Buffer ``name`` of ``workspace`` (reused between steps), or a fresh one without a workspace
    (inference); uninitialised, with ``like``'s dtype and device."""
    if workspace is None:
        return array_module(like).empty(shape, dtype=like.dtype)
    return workspace.get(name, shape, like.dtype, like)
