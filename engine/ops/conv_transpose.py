"""2-D transposed convolution ("deconvolution"): forward and backward, on NumPy or CuPy.

Shapes: x (N, C, H, W); kernel (C, F, kh, kw), PyTorch's ConvTranspose2d layout; bias (F,); y (N, F, out_h,
out_w). The math: every input pixel stamps its kernel, scaled, onto the output, ``strides`` apart:

    full[n, f, p*sh + i, q*sw + j] += sum_c x[n, c, p, q] * kernel[c, f, i, j]      full: (H-1)*sh + kh rows

then the output is a window of ``full`` (``transpose_geometry``): 'valid' is all of it; 'same' follows
TensorFlow (out = H * sh, the gradient of a 'same' Conv2D of stride sh on an input of H * sh): ``full`` is
cropped by pad_before = max(kh - sh, 0) // 2 at the top (the rest at the bottom), and where kh < sh, the
rows past ``full`` are zeros.

That is exactly a Conv2D's input gradient, with this kernel read as a Conv2D kernel (F_conv = C, C_conv = F),
so the fast path is the convolution's own machinery, read the other way:

- forward: one GEMM into column space, kernel2d.T (F*kh*kw, C) @ x2d (C, H*W*N), and a col2im scatter-add of
  the kh*kw blocks straight into the cropped output (stored CHWN, as everything between conv layers is);
- backward: dy padded back to ``full``'s frame is the input of a Conv2D of stride ``strides`` whose output
  is dx (``engine.ops.conv.conv2d_forward``), and that convolution's kernel gradient with x as its output
  gradient is dkernel (``conv2d_backward``) - chunked and shared between the cores as Conv2D is.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.backend import array_module
from engine.ops.conv import conv2d_backward, conv2d_forward
from engine.ops.layout import NCHW_TO_CHWN, empty_chwn, pad_to_chwn
from engine.ops.padding import pair
from engine.parallel import for_ranges, matmul

__all__ = ["TransposeCache", "conv_transpose2d", "conv_transpose2d_backward", "conv_transpose2d_forward",
           "transpose_geometry"]


def _axis(size: int, kernel: int, stride: int, padding: str) -> tuple[int, int]:
    """(out, pad_before) along one axis: how many outputs, and how many of ``full``'s first rows are cropped."""
    if padding == "same":
        return size * stride, max(kernel - stride, 0) // 2
    return (size - 1) * stride + kernel, 0


def transpose_geometry(height: int, width: int, kernel: tuple, strides: tuple, padding: str):
    """((out_h, out_w), (crop_top, crop_left)) of a transposed convolution; ``padding`` 'valid' or 'same'.

    >>> transpose_geometry(7, 7, (3, 3), (2, 2), "same")
    ((14, 14), (0, 0))
    >>> transpose_geometry(7, 7, (3, 3), (2, 2), "valid")
    ((15, 15), (0, 0))
    """
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same'; received {padding!r}")
    out_h, top = _axis(height, kernel[0], strides[0], padding)
    out_w, left = _axis(width, kernel[1], strides[1], padding)
    return (out_h, out_w), (top, left)


@dataclass
class TransposeCache:
    """What backward needs from forward."""

    x: object
    kernel: object
    strides: tuple
    crop: tuple  # (top, left) rows and columns of ``full`` cut off before the output
    workspace: object


