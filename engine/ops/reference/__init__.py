"""The engine's math, plainly: one reference function pair (forward, backward) per op, written against ``xp``.

Read these first. Each op's forward and its gradient sit side by side, as in micrograd and Chainer, with no
chunking, no memory-layout tricks, no threads and no workspace. The ops the layers call (``engine.ops.conv``,
``pooling``, ``activations``) run faster ways to the same numbers (``conv_columns``, ``conv_one_image``,
``conv_fourier``, ``pooling_2x2``, ``relu_fast``);
``engine.ops.dispatch`` says in one table which of them runs for which shapes, and
tests/engine/test_fast_paths.py checks every one of them against these functions in float64.

Each ``*_forward`` returns ``(y, saved)``; each ``*_backward(dy, saved)`` returns the gradients of the
forward's inputs. They are slow (a Python loop over the window's offsets) and meant for reading and testing.
"""

from engine.ops.reference.activations import relu_backward, relu_forward
from engine.ops.reference.conv import conv2d_backward, conv2d_forward
from engine.ops.reference.pooling import (
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)

__all__ = [
    "conv2d_forward",
    "conv2d_backward",
    "max_pool2d_forward",
    "max_pool2d_backward",
    "avg_pool2d_forward",
    "avg_pool2d_backward",
    "relu_forward",
    "relu_backward",
]
