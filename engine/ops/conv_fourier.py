"""Stride-1 convolution through the discrete Fourier transform, every transform a matrix product.

Why: the seed CNN's second convolution (32 -> 64 channels, 5x5, 14x14 images) costs 2.6 GFLOP a
batch of 128 as im2col + GEMM, forward, and twice that backward. In the frequency domain it is one
small complex product per frequency: 18x10 frequencies of (64x32) @ (32x128), 0.38 GFLOP, and the
transforms in and out add about as much again. Training that layer gets ~3x cheaper in FLOPs.

How:
- The padded image (Ph, Pw) is itself the period. A correlation over one period wraps around only
  past the last input pixel, and no output the layer keeps reaches there (p + t <= Ph - 1), so no
  padding beyond the layer's own is needed. Transforms done as products with DFT matrices work for
  any length (no FFT-friendly sizes), and they skip the zero border of the padding on the way in and
  the output positions nobody asked for on the way out. NumPy's FFT (pocketfft) took ~7 us per 18x18
  plane here, 28 ms for the seed CNN's 4,096 input planes; the products take ~2.5 ms.
- A spectrum is stored (channels, 2, Ph*Qw, N): real and imaginary planes per channel, frequencies
  (kh, kw) row-major over Ph x Qw, where Qw = Pw//2 + 1 is the half spectrum of a real signal, and the
  batch innermost as in the activations (``layout``). Rows (channel, part) are then evenly spaced for
  every frequency, so each frequency's product reads and writes the spectra in place.
- Complex products become real ones on interleaved rows: at frequency q, y = conj(K) x is
  [[Kr, Ki], [-Ki, Kr]] per (filter, channel) pair, the kernel's spectrum laid out (Q, 2F, 2C) once per
  pass. The input gradient, dx = K dy, is that matrix transposed; the kernel gradient is
  sum over the batch of x conj(dy), one (2F x N) @ (N x 2C) product per frequency.

The chosen transforms: along W, real signal to half spectrum (per channel and row, batched products);
along H, complex to complex (per channel, one product mixing real and imaginary rows); back again in
the reverse order. Work is shared between the cores by channels (transforms) and by frequencies
(products). 'auto' takes it on NumPy only: on a GPU the column path's one big GEMM stays (this path is
written against ``xp`` but unmeasured there).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from engine.backend import array_module
from engine.ops.layout import CHWN_TO_NCHW, NCHW_TO_CHWN
from engine.ops.workspace import scratch_buffer
from engine.parallel import engine_threads, for_ranges

# A small product's fixed cost inside NumPy's batched matmul, in FLOP-equivalents (~1 us at ~50 GFLOP/s).
FLOPS_PER_SMALL_PRODUCT = 50_000
# What the column path pays per element of its column matrix besides the GEMM's 2F FLOPs: gathering it
# (forward and again in backward) and scattering its gradient. Fitted to forward + backward timings of 20
# stride-1 shapes (float32, 2 cores): with it, the Fourier path is taken only where it measured faster.
FLOPS_PER_COLUMN_ELEMENT = 32
# The Fourier path holds whole spectra while the column path cuts its columns into ~3 MB chunks; past this
# the memory is not worth it (the seed CNN's conv2 at batch 128 holds ~45 MB; 64 -> 64 channels of 32x32
# images at batch 128, ~240 MB).
MAX_FOURIER_BYTES = 256 << 20


@dataclass(frozen=True)
class FourierGeometry:
    """One convolution's sizes: input (H, W), leading pads (top, left), period = padded size (Ph, Pw),
    output (out_h, out_w), kernel (kh, kw)."""

    in_hw: tuple
    leading_pads: tuple
    period: tuple
    out_hw: tuple
    kernel_hw: tuple

    @classmethod
    def of(cls, in_hw, kernel_hw, pads, out_hw):
        top, bottom, left, right = pads
        return cls(tuple(in_hw), (top, left), (in_hw[0] + top + bottom, in_hw[1] + left + right),
                   tuple(out_hw), tuple(kernel_hw))

    @property
    def half_width(self) -> int:
        return self.period[1] // 2 + 1

    @property
    def frequencies(self) -> int:
        return self.period[0] * self.half_width


@dataclass
class FourierCache:
    """What backward needs from forward: the input's spectrum (C, 2, Q, N) and the kernel's (Q, 2F, 2C)."""

    x_shape: tuple
    geometry: FourierGeometry
    x_spectrum: object
    kernel_spectrum: object
    kernel: object
    workspace: object

    @property
    def out_hw(self) -> tuple:
        return self.geometry.out_hw


def fourier_flops(n: int, c: int, f: int, geometry: FourierGeometry) -> int:
    """FLOP-equivalents of one forward pass (transforms in, products, transform out), each of NumPy's small
    batched products charged FLOPS_PER_SMALL_PRODUCT on top of its arithmetic."""
    (h, w), (ph, _), (out_h, out_w) = geometry.in_hw, geometry.period, geometry.out_hw
    qw, q = geometry.half_width, geometry.frequencies
    arithmetic = 2 * n * (c * h * 2 * qw * w + c * 2 * ph * 2 * h * qw  # into the spectrum
                          + q * 2 * f * 2 * c  # one product per frequency
                          + f * 2 * out_h * 2 * ph * qw + f * out_h * out_w * 2 * qw)  # back
    small_products = c * h + c + q + f + f * out_h
    return arithmetic + small_products * FLOPS_PER_SMALL_PRODUCT


def fourier_bytes(n: int, c: int, f: int, geometry: FourierGeometry, itemsize: int) -> int:
    """Bytes of the buffers a training step through the Fourier path holds (``fourier_forward`` and
    ``fourier_backward``): spectra of x, y (then dy) and dx, the kernel's, its products with dy, their sums
    and taps, and the transforms' scratch."""
    q = geometry.frequencies
    spectra = 2 * q * n * (2 * c + f)
    kernels = (4 * q * 2 + 2 * q + geometry.kernel_hw[0] * geometry.kernel_hw[1]) * f * c
    return itemsize * (spectra + kernels + _scratch_size(c, f, geometry) * n)