def _offsets(offset: int, stride: int, crop: int, inputs: int, outputs: int):
    """For kernel offset ``offset``: (first input, end input, first output) of the inputs whose stamp at
    ``offset`` lands inside the output (input p lands at p*stride + offset - crop)."""
    first = max(0, -(-(crop - offset) // stride))
    end = min(inputs, (outputs - 1 + crop - offset) // stride + 1)
    return first, max(first, end), first * stride + offset - crop


def _col2im_cropped(y_memory, dcols, strides, crop):
    """Add each kernel offset's block of ``dcols`` (F, kh, kw, H, W, N) into ``y_memory`` (F, out_h, out_w, N)
    at its stamp position, leaving out what falls in the crop."""
    _, kh, kw, h, w, _ = dcols.shape
    _, out_h, out_w, _ = y_memory.shape
    (sh, sw), (top, left) = strides, crop
    for i in range(kh):
        first_p, end_p, row = _offsets(i, sh, top, h, out_h)
        for j in range(kw):
            first_q, end_q, column = _offsets(j, sw, left, w, out_w)
            if end_p > first_p and end_q > first_q:
                rows = slice(row, row + sh * (end_p - first_p - 1) + 1, sh)
                columns = slice(column, column + sw * (end_q - first_q - 1) + 1, sw)
                y_memory[:, rows, columns] += dcols[:, i, j, first_p:end_p, first_q:end_q]


def conv_transpose2d_forward(x, kernel, bias=None, strides=1, padding="valid", keep_cache=True, workspace=None):
    """y, cache. ``strides`` an int or pair, ``padding`` 'valid' or 'same' (TensorFlow's rule). With a
    ``workspace`` (training), the column buffer is reused from step to step."""
    xp = array_module(x)
    strides = pair(strides, "strides")
    n, c, h, w = x.shape
    kc, f, kh, kw = kernel.shape
    if kc != c:
        raise ValueError(f"kernel expects {kc} input channels; received input with {c} channels")
    (out_h, out_w), crop = transpose_geometry(h, w, (kh, kw), strides, padding)
    x_memory = pad_to_chwn(x, (0, 0, 0, 0)).transpose(NCHW_TO_CHWN)  # (C, H, W, N), contiguous
    x2d = x_memory.reshape(c, h * w * n)
    kernel_t = kernel.reshape(c, f * kh * kw).T
    if workspace is None:
        dcols = matmul(kernel_t, x2d)
    else:
        dcols = matmul(kernel_t, x2d, out=workspace.get("dcols", (f * kh * kw, h * w * n), x.dtype, x))
    dcols = dcols.reshape(f, kh, kw, h, w, n)
    y = empty_chwn(xp, (n, f, out_h, out_w), x.dtype, 0)
    y_memory = y.transpose(NCHW_TO_CHWN)

    def add_filters(start, stop):
        _col2im_cropped(y_memory[start:stop], dcols[start:stop], strides, crop)
        if bias is not None:
            y_memory[start:stop] += bias[start:stop, None, None, None]

    for_ranges(xp, f, out_h * out_w * n, add_filters)
    cache = TransposeCache(x, kernel, strides, crop, workspace) if keep_cache else None
    return y, cache


def conv_transpose2d_backward(dy, cache: TransposeCache, need_dx=True, dkernel_out=None, dbias_out=None):
    """(dx or None, dkernel, dbias). Writes into ``dkernel_out`` / ``dbias_out`` when given."""
    xp = array_module(dy)
    n, c, h, w = cache.x.shape
    _, f, kh, kw = cache.kernel.shape
    (sh, sw), (top, left) = cache.strides, cache.crop
    _, _, out_h, out_w = dy.shape
    # dy back in ``full``'s frame: the crop at the top/left as zeros, and at the bottom/right whatever a
    # stride-s window needs; where kh < sh, the output is longer than ``full`` and its last rows are never read.
    bottom = max((h - 1) * sh + kh - top - out_h, 0)
    right = max((w - 1) * sw + kw - left - out_w, 0)
    dy_full = pad_to_chwn(dy, (top, bottom, left, right), 0)
    dy_memory = dy_full.transpose(NCHW_TO_CHWN)
    if dbias_out is not None:
        dy_memory.sum(axis=(1, 2, 3), out=dbias_out)
        dbias = dbias_out
    else:
        dbias = dy_memory.sum(axis=(1, 2, 3))
    workspace = None if cache.workspace is None else cache.workspace.child("backward")
    dx, conv_cache = conv2d_forward(dy_full, cache.kernel, None, (sh, sw), "valid", workspace=workspace)
    if dx.shape != (n, c, h, w):  # a stride-s window over dy_full steps exactly h times (see above)
        raise AssertionError(f"transposed convolution backward: {dx.shape} != {(n, c, h, w)}")
    _, dkernel, _ = conv2d_backward(cache.x, conv_cache, False, dkernel_out, xp.empty(c, dtype=dy.dtype))
    return (dx if need_dx else None), dkernel, dbias


def conv_transpose2d(x, kernel, bias=None, strides=1, padding="valid"):
    """Transposed convolution of NCHW ``x`` with a (C, F, kh, kw) ``kernel``; TensorFlow's 'same' rule.

    >>> import numpy as np
    >>> conv_transpose2d(np.ones((1, 2, 7, 7)), np.ones((2, 3, 3, 3)), strides=2, padding="same").shape
    (1, 3, 14, 14)
    """
    return conv_transpose2d_forward(x, kernel, bias, strides, padding, keep_cache=False)[0]

