"""Which way each operation runs: the one table of the engine's speed choices.

Every op has a plain reference implementation (``engine.ops.reference``) and, where it pays, faster ways to
the same numbers. Which of them runs for given shapes is decided here and nowhere else: ``RULES`` lists, for
each decision, its paths in order with the named condition under which each is taken; ``choose`` returns
the first path whose condition holds. The last path of every decision is taken ``always``.
tests/engine/test_fast_paths.py pins the choices for the benchmark models' layers and for small and odd
shapes, so that a change to this table shows up there, and checks every fast path against its reference.

The facts each decision is asked with (all plain numbers and shapes, no arrays but the first of max_pool2d):

- ``conv2d``: algorithm, xp, x_shape, kernel_shape, strides, pads, out_hw, itemsize
- ``conv2d columns``: xp, out_hw, bytes_per_position (one output position's columns for the whole batch)
- ``conv2d backward``: cache, need_dx
- ``conv2d workspace``: training, x_shape, kernel_shape, strides, padding, itemsize
- ``max_pool2d``: x, pool, strides, pads, keep_cache
- ``network threads``: xp, batch_size, shares_out_work
- ``network forward``: xp, batch_size, training, keep, return_all, timings, pre_activation

One choice stays inside its op because it is made per piece of an array, not per call: ReLU's maximum
against pieces of zeros on NumPy, plain ``maximum`` elsewhere (``relu_fast``). ``engine.one_image`` compiles
its plan with ``wide_columns_fit`` below, the rule of the "conv2d" decision's "one image" path.

``choose`` is on every op call, so it stays a loop over a few plain function calls: 0.15-0.8 us a decision on
the development machine, about a dozen decisions in a training step of the seed CNN (tens of ms), one in a
single-image reading (0.5 ms).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from engine.ops import conv_fourier
from engine.ops.conv_one_image import wide_columns_size
from engine.ops.layout import is_chwn
from engine.ops.padding import conv_geometry, normalize_padding, pair
from engine.parallel import cores_are_limited

# One chunk of a convolution's columns. Copies with working sets up to ~4 MB run at ~70 GB/s on the
# development machine, past 16 MB at 10-20 GB/s; a chunk's columns and its column gradient are alive
# together in backward (``engine.ops.conv_columns``).
CHUNK_BYTES = 3 << 20
# At most this many examples always run on BLAS's own threads (see ``Network._threads_for``).
SMALL_BATCH = 8


# -- conditions --------------------------------------------------------------------------------------------
def always(*facts) -> bool:
    return True


def fourier_asked_or_pays(algorithm, xp, x_shape, kernel_shape, strides, pads, out_hw, itemsize) -> bool:
    """'fourier' asked for, or 'auto' and ``conv_fourier.fourier_pays``: a stride-1 convolution on the CPU
    over many channels and a big batch (the seed CNN's second, in training)."""
    return algorithm == "fourier" or (algorithm == "auto" and conv_fourier.fourier_pays(
        xp, x_shape, kernel_shape, strides, pads, out_hw, itemsize))


def wide_columns_fit(channels: int, kernel_hw: tuple, out_hw: tuple, padded_width: int, itemsize: int) -> bool:
    """True when one image's image-long columns (``conv_one_image``) fit in CHUNK_BYTES; a larger image is
    cut into chunks instead. The single-image plan (``engine.one_image``) follows the same rule."""
    return wide_columns_size(channels, kernel_hw, out_hw, padded_width) * itemsize <= CHUNK_BYTES


def one_image_whose_wide_columns_fit(algorithm, xp, x_shape, kernel_shape, strides, pads, out_hw, itemsize) -> bool:
    """One image through a stride-1 convolution whose image-long columns fit (``wide_columns_fit``)."""
    n, c, _, w = x_shape
    _, _, left, right = pads
    return n == 1 and tuple(strides) == (1, 1) and wide_columns_fit(c, kernel_shape[2:], out_hw, w + left + right,
                                                                     itemsize)


def positions_per_chunk(bytes_per_position: int) -> int:
    """How many output positions' columns one CPU chunk of at most CHUNK_BYTES holds (at least one)."""
    return max(1, CHUNK_BYTES // max(1, bytes_per_position))


def on_a_gpu_or_one_chunk_holds_all(xp, out_hw, bytes_per_position) -> bool:
    """On a GPU the whole column matrix is one chunk (one big GEMM); on the CPU, when it fits CHUNK_BYTES."""
    return xp is not np or positions_per_chunk(bytes_per_position) >= out_hw[0] * out_hw[1]


def forward_ran_fourier(cache, need_dx) -> bool:
    return isinstance(cache, conv_fourier.FourierCache)


def dx_is_a_correlation(cache, need_dx) -> bool:
    """dx wanted after a chunked forward of stride 1 with no more padding than the kernel overlaps ('valid',
    'same'): dx is then a forward convolution of dy, each dx pixel written once (``_dx_by_correlation``)."""
    if not need_dx or cache.cols is not None or cache.strides != (1, 1):
        return False
    _, _, kh, kw = cache.kernel.shape
    top, bottom, left, right = cache.pads
    return max(top, bottom) < kh and max(left, right) < kw


def forward_kept_one_chunk(cache, need_dx) -> bool:
    return cache.cols is not None


def training(training, x_shape, kernel_shape, strides, padding, itemsize) -> bool:
    return training


def columns_bytes(x_shape: tuple, kernel_shape: tuple, strides, padding, itemsize: int) -> int:
    """Bytes of the whole column (im2col) matrix of a convolution of ``x_shape`` (N, C, H, W) input."""
    n, c, h, w = x_shape
    _, _, kh, kw = kernel_shape
    out_h, out_w, _ = conv_geometry(h, w, (kh, kw), pair(strides, "strides"), normalize_padding(padding))
    return c * kh * kw * max(out_h, 0) * max(out_w, 0) * n * itemsize


def columns_fit_one_chunk(training, x_shape, kernel_shape, strides, padding, itemsize) -> bool:
    """The whole column matrix fits CHUNK_BYTES (a few images): worth keeping its buffers between calls."""
    return columns_bytes(x_shape, kernel_shape, strides, padding, itemsize) <= CHUNK_BYTES


def two_by_two_stride_two_unpadded_chwn(x, pool, strides, pads, keep_cache) -> bool:
    """The common case (2x2 windows, stride 2, no padding, even sides, CHWN storage) has faster paths."""
    return pool == (2, 2) and strides == (2, 2) and not any(pads) and is_chwn(x) \
        and x.shape[2] % 2 == 0 and x.shape[3] % 2 == 0


def two_by_two_with_backward(x, pool, strides, pads, keep_cache) -> bool:
    return keep_cache and two_by_two_stride_two_unpadded_chwn(x, pool, strides, pads, keep_cache)


def on_a_gpu_or_a_few_images(xp, batch_size, shares_out_work) -> bool:
    return xp is not np or batch_size <= SMALL_BATCH


def dense_only_and_cores_unlimited(xp, batch_size, shares_out_work) -> bool:
    """Products are nearly all the work and no app limits the cores: BLAS's spinning threads hand off fastest."""
    return not shares_out_work and not cores_are_limited()


# An LSTM on two cores (engine.ops.recurrent_fast): from LSTM_HALVES_FROM_BATCH examples the batch is cut in two
# halves, each on a core of its own; from LSTM_OVERLAP_FROM_BATCH the batch stays whole and backward's
# whole-sequence products run on the second core beside the step loop; below, one core (a half's per-step
# calls are too small to pay for the threads' turns at the GIL). Measured with the feature-major fast path
# (LSTM 28 steps x 28 -> 128, forward + backward, float32, a quiet moment of the 2-core host, medians of 5;
# whole / overlap / halves): batch 16 3.5 / 3.9 / 5.2 ms, 32 5.5 / 5.1 / 5.6, 48 7.5 / 6.6 / 6.7,
# 64 9.7 / 7.9 / 7.7, 128 20.3 / 15.5 / 13.5. benchmarks/RESULTS.md "Issue 24: LSTM speed, the last step".
LSTM_HALVES_FROM_BATCH = 64
LSTM_OVERLAP_FROM_BATCH = 32


def numpy_two_cores_and_a_big_batch(xp, batch_size, workers) -> bool:
    return xp is np and workers >= 2 and batch_size >= LSTM_HALVES_FROM_BATCH


def numpy_two_cores_and_a_middling_batch(xp, batch_size, workers) -> bool:
    return xp is np and workers >= 2 and batch_size >= LSTM_OVERLAP_FROM_BATCH


def one_numpy_image_plain_inference(xp, batch_size, training, keep, return_all, timings, pre_activation) -> bool:
    return batch_size == 1 and xp is np and not (training or keep or return_all or timings is not None
                                                 or pre_activation)


# -- the table ---------------------------------------------------------------------------------------------
class Rule(NamedTuple):
    path: str
    when: Callable[..., bool]


RULES: dict[str, tuple[Rule, ...]] = {
    "conv2d": (
        Rule("fourier", fourier_asked_or_pays),  # engine.ops.conv_fourier
        Rule("one image", one_image_whose_wide_columns_fit),  # engine.ops.conv_one_image
        Rule("columns", always),  # engine.ops.conv_columns: im2col + GEMM
    ),
    "conv2d columns": (
        Rule("one chunk", on_a_gpu_or_one_chunk_holds_all),  # one GEMM, itself shared between the cores
        Rule("chunks", always),  # chunks of output positions, the cores taking them in turn
    ),
    "conv2d backward": (
        Rule("fourier", forward_ran_fourier),
        Rule("dx by correlation", dx_is_a_correlation),  # dkernel in chunks, dx as a forward convolution of dy
        Rule("one chunk", forward_kept_one_chunk),  # the forward's columns, col2im into dx
        Rule("chunks", always),  # columns gathered again per chunk, dx scattered through patches
    ),
    "conv2d workspace": (
        Rule("training", training),  # the layer's workspace, reused from step to step
        Rule("small inference", columns_fit_one_chunk),  # a workspace that only ever holds small buffers
        Rule("none", always),  # a big inference batch holds nothing once it is done
    ),
    "max_pool2d": (
        Rule("2x2 pairs", two_by_two_with_backward),  # pooling_2x2.max_pool_2x2_forward, winners kept
        Rule("2x2 maximum only", two_by_two_stride_two_unpadded_chwn),  # pooling_2x2.max_pool_2x2_values
        Rule("windows", always),  # one pass per window offset
    ),
    "network threads": (
        Rule("BLAS threads", on_a_gpu_or_a_few_images),
        Rule("BLAS threads", dense_only_and_cores_unlimited),
        Rule("engine threads", always),  # BLAS single-threaded, the engine's workers share the pieces
    ),
    "lstm batch": (
        Rule("halves", numpy_two_cores_and_a_big_batch),  # two halves side by side, weight gradients summed
        Rule("overlap", numpy_two_cores_and_a_middling_batch),  # backward's sequence products on the second core
        Rule("whole", always),
    ),
    "network forward": (
        Rule("one-image plan", one_numpy_image_plain_inference),  # engine.one_image
        Rule("layer by layer", always),
    ),
}


def choose(decision: str, *facts) -> str:
    """The path of the first rule of ``decision`` whose condition holds for ``facts``."""
    for path, when in RULES[decision]:
        if when(*facts):
            return path
    raise LookupError(f"no rule of {decision!r} holds")  # unreachable: every decision ends with `always`
