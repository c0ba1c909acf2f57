"""Nearest-neighbour upsampling (Keras's UpSampling2D, PyTorch's interpolate(mode="nearest") by whole factors).

x (N, C, H, W) -> y (N, C, H*sh, W*sw), each input pixel repeated into an sh x sw block:

    y[n, c, p, q] = x[n, c, p // sh, q // sw]

so its gradient sums each block of dy back onto the pixel it came from. Both work on the (C, H, W, N) memory
that conv nets keep (``engine.ops.layout``): the repeat is one broadcast copy into a (C, H, sh, W, sw, N)
array, the sum one reduction over its sh and sw axes; any other layout is read through a view.
"""

from __future__ import annotations

from engine.backend import array_module
from engine.ops.layout import CHWN_TO_NCHW, NCHW_TO_CHWN
from engine.ops.padding import pair

__all__ = ["upsample_nearest", "upsample_nearest_backward"]


def upsample_nearest(x, size=2):
    """y of shape (N, C, H*sh, W*sw), stored CHWN. ``size`` an int or (sh, sw).

    >>> import numpy as np
    >>> upsample_nearest(np.arange(4.0).reshape(1, 1, 2, 2))[0, 0]
    array([[0., 0., 1., 1.],
           [0., 0., 1., 1.],
           [2., 2., 3., 3.],
           [2., 2., 3., 3.]])
    """
    xp = array_module(x)
    sh, sw = pair(size, "size")
    n, c, h, w = x.shape
    memory = x.transpose(NCHW_TO_CHWN)  # (C, H, W, N): a free view when x is stored CHWN
    y_memory = xp.empty((c, h, sh, w, sw, n), dtype=x.dtype)
    y_memory[...] = memory[:, :, None, :, None, :]
    return y_memory.reshape(c, h * sh, w * sw, n).transpose(CHWN_TO_NCHW)


def upsample_nearest_backward(dy, size=2):
    """dx of shape (N, C, H, W), stored CHWN: each sh x sw block of ``dy`` summed."""
    sh, sw = pair(size, "size")
    n, c, out_h, out_w = dy.shape
    if out_h % sh or out_w % sw:
        raise ValueError(f"a {out_h}x{out_w} gradient is not a whole number of {sh}x{sw} blocks")
    blocks = dy.transpose(NCHW_TO_CHWN).reshape(c, out_h // sh, sh, out_w // sw, sw, n)
    return blocks.sum(axis=(2, 4)).transpose(CHWN_TO_NCHW)
