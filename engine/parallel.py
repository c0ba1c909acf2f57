"""Sharing NumPy work between the CPU's cores.

NumPy releases the GIL inside its loops over large arrays, so one big copy or element-wise pass
split into a piece per core, run on a small thread pool, uses every core. BLAS already does this
for the GEMMs; this is for the copies and passes around them (im2col, col2im, pooling), which are
otherwise single-threaded. CuPy work is never split: the GPU is parallel already.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

MAX_WORKERS = 4  # past a few threads these passes are limited by memory bandwidth, not cores
MIN_ELEMENTS_PER_PIECE = 1 << 16  # below this, a thread hand-off costs more than it saves
PIECES_PER_WORKER = 2

_executor: ThreadPoolExecutor | None = None


def cpu_workers() -> int:
    """Cores this process may use (its affinity mask where the OS has one), at most MAX_WORKERS."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="layerlab-worker")
    return _executor


def run_pieces(work: Callable, pieces: list) -> None:
    """``work(piece)`` for every piece, in parallel; the calling thread works through them too.

    The pieces are shared, not assigned: each thread takes the next untaken piece until none are
    left, and the caller never waits for a worker that has not started. When the other cores are
    busy (another program, the GUI thread, a draw-a-digit inference), a worker may not be scheduled
    for several milliseconds; the caller then simply does every piece itself instead of idling
    until the worker wakes up, so a busy machine costs at most the parallel speed-up, never more.
    """
    if len(pieces) <= 1:
        for piece in pieces:
            work(piece)
        return
    untaken = iter(pieces)
    lock = threading.Lock()

    def take_pieces():
        while True:
            with lock:
                piece = next(untaken, None)
            if piece is None:
                return
            work(piece)

    helpers = [_pool().submit(take_pieces) for _ in range(min(cpu_workers(), len(pieces)) - 1)]
    take_pieces()
    for helper in helpers:
        if not helper.cancel():  # a helper that never started has nothing to finish
            helper.result()  # waits for the piece it took; re-raises a worker's exception here


def for_ranges(xp, length: int, elements_per_index: int, work: Callable[[int, int], None]) -> None:
    """``work(start, stop)`` over ``range(length)`` cut into ranges shared between the cores (NumPy only).

    ``elements_per_index`` is how many array elements one index touches; small jobs run in one piece.
    Two ranges per core let a late-starting worker still take a share (see ``run_pieces``).
    """
    parts = 1
    if xp is np:
        parts = min(PIECES_PER_WORKER * cpu_workers(), length,
                    max(1, length * elements_per_index // MIN_ELEMENTS_PER_PIECE))
    bounds = [length * i // parts for i in range(parts + 1)]
    run_pieces(lambda piece: work(*piece), [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if b > a])


def _dense_flat(array):
    """A 1-D view of ``array``'s memory when it fills one dense block in some axis order, else None."""
    order = sorted(range(array.ndim), key=lambda axis: -array.strides[axis])
    permuted = array.transpose(order)
    return permuted.reshape(-1) if permuted.flags.c_contiguous else None


def elementwise(xp, operation: Callable, *arrays) -> None:
    """``operation(*pieces)`` over matching pieces of ``arrays`` (inputs and output, same shape and layout).

    Splits only NumPy arrays that share one dense memory layout; anything else gets one call.
    """
    flats = None
    if xp is np and all(a.strides == arrays[0].strides and a.shape == arrays[0].shape for a in arrays):
        flats = [_dense_flat(a) for a in arrays]
    if flats is None or any(f is None for f in flats):
        operation(*arrays)
        return
    for_ranges(xp, flats[0].size, 1, lambda start, stop: operation(*(f[start:stop] for f in flats)))
