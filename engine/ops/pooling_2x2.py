"""2x2 max pooling with stride 2 and no padding over CHWN-stored activations: the common case, made fast.

After a convolution, activations are stored (C, H, W, N) (``layout``), so a pair of neighbouring columns is
two contiguous runs of N values and a pair of rows two runs of W * N. These paths take the maximum over
column pairs and row pairs as a few whole-array passes, shared between the cores by channels, instead of
``pooling``'s one pass per window offset. They give the numbers of ``engine.ops.reference.pooling``
(tests/engine/test_fast_paths.py); ``engine.ops.dispatch``'s "max_pool2d" rules say when they run.
"""

from __future__ import annotations

from engine.backend import array_module
from engine.ops.layout import CHWN_TO_NCHW, NCHW_TO_CHWN
from engine.parallel import for_ranges


def max_pool_2x2_forward(x):
    """Max over column pairs, then over row pairs, with the batch as the contiguous inner run, recording
    which of each pair won for backward (``max_pool_2x2_values`` when no backward follows).

    Ties go to the left column, then the top row: the first maximum in row-major order, as PyTorch.
    Channels are shared out between the cores.
    """
    xp = array_module(x)
    n, c, h, w = x.shape
    pairs = x.transpose(NCHW_TO_CHWN).reshape(c, h, w // 2, 2, n)
    y_memory = xp.empty((c, h // 2, w // 2, n), dtype=x.dtype)
    right_wins = xp.empty((c, h, w // 2, n), dtype=bool)
    bottom_wins = xp.empty((c, h // 2, w // 2, n), dtype=bool)

    def pool_channels(start, stop):
        left, right = pairs[start:stop, :, :, 0], pairs[start:stop, :, :, 1]
        xp.greater(right, left, out=right_wins[start:stop])  # strict: the left one keeps ties
        rows = xp.maximum(left, right).reshape(stop - start, h // 2, 2, w // 2, n)
        top, bottom = rows[:, :, 0], rows[:, :, 1]
        xp.greater(bottom, top, out=bottom_wins[start:stop])
        xp.maximum(top, bottom, out=y_memory[start:stop])

    for_ranges(xp, c, h * w * n, pool_channels)
    return y_memory.transpose(CHWN_TO_NCHW), right_wins, bottom_wins


def max_pool_2x2_values(x):
    """The 2x2 maximum alone (no backward follows): over row pairs first, then column pairs.

    Row pairs are whole contiguous rows of W * N values, so the first pass, on all the data, runs at
    SIMD speed; only the second, on half of it, steps through runs of N. Columns first is the order
    ``max_pool_2x2_forward`` needs for PyTorch's tie rule; ties do not matter here, the maximum is the
    same whichever input holds it. Measured on the development machine, an inference batch of 128 through
    the seed CNN's pool1: 2.5 -> 1.4 ms (pool2: 1.0 -> 0.63 ms); one image: 32 -> 29 us.
    """
    xp = array_module(x)
    n, c, h, w = x.shape
    row_pairs = x.transpose(NCHW_TO_CHWN).reshape(c, h // 2, 2, w * n)
    rows = xp.empty((c, h // 2, w * n), dtype=x.dtype)
    y_memory = xp.empty((c, h // 2, w // 2, n), dtype=x.dtype)

    def pool_channels(start, stop):
        xp.maximum(row_pairs[start:stop, :, 0], row_pairs[start:stop, :, 1], out=rows[start:stop])
        column_pairs = rows[start:stop].reshape(stop - start, h // 2, w // 2, 2, n)
        xp.maximum(column_pairs[..., 0, :], column_pairs[..., 1, :], out=y_memory[start:stop])

    for_ranges(xp, c, h * w * n, pool_channels)
    return y_memory.transpose(CHWN_TO_NCHW)


def max_pool_2x2_backward(dy, x_shape, right_wins, bottom_wins):
    """dx from ``max_pool_2x2_forward``'s record of the winners.

    Multiplying by a boolean mask is several times faster than where(); the loser's share is
    dy - winner's share, which is exactly 0 or dy.
    """
    xp = array_module(dy)
    n, c, h, w = x_shape
    dy_memory = dy.transpose(NCHW_TO_CHWN)
    dx_memory = xp.empty((c, h, w // 2, 2, n), dtype=dy.dtype)

    def route_channels(start, stop):
        d_rows = xp.empty((stop - start, h // 2, 2, w // 2, n), dtype=dy.dtype)
        xp.multiply(dy_memory[start:stop], bottom_wins[start:stop], out=d_rows[:, :, 1])
        xp.subtract(dy_memory[start:stop], d_rows[:, :, 1], out=d_rows[:, :, 0])
        d_rows = d_rows.reshape(stop - start, h, w // 2, n)
        xp.multiply(d_rows, right_wins[start:stop], out=dx_memory[start:stop, :, :, 1])
        xp.subtract(d_rows, dx_memory[start:stop, :, :, 1], out=dx_memory[start:stop, :, :, 0])

    for_ranges(xp, c, h * w * n, route_channels)
    return dx_memory.reshape(c, h, w, n).transpose(CHWN_TO_NCHW)
