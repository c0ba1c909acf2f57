"""Max and average pooling, the plain way: one pass per offset of the window.

x (N, C, H, W); y (N, C, out_h, out_w); ``strides`` defaults to the pool size (Keras). Max pooling's
padding is -inf (never the maximum), and the gradient goes to the first maximum of each window in
row-major order (PyTorch's and TensorFlow's tie rule). Average pooling divides by the number of real,
unpadded inputs in each window (TensorFlow's rule for 'same').
"""

from __future__ import annotations

from engine.backend import array_module
from engine.ops.padding import conv_geometry, normalize_padding, pair
from engine.ops.reference.conv import _window


def _geometry(x, pool_size, strides, padding):
    pool = pair(pool_size, "pool_size")
    strides = pool if strides is None else pair(strides, "strides")
    _, _, h, w = x.shape
    out_h, out_w, pads = conv_geometry(h, w, pool, strides, normalize_padding(padding))
    return pool, strides, pads, (out_h, out_w)


def _pad(xp, x, pads, value):
    top, bottom, left, right = pads
    return xp.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)


def _offsets(pool):
    return [(i, j) for i in range(pool[0]) for j in range(pool[1])]


def max_pool2d_forward(x, pool_size=2, strides=None, padding="valid"):
    """y, saved: the offset of each window's first maximum."""
    xp = array_module(x)
    pool, strides, pads, out_hw = _geometry(x, pool_size, strides, padding)
    x_padded = _pad(xp, x, pads, -xp.inf)
    y = xp.full((*x.shape[:2], *out_hw), -xp.inf, dtype=x.dtype)
    winner = xp.zeros(y.shape, dtype=xp.int64)
    for k, (i, j) in enumerate(_offsets(pool)):
        window = _window(x_padded, i, j, strides, out_hw)
        better = window > y  # strict: an earlier offset keeps a tie
        winner[better] = k
        y = xp.where(better, window, y)
    return y, (x.shape, pool, strides, pads, winner)


def max_pool2d_backward(dy, saved):
    """dx: each window's dy goes to its winner."""
    xp = array_module(dy)
    (n, c, h, w), pool, strides, pads, winner = saved
    top, bottom, left, right = pads
    dx_padded = xp.zeros((n, c, h + top + bottom, w + left + right), dtype=dy.dtype)
    for k, (i, j) in enumerate(_offsets(pool)):
        _window(dx_padded, i, j, strides, dy.shape[2:])[...] += xp.where(winner == k, dy, 0)
    return dx_padded[:, :, top:top + h, left:left + w]


def avg_pool2d_forward(x, pool_size=2, strides=None, padding="valid"):
    """y, saved: how many real inputs each window holds."""
    xp = array_module(x)
    pool, strides, pads, out_hw = _geometry(x, pool_size, strides, padding)
    x_padded = _pad(xp, x, pads, 0)
    real = _pad(xp, xp.ones((1, 1, *x.shape[2:]), dtype=x.dtype), pads, 0)
    total = xp.zeros((*x.shape[:2], *out_hw), dtype=x.dtype)
    counts = xp.zeros((1, 1, *out_hw), dtype=x.dtype)
    for i, j in _offsets(pool):
        total += _window(x_padded, i, j, strides, out_hw)
        counts += _window(real, i, j, strides, out_hw)
    return total / counts, (x.shape, pool, strides, pads, counts)


def avg_pool2d_backward(dy, saved):
    """dx: each window's dy shared equally among its real inputs."""
    xp = array_module(dy)
    (n, c, h, w), pool, strides, pads, counts = saved
    top, bottom, left, right = pads
    dx_padded = xp.zeros((n, c, h + top + bottom, w + left + right), dtype=dy.dtype)
    for i, j in _offsets(pool):
        _window(dx_padded, i, j, strides, dy.shape[2:])[...] += dy / counts
    return dx_padded[:, :, top:top + h, left:left + w]
