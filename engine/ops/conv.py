"""2-D convolution (cross-correlation, as in every framework): the op the layers call, forward and backward.

Shapes: x (N, C, H, W); kernel (F, C, kh, kw); bias (F,); y (N, F, out_h, out_w). The plain math is
``engine.ops.reference.conv``; this module checks the arguments and runs one of three faster ways to the
same numbers, as ``engine.ops.dispatch``'s "conv2d" rules choose:

- ``conv_columns``: im2col + GEMM, cut into chunks of output positions shared between the cores on the CPU;
- ``conv_one_image``: one image through a stride-1 convolution, its column rows as long as the image;
- ``conv_fourier``: a stride-1 convolution over many channels and a big batch on the CPU (the seed CNN's
  second, in training), where ``fourier_pays`` says it costs less than the columns.

Backward follows forward's path. The first layer of a network never needs dx and skips it. dx of a stride-1
convolution after a chunked forward is a forward correlation of dy (``_dx_by_correlation``).
"""

from __future__ import annotations

from engine.backend import array_module
from engine.ops import dispatch
from engine.ops.conv_columns import ConvCache, backward_in_chunks, backward_whole, chunks_of_outputs, columns_forward
from engine.ops.conv_fourier import FourierCache, fourier_backward, fourier_forward
from engine.ops.conv_one_image import forward_one_image, wide_columns_size
from engine.ops.layout import CHWN_TO_NCHW, NCHW_TO_CHWN, pad_to_chwn
from engine.ops.padding import conv_geometry, normalize_padding, pair
from engine.ops.workspace import scratch_buffer

__all__ = ["ALGORITHMS", "ConvCache", "chunks_of_outputs", "conv2d", "conv2d_backward", "conv2d_forward"]

ALGORITHMS = ("auto", "columns", "fourier")


