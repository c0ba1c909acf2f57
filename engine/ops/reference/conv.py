"""2-D convolution (cross-correlation), the plain way: one product per kernel offset.

x (N, C, H, W), kernel (F, C, kh, kw), bias (F,) or None; y (N, F, out_h, out_w). Padding follows
TensorFlow's 'same' rule (``engine.ops.padding``). For each kernel offset (i, j), the inputs that offset
sees form a strided window of the padded input, (N, C, out_h, out_w), and

    y[n, f, p, q] += sum_c kernel[f, c, i, j] * window[n, c, p, q]

Backward runs the same loop the other way: the kernel's gradient at (i, j) is that window against dy,
and dy through the kernel's (i, j) slice is added back where the window came from.
"""

from __future__ import annotations

from engine.backend import array_module
from engine.ops.padding import conv_geometry, normalize_padding, pair


def _window(x_padded, i: int, j: int, strides: tuple, out_hw: tuple):
    """The inputs kernel offset (i, j) sees: x_padded[:, :, i + p*sh, j + q*sw] for every output (p, q)."""
    (sh, sw), (out_h, out_w) = strides, out_hw
    return x_padded[:, :, i:i + sh * (out_h - 1) + 1:sh, j:j + sw * (out_w - 1) + 1:sw]


def conv2d_forward(x, kernel, bias=None, strides=1, padding="valid"):
    """y, saved."""
    xp = array_module(x)
    strides = pair(strides, "strides")
    n, _, h, w = x.shape
    f, _, kh, kw = kernel.shape
    out_h, out_w, pads = conv_geometry(h, w, (kh, kw), strides, normalize_padding(padding))
    top, bottom, left, right = pads
    x_padded = xp.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    y = xp.zeros((n, f, out_h, out_w), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            y += xp.einsum("ncpq,fc->nfpq", _window(x_padded, i, j, strides, (out_h, out_w)), kernel[:, :, i, j])
    if bias is not None:
        y += bias[None, :, None, None]
    return y, (x_padded, kernel, strides, pads, (h, w))


def conv2d_backward(dy, saved):
    """(dx, dkernel, dbias)."""
    xp = array_module(dy)
    x_padded, kernel, strides, pads, (h, w) = saved
    _, _, kh, kw = kernel.shape
    out_hw = dy.shape[2:]
    dx_padded = xp.zeros_like(x_padded)
    dkernel = xp.zeros_like(kernel)
    for i in range(kh):
        for j in range(kw):
            dkernel[:, :, i, j] = xp.einsum("nfpq,ncpq->fc", dy, _window(x_padded, i, j, strides, out_hw))
            _window(dx_padded, i, j, strides, out_hw)[...] += xp.einsum("nfpq,fc->ncpq", dy, kernel[:, :, i, j])
    top, _, left, _ = pads
    return dx_padded[:, :, top:top + h, left:left + w], dkernel, dy.sum(axis=(0, 2, 3))