def fourier_pays(xp, x_shape, kernel_shape, strides, pads, out_hw, itemsize=4) -> bool:
    """True when a stride-1 convolution on the CPU costs less this way than through its column matrix,
    and its spectra fit MAX_FOURIER_BYTES."""
    if xp is not np or tuple(strides) != (1, 1):
        return False
    return _fourier_pays(tuple(x_shape), tuple(kernel_shape), tuple(pads), tuple(out_hw), itemsize,
                         MAX_FOURIER_BYTES)


@lru_cache(maxsize=256)
def _fourier_pays(x_shape, kernel_shape, pads, out_hw, itemsize, max_bytes) -> bool:
    """``fourier_pays`` for a stride-1 convolution on the CPU, cached: every convolution asks, and working
    it out is ~3 us of Python, 1% of a single-image pass through the seed CNN."""
    n, c, h, w = x_shape
    f, _, kh, kw = kernel_shape
    geometry = FourierGeometry.of((h, w), (kh, kw), pads, out_hw)
    if fourier_bytes(n, c, f, geometry, itemsize) > max_bytes:
        return False
    column_elements = n * c * kh * kw * out_hw[0] * out_hw[1]
    return fourier_flops(n, c, f, geometry) < column_elements * (2 * f + FLOPS_PER_COLUMN_ELEMENT)


# --- DFT matrices, cached by size and dtype. Angles are worked out in float64, then cast. ---

