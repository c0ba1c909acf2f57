"""2-D convolution (cross-correlation, as in every framework): forward and backward side by side.

Shapes: x (N, C, H, W); kernel (F, C, kh, kw); bias (F,); y (N, F, out_h, out_w).

Forward is im2col + one GEMM: the windows of the padded input are copied once into
cols (C*kh*kw, N*out_h*out_w), and y = kernel2d @ cols. The GEMM result is channel-major in memory;
y is returned as a transposed view of it (see ``layout``), so no copy back to NCHW is needed and the
backward GEMMs read ``dy`` without a copy when it arrives in the same layout.

Backward: dkernel = dy2d @ cols.T (cols kept from forward); dx by GEMM into column space and a
col2im scatter-add of kh*kw strided slices. The first layer of a network never needs dx, and skips it.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.backend import array_module
from engine.ops.layout import pad_like_layout, window_slice, window_view
from engine.ops.padding import conv_geometry, normalize_padding, pair


@dataclass
class ConvCache:
    """What backward needs from forward."""

    x_shape: tuple
    cols: object
    kernel: object
    strides: tuple
    pads: tuple
    out_hw: tuple


def conv2d_forward(x, kernel, bias=None, strides=1, padding="valid", keep_cache=True):
    """y, cache. ``strides`` an int or pair, ``padding`` 'valid', 'same' or int/pair."""
    xp = array_module(x)
    strides = pair(strides, "strides")
    n, c, h, w = x.shape
    f, kc, kh, kw = kernel.shape
    if kc != c:
        raise ValueError(f"kernel expects {kc} input channels; received input with {c} channels")
    out_h, out_w, pads = conv_geometry(h, w, (kh, kw), strides, normalize_padding(padding))
    if out_h < 1 or out_w < 1:
        raise ValueError(f"kernel {kh}x{kw} does not fit a {h}x{w} input with padding {padding!r}")
    x_padded = pad_like_layout(x, pads, 0)
    cols = xp.ascontiguousarray(window_view(x_padded, (kh, kw), strides, (out_h, out_w)))
    cols = cols.reshape(c * kh * kw, n * out_h * out_w)
    y2d = kernel.reshape(f, -1) @ cols
    if bias is not None:
        y2d += bias[:, None]
    y = y2d.reshape(f, n, out_h, out_w).transpose(1, 0, 2, 3)
    cache = ConvCache((n, c, h, w), cols, kernel, strides, pads, (out_h, out_w)) if keep_cache else None
    return y, cache


def conv2d_backward(dy, cache: ConvCache, need_dx=True, dkernel_out=None, dbias_out=None):
    """(dx or None, dkernel, dbias). Writes into ``dkernel_out`` / ``dbias_out`` when given."""
    xp = array_module(dy)
    kernel = cache.kernel
    f, c, kh, kw = kernel.shape
    n, _, h, w = cache.x_shape
    out_h, out_w = cache.out_hw
    dy2d = dy.transpose(1, 0, 2, 3).reshape(f, n * out_h * out_w)  # a free view when dy is channel-major

    if dkernel_out is not None:
        xp.matmul(dy2d, cache.cols.T, out=dkernel_out.reshape(f, -1))
        dkernel = dkernel_out
    else:
        dkernel = (dy2d @ cache.cols.T).reshape(kernel.shape)
    if dbias_out is not None:
        dy2d.sum(axis=1, out=dbias_out)
        dbias = dbias_out
    else:
        dbias = dy2d.sum(axis=1)

    dx = None
    if need_dx:
        dcols = (kernel.reshape(f, -1).T @ dy2d).reshape(c, kh, kw, n, out_h, out_w)
        top, bottom, left, right = cache.pads
        # Accumulate in (C, N, H, W) memory, where each dcols[:, i, j] block is contiguous;
        # dx is returned as its logical-NCHW view (channel-major, like the activations).
        dx_cm = xp.zeros((c, n, h + top + bottom, w + left + right), dtype=dy.dtype)
        dx_padded = dx_cm.transpose(1, 0, 2, 3)
        for i in range(kh):
            for j in range(kw):
                rows, columns = window_slice(i, j, cache.strides, cache.out_hw)
                dx_cm[:, :, rows, columns] += dcols[:, i, j]
        dx = dx_padded[:, :, top:top + h, left:left + w]
    return dx, dkernel, dbias


def conv2d(x, kernel, bias=None, strides=1, padding="valid"):
    """Convolution of NCHW ``x`` with an (F, C, kh, kw) ``kernel``; TensorFlow's 'same' rule.

    >>> import numpy as np
    >>> conv2d(np.ones((1, 1, 4, 4)), np.ones((2, 1, 3, 3)), padding="same").shape
    (1, 2, 4, 4)
    """
    return conv2d_forward(x, kernel, bias, strides, padding, keep_cache=False)[0]
