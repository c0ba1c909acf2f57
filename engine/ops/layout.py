"""Memory-layout helpers shared by the window operations (convolution and pooling).

Arrays are always *logically* NCHW. Convolution computes one big GEMM whose natural result is
channel-major in memory (C, N, H, W); rather than copying it back to NCHW, it returns a transposed
view, and every op downstream (NumPy/CuPy ufuncs keep the input's memory order) carries that layout
along. Operations that allocate new 4-D arrays use ``empty_like_layout`` so the chain stays in one
layout and the next convolution's GEMM operands are free views instead of copies.
"""

from __future__ import annotations

from engine.backend import array_module


def is_channel_major(x) -> bool:
    """True when a logical NCHW array is laid out as (C, N, H, W) in memory."""
    return x.ndim == 4 and not x.flags.c_contiguous and x.transpose(1, 0, 2, 3).flags.c_contiguous


def full_like_layout(x, shape, fill_value, dtype=None):
    """A new logical-NCHW array of ``shape`` in the same memory layout as ``x``.

    Filled with ``fill_value``, or left uninitialised when it is None (the caller writes every element).
    """
    xp = array_module(x)
    dtype = dtype or x.dtype
    channel_major = is_channel_major(x)
    memory_shape = (shape[1], shape[0]) + tuple(shape[2:]) if channel_major else tuple(shape)
    array = xp.empty(memory_shape, dtype=dtype) if fill_value is None else xp.full(memory_shape, fill_value, dtype)
    return array.transpose(1, 0, 2, 3) if channel_major else array


def pad_like_layout(x, pads, fill_value=0):
    """``x`` with (top, bottom, left, right) pads on H and W, filled with ``fill_value``; ``x`` itself if none."""
    top, bottom, left, right = pads
    if not (top or bottom or left or right):
        return x
    n, c, h, w = x.shape
    padded = full_like_layout(x, (n, c, h + top + bottom, w + left + right), fill_value)
    padded[:, :, top:top + h, left:left + w] = x
    return padded


def window_view(x_padded, kernel, strides, out_hw, order="kernel_first"):
    """A strided view of every kernel window of a padded NCHW array, without copying.

    ``order="kernel_first"`` gives shape (C, kh, kw, N, out_h, out_w): the im2col layout whose
    contiguous copy reshapes to the (C*kh*kw, N*out_h*out_w) GEMM operand.
    """
    xp = array_module(x_padded)
    kh, kw = kernel
    sh, sw = strides
    out_h, out_w = out_hw
    n, c, _, _ = x_padded.shape
    s_n, s_c, s_h, s_w = x_padded.strides
    return xp.lib.stride_tricks.as_strided(
        x_padded, shape=(c, kh, kw, n, out_h, out_w), strides=(s_c, s_h, s_w, s_n, s_h * sh, s_w * sw)
    )


def window_slice(i: int, j: int, strides, out_hw):
    """The (H, W) slices that pick kernel offset (i, j) of every window."""
    sh, sw = strides
    out_h, out_w = out_hw
    return slice(i, i + sh * (out_h - 1) + 1, sh), slice(j, j + sw * (out_w - 1) + 1, sw)