@lru_cache(maxsize=64)
def _real_to_half_spectrum(length: int, period: int, offset: int, dtype: str):
    """(2Q, length): samples at ``offset``.. of a real signal of ``period`` -> its half spectrum,
    rows (part, k): real parts, then imaginary."""
    k = np.arange(period // 2 + 1)[:, None]
    angle = 2 * np.pi * k * (np.arange(length)[None, :] + offset) / period
    return np.concatenate([np.cos(angle), -np.sin(angle)]).astype(dtype)


@lru_cache(maxsize=64)
def _complex_forward(length: int, period: int, offset: int, dtype: str):
    """(2P, 2 length): complex samples at ``offset``.. -> spectrum; input rows (sample, part), output
    rows (part, k)."""
    angle = 2 * np.pi * np.arange(period)[:, None] * (np.arange(length)[None, :] + offset) / period
    cos, sin = np.cos(angle), np.sin(angle)
    matrix = np.empty((2, period, length, 2))
    matrix[0, :, :, 0], matrix[0, :, :, 1] = cos, sin  # (a + ib)(cos - i sin): real a cos + b sin
    matrix[1, :, :, 0], matrix[1, :, :, 1] = -sin, cos  # imaginary b cos - a sin
    return matrix.reshape(2 * period, 2 * length).astype(dtype)


@lru_cache(maxsize=64)
def _complex_inverse(count: int, period: int, offset: int, dtype: str):
    """(2 count, 2P): spectrum -> complex samples ``offset``..``offset + count``; input rows (part, k),
    output rows (sample, part)."""
    angle = 2 * np.pi * (np.arange(count)[:, None] + offset) * np.arange(period)[None, :] / period
    cos, sin = np.cos(angle) / period, np.sin(angle) / period
    matrix = np.empty((count, 2, 2, period))
    matrix[:, 0, 0], matrix[:, 0, 1] = cos, -sin  # (a + ib)(cos + i sin): real a cos - b sin
    matrix[:, 1, 0], matrix[:, 1, 1] = sin, cos  # imaginary a sin + b cos
    return matrix.reshape(2 * count, 2 * period).astype(dtype)


def _half_spectrum_weights(period: int):
    """How often each frequency of a half spectrum stands in the whole one (its mirror image too)."""
    weights = np.full(period // 2 + 1, 2.0)
    weights[0] = 1.0
    if period % 2 == 0:
        weights[-1] = 1.0
    return weights


@lru_cache(maxsize=64)
def _half_spectrum_to_real(count: int, period: int, offset: int, dtype: str):
    """(count, 2Q): half spectrum, columns (part, k) -> real samples ``offset``..``offset + count``."""
    angle = 2 * np.pi * (np.arange(count)[:, None] + offset) * np.arange(period // 2 + 1)[None, :] / period
    weights = _half_spectrum_weights(period) / period
    return np.concatenate([weights * np.cos(angle), -weights * np.sin(angle)], axis=1).astype(dtype)


def _on(xp, matrix):
    """A cached DFT matrix (NumPy) on ``xp``'s device."""
    return matrix if xp is np else xp.asarray(matrix)


def _kernel_angles(geometry: FourierGeometry):
    """(Q, kh*kw) angles 2 pi (kh' i / Ph + kw' j / Pw) between every frequency and every kernel tap."""
    (ph, pw), (kh, kw), qw = geometry.period, geometry.kernel_hw, geometry.half_width
    rows = np.arange(ph)[:, None, None, None] * np.arange(kh)[None, None, :, None] / ph
    columns = np.arange(qw)[None, :, None, None] * np.arange(kw)[None, None, None, :] / pw
    return (2 * np.pi * (rows + columns)).reshape(ph * qw, kh * kw)


@lru_cache(maxsize=64)
def _kernel_to_spectrum(geometry: FourierGeometry, dtype: str):
    """(2Q, kh*kw): kernel taps at the origin -> spectrum, rows (part, q)."""
    angle = _kernel_angles(geometry)
    return np.concatenate([np.cos(angle), -np.sin(angle)]).astype(dtype)


@lru_cache(maxsize=64)
def _spectrum_to_kernel(geometry: FourierGeometry, dtype: str):
    """(kh*kw, 2Q): a half spectrum, columns (part, q) -> the real correlation at the kernel's taps."""
    angle = _kernel_angles(geometry).T
    ph, pw = geometry.period
    weights = np.tile(_half_spectrum_weights(pw), ph) / (ph * pw)
    return np.concatenate([weights * np.cos(angle), -weights * np.sin(angle)], axis=1).astype(dtype)


# --- Transforms of whole activations, (channels, rows, columns, N) <-> (channels, 2, Q, N). ---

def _to_spectrum(memory, offsets, geometry: FourierGeometry, out, scratch):
    """Spectrum of ``memory`` (C, rows, columns, N), its first pixel at ``offsets`` in the period, into
    ``out`` (C, 2, Q, N). ``scratch`` holds C*rows*2Qw*N elements."""
    xp = array_module(memory)
    c, rows, columns, n = memory.shape
    (ph, pw), qw, dtype = geometry.period, geometry.half_width, memory.dtype.str
    along_w = _on(xp, _real_to_half_spectrum(columns, pw, offsets[1], dtype))
    along_h = _on(xp, _complex_forward(rows, ph, offsets[0], dtype))
    half = scratch[:c * rows * 2 * qw * n].reshape(c, rows, 2 * qw, n)  # rows (row, part) per channel

    def channels(start, stop):
        xp.matmul(along_w, memory[start:stop], out=half[start:stop])
        xp.matmul(along_h, half[start:stop].reshape(stop - start, 2 * rows, qw * n),
                  out=out[start:stop].reshape(stop - start, 2 * ph, qw * n))

    for_ranges(xp, c, rows * 2 * qw * n + 2 * ph * qw * n, channels)


def _from_spectrum(spectrum, offsets, counts, geometry: FourierGeometry, out, scratch, bias=None):
    """Real samples ``offsets``..``offsets + counts`` of ``spectrum`` (F, 2, Q, N) into ``out`` (F, rows,
    columns, N), plus ``bias`` per channel. ``scratch`` holds F*2rows*Qw*N elements."""
    xp = array_module(spectrum)
    f, _, _, n = spectrum.shape
    (ph, pw), qw, dtype = geometry.period, geometry.half_width, spectrum.dtype.str
    rows, columns = counts
    along_h = _on(xp, _complex_inverse(rows, ph, offsets[0], dtype))
    along_w = _on(xp, _half_spectrum_to_real(columns, pw, offsets[1], dtype))
    half = scratch[:f * 2 * rows * qw * n].reshape(f, 2 * rows, qw * n)  # rows (row, part) per channel

    def channels(start, stop):
        xp.matmul(along_h, spectrum[start:stop].reshape(stop - start, 2 * ph, qw * n), out=half[start:stop])
        xp.matmul(along_w, half[start:stop].reshape(stop - start, rows, 2 * qw, n), out=out[start:stop])
        if bias is not None:
            out[start:stop] += bias[start:stop, None, None, None]  # while the channels are still in cache

    for_ranges(xp, f, 2 * ph * qw * n + rows * columns * n, channels)


def _per_frequency(spectrum):
    """(Q, 2C, N) view of a (C, 2, Q, N) spectrum: each frequency's (channel, part) rows, in place."""
    c, _, q, n = spectrum.shape
    return spectrum.reshape(2 * c, q, n).transpose(1, 0, 2)


def _kernel_spectrum(kernel, geometry: FourierGeometry, out, start: int, stop: int):
    """Frequencies ``start``..``stop`` of the conj(K) product matrices into ``out`` (Q, 2F, 2C): rows
    (filter, part), columns (channel, part)."""
    xp = array_module(kernel)
    f, c, kh, kw = kernel.shape
    taps = _on(xp, _kernel_to_spectrum(geometry, kernel.dtype.str)).reshape(2, -1, kh * kw)[:, start:stop]
    real, imaginary = xp.matmul(taps, kernel.reshape(f * c, kh * kw).T).reshape(2, stop - start, f, c)
    blocks = out[start:stop].reshape(stop - start, f, 2, c, 2)
    blocks[:, :, 0, :, 0] = real
    blocks[:, :, 0, :, 1] = imaginary
    xp.negative(imaginary, out=blocks[:, :, 1, :, 0])
    blocks[:, :, 1, :, 1] = real


def _scratch_size(c: int, f: int, geometry: FourierGeometry) -> int:
    """Elements per image of the transforms' scratch, for every transform of a pass (x, dy, y and dx)."""
    return max(c * geometry.in_hw[0], f * geometry.out_hw[0]) * 2 * geometry.half_width


def fourier_forward(x, kernel, bias, pads, out_hw, keep_cache=True, workspace=None):
    """y (logical NCHW, stored CHWN) and a FourierCache (None without ``keep_cache``) of a stride-1
    convolution with ``pads`` (top, bottom, left, right) and output ``out_hw``."""
    xp = array_module(x)
    n, c, h, w = x.shape
    f, _, kh, kw = kernel.shape
    geometry = FourierGeometry.of((h, w), (kh, kw), pads, out_hw)
    q = geometry.frequencies
    memory = xp.ascontiguousarray(x.transpose(NCHW_TO_CHWN))
    x_spectrum = scratch_buffer(workspace, "x spectrum", (c, 2, q, n), x)
    kernel_spectrum = scratch_buffer(workspace, "kernel spectrum", (q, 2 * f, 2 * c), x)
    y_spectrum = scratch_buffer(workspace, "y spectrum", (f, 2, q, n), x)
    out_h, out_w = out_hw
    scratch = scratch_buffer(workspace, "transform", (_scratch_size(c, f, geometry) * n,), x)
    y = xp.empty((f, out_h, out_w, n), dtype=x.dtype)
    with engine_threads():
        _to_spectrum(memory, geometry.leading_pads, geometry, x_spectrum, scratch)
        x_rows, y_rows = _per_frequency(x_spectrum), _per_frequency(y_spectrum)

        def multiply(start, stop):
            _kernel_spectrum(kernel, geometry, kernel_spectrum, start, stop)
            xp.matmul(kernel_spectrum[start:stop], x_rows[start:stop], out=y_rows[start:stop])

        for_ranges(xp, q, 4 * f * c + 2 * (c + f) * n, multiply)
        _from_spectrum(y_spectrum, (0, 0), out_hw, geometry, y, scratch, bias)
    cache = FourierCache((n, c, h, w), geometry, x_spectrum, kernel_spectrum, kernel, workspace) if keep_cache else None
    return y.transpose(CHWN_TO_NCHW), cache


def fourier_backward(dy, cache: FourierCache, need_dx, dkernel_out):
    """dx (logical NCHW, stored CHWN) or None; the kernel's gradient into ``dkernel_out`` (F, C, kh, kw)."""
    xp = array_module(dy)
    n, c, h, w = cache.x_shape
    geometry = cache.geometry
    f, _, kh, kw = cache.kernel.shape
    q = geometry.frequencies
    dy_memory = xp.ascontiguousarray(dy.transpose(NCHW_TO_CHWN))
    workspace = cache.workspace
    dy_spectrum = scratch_buffer(workspace, "y spectrum", (f, 2, q, n), dy)
    products = scratch_buffer(workspace, "kernel products", (q, 2 * f, 2 * c), dy)
    scratch = scratch_buffer(workspace, "transform", (_scratch_size(c, f, geometry) * n,), dy)
    dx = None
    with engine_threads():
        _to_spectrum(dy_memory, (0, 0), geometry, dy_spectrum, scratch)
        dy_rows, x_rows = _per_frequency(dy_spectrum), _per_frequency(cache.x_spectrum)
        dx_spectrum = scratch_buffer(workspace, "dx spectrum", (c, 2, q, n), dy) if need_dx else None
        dx_rows = None if dx_spectrum is None else _per_frequency(dx_spectrum)
        correlation = scratch_buffer(workspace, "correlation", (2, q, f * c), dy)  # sum of x conj(dy): re, im

        def multiply(start, stop):
            # sum over the batch of dy conj-paired with x, for every (filter, part) x (channel, part) pair
            pairs = xp.matmul(dy_rows[start:stop], x_rows[start:stop].transpose(0, 2, 1), out=products[start:stop])
            blocks = pairs.reshape(stop - start, f, 2, c, 2)
            xp.add(blocks[:, :, 0, :, 0], blocks[:, :, 1, :, 1], out=correlation[0, start:stop].reshape(-1, f, c))
            xp.subtract(blocks[:, :, 0, :, 1], blocks[:, :, 1, :, 0],
                        out=correlation[1, start:stop].reshape(-1, f, c))
            if dx_rows is not None:
                xp.matmul(cache.kernel_spectrum[start:stop].transpose(0, 2, 1), dy_rows[start:stop],
                          out=dx_rows[start:stop])

        for_ranges(xp, q, 4 * f * c + 2 * (c + f) * n, multiply)
        to_taps = _on(xp, _spectrum_to_kernel(geometry, dy.dtype.str))
        taps = scratch_buffer(workspace, "kernel taps", (kh * kw, f * c), dy)
        pairs = correlation.reshape(2 * q, f * c)

        def filters(start, stop):
            xp.matmul(to_taps, pairs[:, start * c:stop * c], out=taps[:, start * c:stop * c])
            xp.copyto(dkernel_out[start:stop].reshape((stop - start) * c, kh * kw), taps[:, start * c:stop * c].T)

        for_ranges(xp, f, 2 * q * c + kh * kw * c, filters)
        if need_dx:
            dx = xp.empty((c, h, w, n), dtype=dy.dtype)
            _from_spectrum(dx_spectrum, geometry.leading_pads, (h, w), geometry, dx, scratch)
    return None if dx is None else dx.transpose(CHWN_TO_NCHW)
