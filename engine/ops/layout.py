"""Memory layout of image activations: logically NCHW everywhere, stored as (C, H, W, N) inside conv nets.

Arrays passed between layers are always *logically* (N, C, H, W). Convolution, however, computes one
big GEMM whose natural result is (filters, out_h, out_w, N) in memory — the layout cuda-convnet used,
with the batch innermost. Rather than copy it back to NCHW, a convolution returns the transposed
view, and every op downstream keeps that layout (NumPy/CuPy ufuncs follow their input's memory
order; ops that allocate use ``full_like_layout``). With the batch innermost, every window shift of
im2col and col2im moves whole contiguous runs of out_w * N values, so those copies run at memory
speed instead of element by element, and the backward GEMMs read ``dy`` without a copy.
"""

from __future__ import annotations

import numpy as np

from engine.backend import array_module

NCHW_TO_CHWN = (1, 2, 3, 0)
CHWN_TO_NCHW = (3, 0, 1, 2)


def is_chwn(x) -> bool:
    """True when a logical NCHW array is stored as (C, H, W, N) in memory."""
    return x.ndim == 4 and x.transpose(NCHW_TO_CHWN).flags.c_contiguous and not (
        x.flags.c_contiguous and x.shape[0] > 1
    )


def empty_chwn(xp, shape, dtype, fill_value=None):
    """A new logical-NCHW array of ``shape`` stored as CHWN; uninitialised when ``fill_value`` is None."""
    n, c, h, w = shape
    if fill_value is None:
        memory = xp.empty((c, h, w, n), dtype=dtype)
    else:
        memory = xp.full((c, h, w, n), fill_value, dtype=dtype)
    return memory.transpose(CHWN_TO_NCHW)


def full_like_layout(x, shape, fill_value, dtype=None):
    """A new logical-NCHW array of ``shape`` stored like ``x`` (CHWN or NCHW).

    Filled with ``fill_value``, or left uninitialised when it is None (the caller writes every element).
    """
    xp = array_module(x)
    dtype = dtype or x.dtype
    if is_chwn(x):
        return empty_chwn(xp, shape, dtype, fill_value)
    return xp.empty(shape, dtype=dtype) if fill_value is None else xp.full(shape, fill_value, dtype)


def pad_like_layout(x, pads, fill_value=0):
    """``x`` with (top, bottom, left, right) pads on H and W, stored like ``x``; ``x`` itself if no pads."""
    top, bottom, left, right = pads
    if not (top or bottom or left or right):
        return x
    n, c, h, w = x.shape
    padded = full_like_layout(x, (n, c, h + top + bottom, w + left + right), fill_value)
    padded[:, :, top:top + h, left:left + w] = x
    return padded


def pad_to_chwn(x, pads, fill_value=0):
    """``x`` padded and stored as CHWN (one copy at most; none when it already is and needs no pads)."""
    top, bottom, left, right = pads
    if is_chwn(x) and not (top or bottom or left or right):
        return x
    xp = array_module(x)
    n, c, h, w = x.shape
    padded = empty_chwn(xp, (n, c, h + top + bottom, w + left + right), x.dtype,
                        fill_value if (top or bottom or left or right) else None)
    padded[:, :, top:top + h, left:left + w] = x
    return padded


def strided_view(array, shape, strides):
    """``as_strided(array, shape, strides)``; for a C-contiguous NumPy array without as_strided's ~4 us
    of Python (it goes through ``__array_interface__``), a cost paid several times in every single-image
    pass. The view must lie inside ``array``'s memory: NumPy checks that here, as_strided does not.
    """
    if isinstance(array, np.ndarray) and array.flags.c_contiguous:
        return np.ndarray(shape, array.dtype, array, 0, strides)
    return array_module(array).lib.stride_tricks.as_strided(array, shape=shape, strides=strides)


def window_slice(i: int, j: int, strides, out_hw):
    """The (H, W) slices that pick kernel offset (i, j) of every window."""
    sh, sw = strides
    out_h, out_w = out_hw
    return slice(i, i + sh * (out_h - 1) + 1, sh), slice(j, j + sw * (out_w - 1) + 1, sw)