def conv2d_forward(x, kernel, bias=None, strides=1, padding="valid", keep_cache=True, workspace=None,
                   algorithm="auto"):
    """y, cache. ``strides`` an int or pair, ``padding`` 'valid', 'same' or int/pair.

    With a ``workspace`` (training), the column buffers are reused from step to step. ``algorithm``:
    'columns' (im2col + GEMM, or ``conv_one_image``'s for one image), 'fourier' (stride 1 only, see
    ``conv_fourier``) or 'auto', which takes the Fourier path where ``fourier_pays`` says it costs less
    (``dispatch``'s "conv2d" rules).
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}; received {algorithm!r}")
    xp = array_module(x)
    strides = pair(strides, "strides")
    n, c, h, w = x.shape
    f, kc, kh, kw = kernel.shape
    if kc != c:
        raise ValueError(f"kernel expects {kc} input channels; received input with {c} channels")
    out_h, out_w, pads = conv_geometry(h, w, (kh, kw), strides, normalize_padding(padding))
    if out_h < 1 or out_w < 1:
        raise ValueError(f"kernel {kh}x{kw} does not fit a {h}x{w} input with padding {padding!r}")
    if algorithm == "fourier" and strides != (1, 1):
        raise ValueError(f"the Fourier path takes stride 1 only; received strides {strides}")
    path = dispatch.choose("conv2d", algorithm, xp, x.shape, kernel.shape, strides, pads, (out_h, out_w), x.itemsize)
    if path == "fourier":
        return fourier_forward(x, kernel, bias, pads, (out_h, out_w), keep_cache, workspace)
    chunks = chunks_of_outputs(xp, (out_h, out_w), c * kh * kw * n * x.itemsize)
    x_padded = pad_to_chwn(x, pads, 0)
    if path == "one image":  # backward gathers its columns from x_padded, as after a chunked forward
        y = _forward_one_image(x_padded, kernel, bias, (out_h, out_w), workspace)
        cache = ConvCache((n, c, h, w), x_padded, None, workspace, kernel, strides, pads, (out_h, out_w), chunks)
        return y, cache if keep_cache else None
    y, cols = columns_forward(x_padded, kernel, bias, strides, (out_h, out_w), chunks, workspace)
    cache = None
    if keep_cache:
        cache = ConvCache((n, c, h, w), x_padded, cols, workspace, kernel, strides, pads, (out_h, out_w), chunks)
    return y, cache


def _forward_one_image(x_padded, kernel, bias, out_hw, workspace):
    """``forward_one_image`` for one image through a stride-1 convolution whose image-long columns fit
    (``dispatch.wide_columns_fit``)."""
    _, c, hp, wp = x_padded.shape
    buffer = scratch_buffer(workspace, "wide cols", (wide_columns_size(c, kernel.shape[2:], out_hw, wp),), x_padded)
    return forward_one_image(x_padded.reshape(c, hp, wp), kernel, bias, out_hw, buffer)


def conv2d_backward(dy, cache: ConvCache | FourierCache, need_dx=True, dkernel_out=None, dbias_out=None):
    """(dx or None, dkernel, dbias). Writes into ``dkernel_out`` / ``dbias_out`` when given."""
    xp = array_module(dy)
    kernel = cache.kernel
    f, c, kh, kw = kernel.shape
    n, _, h, w = cache.x_shape
    out_h, out_w = cache.out_hw
    dy2d = dy.transpose(NCHW_TO_CHWN).reshape(f, out_h * out_w * n)  # a free view when dy is stored CHWN
    if dbias_out is not None:
        dy2d.sum(axis=1, out=dbias_out)
        dbias = dbias_out
    else:
        dbias = dy2d.sum(axis=1)
    dkernel2d = dkernel_out.reshape(f, -1) if dkernel_out is not None else xp.empty((f, c * kh * kw), dy.dtype)
    dkernel = dkernel_out if dkernel_out is not None else dkernel2d.reshape(kernel.shape)
    path = dispatch.choose("conv2d backward", cache, need_dx)
    if path == "fourier":
        return fourier_backward(dy, cache, need_dx, dkernel), dkernel, dbias
    if path == "dx by correlation":
        backward_in_chunks(dy2d, cache, dkernel2d, None)
        return _dx_by_correlation(dy, cache), dkernel, dbias
    top, bottom, left, right = cache.pads
    dx_memory = xp.zeros((c, h + top + bottom, w + left + right, n), dtype=dy.dtype) if need_dx else None
    if path == "one chunk":
        backward_whole(dy2d, cache, dkernel2d, dx_memory)
    else:
        backward_in_chunks(dy2d, cache, dkernel2d, dx_memory)
    dx = None
    if need_dx:
        dx = dx_memory[:, top:top + h, left:left + w, :].transpose(CHWN_TO_NCHW)
    return dx, dkernel, dbias


def _dx_by_correlation(dy, cache: ConvCache):
    """dx as a forward convolution of dy, padded by the kernel size less the forward padding, with the kernel
    flipped and its two channel axes swapped. Each dx pixel is then written once, by the chunk that owns it,
    instead of being added to by kh*kw column blocks from chunks on both cores."""
    _, _, kh, kw = cache.kernel.shape
    top, bottom, left, right = cache.pads
    dy_padded = pad_to_chwn(dy, (kh - 1 - top, kh - 1 - bottom, kw - 1 - left, kw - 1 - right), 0)
    flipped = cache.kernel.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1].copy()
    workspace = None if cache.workspace is None else cache.workspace.child("dx")
    return conv2d_forward(dy_padded, flipped, None, 1, "valid", keep_cache=False, workspace=workspace)[0]


def conv2d(x, kernel, bias=None, strides=1, padding="valid"):
    """Convolution of NCHW ``x`` with an (F, C, kh, kw) ``kernel``; TensorFlow's 'same' rule.

    >>> import numpy as np
    >>> conv2d(np.ones((1, 1, 4, 4)), np.ones((2, 1, 3, 3)), padding="same").shape
    (1, 2, 4, 4)
    """
    return conv2d_forward(x, kernel, bias, strides, padding, keep_cache=False)[0]
