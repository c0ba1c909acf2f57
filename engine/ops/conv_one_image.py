"""One image through a stride-1 convolution, its columns gathered as rows the length of the image.

A batch's columns (``conv2d_forward``) are copied in runs of out_w * N contiguous values, the batch
being innermost in memory. For one image a run is only out_w values (14 in the seed CNN's second
convolution), and the gather spends more time starting copies than copying. Here a column row is
one run over the whole padded channel instead: row (c, i, j) is padded channel c read from offset
i * Wp + j, (out_h - 1) * Wp + out_w values long. Read that way, output (h, w) sits at position
h * Wp + w of the product, and the kw - 1 positions between one output row and the next are computed
and thrown away: a product longer by Wp / out_w (18/14 for that convolution), paid for many times
over by the copy. Measured on the development machine, one thread: the seed CNN's first convolution
138 -> 85 us, its second 753 -> 429 us. This is the path of single-image inference and of every
draw-a-digit reading.
"""

from __future__ import annotations

from engine.backend import array_module
from engine.ops.layout import CHWN_TO_NCHW, strided_view


def wide_columns_size(channels: int, kernel_hw: tuple, out_hw: tuple, padded_width: int) -> int:
    """Elements of the column matrix of ``forward_one_image``."""
    (kh, kw), (out_h, out_w) = kernel_hw, out_hw
    return channels * kh * kw * ((out_h - 1) * padded_width + out_w)


def forward_one_image(padded, kernel, bias, out_hw: tuple, columns_buffer):
    """The stride-1 convolution of one padded image ``padded`` (C, Hp, Wp), contiguous, as a logical
    (1, F, out_h, out_w) array stored CHWN (for one image: plain FHW).

    ``columns_buffer`` is flat scratch of at least ``wide_columns_size`` elements; it is free again on return.
    """
    xp = array_module(padded)
    product = wide_product(padded, kernel, out_hw, columns_buffer)
    if bias is not None:  # over the whole contiguous product: 3x faster than over the strided outputs
        product += bias[:, None]
    y = xp.empty((kernel.shape[0], *out_hw, 1), dtype=product.dtype)
    xp.copyto(y[..., 0], valid_outputs(product, out_hw, padded.shape[2]))
    return y.transpose(CHWN_TO_NCHW)


def wide_product(padded, kernel, out_hw: tuple, columns_buffer, out=None):
    """kernel @ wide columns of ``padded`` (C, Hp, Wp), contiguous: (F, (out_h - 1) * Wp + out_w), bias not added;
    ``valid_outputs`` picks the outputs from it. Written into ``out`` when given."""
    xp = array_module(padded)
    c, hp, wp = padded.shape
    f, _, kh, kw = kernel.shape
    windows = wide_windows(padded, c, hp * wp, wp, (kh, kw), out_hw)
    columns = columns_buffer[:windows.size].reshape(windows.shape)
    xp.copyto(columns, windows)
    return xp.matmul(kernel.reshape(f, -1), columns.reshape(c * kh * kw, -1), out=out)


def wide_windows(first, channels: int, plane_size: int, row_stride: int, kernel_hw: tuple, out_hw: tuple):
    """The (C, kh, kw, length) strided view of the image-long column rows: row (c, i, j) starts at
    ``c * plane_size + i * row_stride + j`` elements into ``first`` (contiguous, beginning where the first
    window does) and runs on for (out_h - 1) * row_stride + out_w elements."""
    (kh, kw), (out_h, out_w) = kernel_hw, out_hw
    item = first.itemsize
    return strided_view(first, (channels, kh, kw, (out_h - 1) * row_stride + out_w),
                        (plane_size * item, row_stride * item, item, item))


def valid_outputs(product, out_hw: tuple, padded_width: int):
    """The (F, out_h, out_w) strided view of ``wide_product``'s outputs: output (h, w) is at h * Wp + w of its row."""
    f, length = product.shape
    item = product.itemsize
    return strided_view(product, (f, *out_hw), (length * item, padded_width * item, item))
