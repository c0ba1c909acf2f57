"""Stateless differentiable functions (Chainer's ``functions``): the math, written once against ``xp``.

Layers in ``engine.layers`` own parameters and call these. The plain forms below are the public
operations; the ``*_forward`` / ``*_backward`` pairs are what the layers use.
"""

from engine.ops.activations import ACTIVATIONS, get_activation, softmax
from engine.ops.conv import conv2d, conv2d_backward, conv2d_forward
from engine.ops.pooling import (
    avg_pool2d,
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d,
    max_pool2d_backward,
    max_pool2d_forward,
)

__all__ = [
    "ACTIVATIONS",
    "get_activation",
    "softmax",
    "conv2d",
    "conv2d_forward",
    "conv2d_backward",
    "max_pool2d",
    "max_pool2d_forward",
    "max_pool2d_backward",
    "avg_pool2d",
    "avg_pool2d_forward",
    "avg_pool2d_backward",
]
