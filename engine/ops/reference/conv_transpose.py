"""2-D transposed convolution, the plain way: one product per kernel offset (the fast path is
``engine.ops.conv_transpose``; tests/engine/test_conv_transpose.py checks it against this in float64).

x (N, C, H, W), kernel (C, F, kh, kw), bias (F,) or None. Every input pixel stamps its kernel onto ``full``,
strides apart; for each kernel offset (i, j), the outputs it reaches form a strided window of ``full``:

    full[n, f, p*sh + i, q*sw + j] += sum_c x[n, c, p, q] * kernel[c, f, i, j]

'valid' returns all of ``full``, (H - 1)*sh + kh rows; 'same' returns H*sh rows starting at row
max(kh - sh, 0) // 2 (TensorFlow's rule), zeros past ``full``'s end where kh < sh. Backward runs the loop
the other way: the kernel's gradient at (i, j) is x against that window of dy, and dx gathers dy's window
through the kernel's (i, j) slice.
"""

from __future__ import annotations

from engine.backend import array_module
from engine.ops.padding import pair


def _geometry(h, w, kernel_hw, strides, padding):
    """(full_h, full_w, out_h, out_w, top, left)."""
    (kh, kw), (sh, sw) = kernel_hw, strides
    full_h, full_w = (h - 1) * sh + kh, (w - 1) * sw + kw
    if padding == "same":
        return full_h, full_w, h * sh, w * sw, max(kh - sh, 0) // 2, max(kw - sw, 0) // 2
    return full_h, full_w, full_h, full_w, 0, 0


def _window(full, i: int, j: int, strides: tuple, in_hw: tuple):
    """The outputs of kernel offset (i, j): full[:, :, i + p*sh, j + q*sw] for every input (p, q)."""
    (sh, sw), (h, w) = strides, in_hw
    return full[:, :, i:i + sh * (h - 1) + 1:sh, j:j + sw * (w - 1) + 1:sw]


def conv_transpose2d_forward(x, kernel, bias=None, strides=1, padding="valid"):
    """y, saved."""
    xp = array_module(x)
    strides = pair(strides, "strides")
    n, _, h, w = x.shape
    _, f, kh, kw = kernel.shape
    full_h, full_w, out_h, out_w, top, left = _geometry(h, w, (kh, kw), strides, padding)
    # room for the crop and for the zeros past ``full`` where the kernel is shorter than the stride
    full = xp.zeros((n, f, max(full_h, top + out_h), max(full_w, left + out_w)), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            _window(full, i, j, strides, (h, w))[...] += xp.einsum("ncpq,cf->nfpq", x, kernel[:, :, i, j])
    y = full[:, :, top:top + out_h, left:left + out_w].copy()
    if bias is not None:
        y += bias[None, :, None, None]
    return y, (x, kernel, strides, (top, left), full.shape)


def conv_transpose2d_backward(dy, saved):
    """(dx, dkernel, dbias)."""
    xp = array_module(dy)
    x, kernel, strides, (top, left), full_shape = saved
    _, _, kh, kw = kernel.shape
    h, w = x.shape[2:]
    dfull = xp.zeros(full_shape, dtype=dy.dtype)
    dfull[:, :, top:top + dy.shape[2], left:left + dy.shape[3]] = dy
    dx = xp.zeros_like(x)
    dkernel = xp.zeros_like(kernel)
    for i in range(kh):
        for j in range(kw):
            window = _window(dfull, i, j, strides, (h, w))
            dkernel[:, :, i, j] = xp.einsum("ncpq,nfpq->cf", x, window)
            dx += xp.einsum("nfpq,cf->ncpq", window, kernel[:, :, i, j])
    return dx, dkernel, dy.sum(axis=(0, 2, 3))
