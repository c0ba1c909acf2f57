"""2-D convolution (cross-correlation, as in every framework): forward and backward side by side.

Shapes: x (N, C, H, W); kernel (F, C, kh, kw); bias (F,); y (N, F, out_h, out_w).

Forward is im2col + one GEMM. The padded input is stored CHWN (see ``layout``), the windows are
copied once into cols (C*kh*kw, out_h*out_w*N), and y = kernel2d @ cols, which is y in CHWN memory,
returned as its logical-NCHW view. Backward: dkernel = dy2d @ cols.T (cols kept from forward); dx by
one GEMM into column space and a col2im scatter-add of kh*kw shifted blocks. The first layer of a
network never needs dx and skips it.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.backend import array_module
from engine.ops.layout import CHWN_TO_NCHW, NCHW_TO_CHWN, pad_to_chwn, window_slice
from engine.ops.padding import conv_geometry, normalize_padding, pair
from engine.parallel import for_ranges


@dataclass
class ConvCache:
    """What backward needs from forward."""

    x_shape: tuple
    cols: object
    workspace: object
    kernel: object
    strides: tuple
    pads: tuple
    out_hw: tuple


def im2col(x_padded_chwn, kernel_hw, strides, out_hw, workspace=None):
    """cols (C*kh*kw, out_h*out_w*N): row (c, i, j) holds input pixel (c, h*sh+i, w*sw+j) for every window."""
    xp = array_module(x_padded_chwn)
    memory = x_padded_chwn.transpose(NCHW_TO_CHWN)  # (C, Hp, Wp, N), contiguous
    c, _, _, n = memory.shape
    (kh, kw), (sh, sw), (out_h, out_w) = kernel_hw, strides, out_hw
    s_c, s_h, s_w, s_n = memory.strides
    windows = xp.lib.stride_tricks.as_strided(
        memory, shape=(c, kh, kw, out_h, out_w, n), strides=(s_c, s_h, s_w, s_h * sh, s_w * sw, s_n))
    if workspace is None:
        cols = xp.empty(windows.shape, dtype=memory.dtype)
    else:
        cols = workspace.get("cols", windows.shape, memory.dtype, memory)

    def copy_channels(start, stop):
        xp.copyto(cols[start:stop], windows[start:stop])

    for_ranges(xp, c, cols[0].size, copy_channels)
    return cols.reshape(c * kh * kw, out_h * out_w * n)


def conv2d_forward(x, kernel, bias=None, strides=1, padding="valid", keep_cache=True, workspace=None):
    """y, cache. ``strides`` an int or pair, ``padding`` 'valid', 'same' or int/pair.

    With a ``workspace`` (training), the big im2col buffers are reused from step to step.
    """
    strides = pair(strides, "strides")
    n, c, h, w = x.shape
    f, kc, kh, kw = kernel.shape
    if kc != c:
        raise ValueError(f"kernel expects {kc} input channels; received input with {c} channels")
    out_h, out_w, pads = conv_geometry(h, w, (kh, kw), strides, normalize_padding(padding))
    if out_h < 1 or out_w < 1:
        raise ValueError(f"kernel {kh}x{kw} does not fit a {h}x{w} input with padding {padding!r}")
    cols = im2col(pad_to_chwn(x, pads, 0), (kh, kw), strides, (out_h, out_w), workspace)
    y2d = kernel.reshape(f, -1) @ cols
    if bias is not None:
        y2d += bias[:, None]
    y = y2d.reshape(f, out_h, out_w, n).transpose(CHWN_TO_NCHW)
    cache = ConvCache((n, c, h, w), cols, workspace, kernel, strides, pads, (out_h, out_w)) if keep_cache else None
    return y, cache


def conv2d_backward(dy, cache: ConvCache, need_dx=True, dkernel_out=None, dbias_out=None):
    """(dx or None, dkernel, dbias). Writes into ``dkernel_out`` / ``dbias_out`` when given."""
    xp = array_module(dy)
    kernel = cache.kernel
    f, c, kh, kw = kernel.shape
    n, _, h, w = cache.x_shape
    out_h, out_w = cache.out_hw
    dy2d = dy.transpose(NCHW_TO_CHWN).reshape(f, out_h * out_w * n)  # a free view when dy is stored CHWN

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
        kernel_t = kernel.reshape(f, -1).T
        if cache.workspace is None:
            dcols = kernel_t @ dy2d
        else:
            dcols = xp.matmul(kernel_t, dy2d, out=cache.workspace.get("dcols", cache.cols.shape, dy.dtype, dy))
        dcols = dcols.reshape(c, kh, kw, out_h, out_w, n)
        top, bottom, left, right = cache.pads
        dx_memory = xp.zeros((c, h + top + bottom, w + left + right, n), dtype=dy.dtype)

        def scatter_channels(start, stop):  # col2im: add each kernel offset's block where it came from
            for i in range(kh):
                for j in range(kw):
                    rows, columns = window_slice(i, j, cache.strides, cache.out_hw)
                    dx_memory[start:stop, rows, columns, :] += dcols[start:stop, i, j]

        for_ranges(xp, c, dcols[0].size, scatter_channels)
        dx = dx_memory[:, top:top + h, left:left + w, :].transpose(CHWN_TO_NCHW)
    return dx, dkernel, dbias


def conv2d(x, kernel, bias=None, strides=1, padding="valid"):
    """Convolution of NCHW ``x`` with an (F, C, kh, kw) ``kernel``; TensorFlow's 'same' rule.

    >>> import numpy as np
    >>> conv2d(np.ones((1, 1, 4, 4)), np.ones((2, 1, 3, 3)), padding="same").shape
    (1, 2, 4, 4)
    """
    return conv2d_forward(x, kernel, bias, strides, padding, keep_cache=False)[0]
