"""Max and average pooling over NCHW arrays: forward and backward side by side.

Both walk the kh*kw offsets of the window as strided views of the (padded) input, so the work is a
handful of whole-array passes at the size of the output, and the same code runs on NumPy and CuPy.
Max pooling records which offset won (first one on ties, as PyTorch and TensorFlow do) so the
gradient goes to exactly one input per window. Average pooling with "same" padding divides by the
number of real (unpadded) inputs in each window, as TensorFlow/Keras do. The plain reference of both is
``engine.ops.reference.pooling``; the common 2x2 max pooling has faster paths of its own (``pooling_2x2``),
and which path runs is ``engine.ops.dispatch``'s "max_pool2d" rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.backend import array_module
from engine.ops.dispatch import choose
from engine.ops.layout import full_like_layout, pad_like_layout, window_slice
from engine.ops.padding import conv_geometry, normalize_padding, pair
from engine.ops.pooling_2x2 import max_pool_2x2_backward, max_pool_2x2_forward, max_pool_2x2_values


@dataclass
class PoolCache:
    x_shape: tuple
    x_like: object  # the input, for its memory layout (and dtype) when allocating dx
    pool: tuple
    strides: tuple
    pads: tuple
    out_hw: tuple
    argmax: object = None  # max pooling: index of the winning offset, uint8
    counts: object = None  # average pooling: real inputs per window, (out_h, out_w)
    right_wins: object = None  # 2x2 fast path: per row pair, did the right column win? (C, H, out_w, N)
    bottom_wins: object = None  # 2x2 fast path: did the bottom row win? (C, out_h, out_w, N)


def _geometry(x, pool_size, strides, padding):
    pool = pair(pool_size, "pool_size")
    strides = pool if strides is None else pair(strides, "strides")
    _, _, h, w = x.shape
    out_h, out_w, pads = conv_geometry(h, w, pool, strides, normalize_padding(padding))
    if out_h < 1 or out_w < 1:
        raise ValueError(f"pool {pool[0]}x{pool[1]} does not fit a {h}x{w} input with padding {padding!r}")
    return pool, strides, pads, (out_h, out_w)


def _offsets(pool):
    return [(i, j) for i in range(pool[0]) for j in range(pool[1])]


def max_pool2d_forward(x, pool_size=2, strides=None, padding="valid", keep_cache=True):
    xp = array_module(x)
    pool, strides, pads, out_hw = _geometry(x, pool_size, strides, padding)
    path = choose("max_pool2d", x, pool, strides, pads, keep_cache)
    if path == "2x2 maximum only":
        return max_pool_2x2_values(x), None
    if path == "2x2 pairs":
        y, right_wins, bottom_wins = max_pool_2x2_forward(x)
        return y, PoolCache(x.shape, None, pool, strides, pads, out_hw, right_wins=right_wins,
                            bottom_wins=bottom_wins)
    x_padded = pad_like_layout(x, pads, -xp.inf)
    offsets = _offsets(pool)
    rows, cols = window_slice(*offsets[0], strides, out_hw)
    y = x_padded[:, :, rows, cols].copy(order="K")
    argmax = xp.zeros(y.shape, dtype=xp.uint8) if keep_cache else None
    for k, (i, j) in enumerate(offsets[1:], start=1):
        rows, cols = window_slice(i, j, strides, out_hw)
        candidate = x_padded[:, :, rows, cols]
        if keep_cache:
            better = candidate > y  # strict: the first offset keeps ties
            xp.copyto(argmax, k, where=better, casting="unsafe")
        xp.maximum(y, candidate, out=y)
    cache = PoolCache(x.shape, x, pool, strides, pads, out_hw, argmax=argmax) if keep_cache else None
    return y, cache


def max_pool2d_backward(dy, cache: PoolCache):
    if cache.bottom_wins is not None:  # forward took the 2x2 pairs
        return max_pool_2x2_backward(dy, cache.x_shape, cache.right_wins, cache.bottom_wins)
    xp = array_module(dy)
    n, c, h, w = cache.x_shape
    top, bottom, left, right = cache.pads
    padded_shape = (n, c, h + top + bottom, w + left + right)
    if _windows_tile(padded_shape, cache):
        # Every input position sits in exactly one window: each offset's slice is written once.
        dx_padded = full_like_layout(cache.x_like, padded_shape, None, dtype=dy.dtype)
        for k, (i, j) in enumerate(_offsets(cache.pool)):
            rows, cols = window_slice(i, j, cache.strides, cache.out_hw)
            xp.multiply(dy, cache.argmax == k, out=dx_padded[:, :, rows, cols])
    else:
        dx_padded = full_like_layout(cache.x_like, padded_shape, 0, dtype=dy.dtype)
        for k, (i, j) in enumerate(_offsets(cache.pool)):
            rows, cols = window_slice(i, j, cache.strides, cache.out_hw)
            dx_padded[:, :, rows, cols] += dy * (cache.argmax == k)
    return dx_padded[:, :, top:top + h, left:left + w]


def _windows_tile(padded_shape, cache: PoolCache) -> bool:
    """True when windows neither overlap nor leave gaps, so backward can skip zero-filling dx."""
    (ph, pw), (sh, sw), (out_h, out_w) = cache.pool, cache.strides, cache.out_hw
    return ph == sh and pw == sw and out_h * ph == padded_shape[2] and out_w * pw == padded_shape[3]


def _window_counts(xp, x_hw, pool, strides, pads, out_hw, dtype):
    """How many real (unpadded) inputs each window covers, shape (out_h, out_w)."""
    h, w = x_hw
    top, bottom, left, right = pads
    mask = xp.zeros((1, 1, h + top + bottom, w + left + right), dtype=dtype)
    mask[:, :, top:top + h, left:left + w] = 1
    counts = xp.zeros(out_hw, dtype=dtype)
    for i, j in _offsets(pool):
        rows, cols = window_slice(i, j, strides, out_hw)
        counts += mask[0, 0, rows, cols]
    return counts


def avg_pool2d_forward(x, pool_size=2, strides=None, padding="valid", keep_cache=True):
    xp = array_module(x)
    pool, strides, pads, out_hw = _geometry(x, pool_size, strides, padding)
    x_padded = pad_like_layout(x, pads, 0)
    y = None
    for i, j in _offsets(pool):
        rows, cols = window_slice(i, j, strides, out_hw)
        window = x_padded[:, :, rows, cols]
        y = window.copy(order="K") if y is None else xp.add(y, window, out=y)
    counts = _window_counts(xp, x.shape[2:], pool, strides, pads, out_hw, x.dtype)
    y /= counts
    cache = PoolCache(x.shape, x, pool, strides, pads, out_hw, counts=counts) if keep_cache else None
    return y, cache


def avg_pool2d_backward(dy, cache: PoolCache):
    n, c, h, w = cache.x_shape
    top, bottom, left, right = cache.pads
    dx_padded = full_like_layout(cache.x_like, (n, c, h + top + bottom, w + left + right), 0, dtype=dy.dtype)
    share = dy / cache.counts
    for i, j in _offsets(cache.pool):
        rows, cols = window_slice(i, j, cache.strides, cache.out_hw)
        dx_padded[:, :, rows, cols] += share
    return dx_padded[:, :, top:top + h, left:left + w]


def max_pool2d(x, pool_size=2, strides=None, padding="valid"):
    """Max pooling of NCHW ``x``; ``strides`` defaults to ``pool_size`` (Keras)."""
    return max_pool2d_forward(x, pool_size, strides, padding, keep_cache=False)[0]


def avg_pool2d(x, pool_size=2, strides=None, padding="valid"):
    """Average pooling of NCHW ``x``; padded positions are not counted (TensorFlow's rule)."""
    return avg_pool2d_forward(x, pool_size, strides, padding, keep_cache=False)[0]
