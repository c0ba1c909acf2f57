"""Sharing NumPy work between the CPU's cores.

NumPy releases the GIL inside its loops over large arrays, so one big copy or element-wise pass
split into a piece per core, run on a small thread pool, uses every core. The same goes for GEMMs:
inside ``engine_threads()`` (a convolutional network's pass over a training batch) BLAS runs
single-threaded and the engine splits the work itself: a large matrix product into blocks (``matmul``),
a convolution into cache-sized chunks that each core takes whole (gather, multiply, scatter back).
A network of dense layers alone leaves its products to BLAS's threads (``Network._threads_for``).

Why not let BLAS thread its own GEMMs: after each threaded call, OpenBLAS's threads spin for a good
while waiting for the next one, and on a 2-core machine they take the core our workers need for the
copies in between (and PyTorch's, when it runs beside us in a benchmark). Measured on the development
machine, a seed-CNN training step at batch 128 took 143 ms this way against 176 ms before.
CuPy work is never split: the GPU is parallel already.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

from engine.backend import array_module

try:  # a dependency of the package; optional here, so that `import engine` needs only NumPy (a bare GPU box)
    from threadpoolctl import ThreadpoolController
except ImportError:
    ThreadpoolController = None

MAX_WORKERS = 4  # past a few threads these passes are limited by memory bandwidth, not cores
MIN_ELEMENTS_PER_PIECE = 1 << 16  # below this, a thread hand-off costs more than it saves
PIECES_PER_WORKER = 2
# A product is cut only when each block has ~0.4 ms of one core's work: a hand-off to a sleeping pool
# thread costs tens of microseconds on a VM, and small blocks run BLAS less efficiently. Measured with
# the MLP 784-128-10 (products of 10 MFLOP): 1.3x PyTorch's samples/s with blocks of 4 MFLOP, 1.6-1.8x
# with this threshold, where its products run whole.
MIN_FLOPS_PER_GEMM_PIECE = 32_000_000

WORKER_THREAD_NAME = "layerlab-worker"

_executor: ThreadPoolExecutor | None = None
_worker_niceness = 0  # see set_worker_niceness
_core_limit: int | None = None  # see set_core_limit


def cpu_workers() -> int:
    """Cores this process may use (its affinity mask where the OS has one), at most MAX_WORKERS and at most
    the limit an app set (``set_core_limit``)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS, _core_limit or MAX_WORKERS))


def set_core_limit(cores: int | None) -> None:
    """Share work between at most ``cores`` threads from the next split on (None: as many as there are).

    An app lowers it to 1 to leave the other cores to something that must answer quickly (the draw pad
    while training runs): a training step then runs on the calling thread alone, BLAS single-threaded.
    """
    global _core_limit
    _core_limit = cores


def cores_are_limited() -> bool:
    """True while an app has set a core limit (``set_core_limit``), whatever its value."""
    return _core_limit is not None


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix=WORKER_THREAD_NAME,
                                       initializer=_apply_worker_niceness)
    return _executor


def set_worker_niceness(niceness: int) -> None:
    """Run the worker threads at this nice value (Linux; elsewhere nothing changes), now and when started.

    An app that lowers its training thread's priority lowers the workers' too: they do half of every
    training step, and are started by whichever thread first needed them, so they do not inherit it.
    """
    global _worker_niceness
    _worker_niceness = niceness
    for thread in threading.enumerate():
        # A worker just starting has no native id yet; it applies the niceness itself (_apply_worker_niceness).
        if thread.name.startswith(WORKER_THREAD_NAME) and thread.native_id is not None:
            _renice(thread.native_id, niceness)


def _apply_worker_niceness() -> None:
    if _worker_niceness:
        _renice(threading.get_native_id(), _worker_niceness)


def _renice(native_id: int, niceness: int) -> None:
    if not hasattr(os, "setpriority"):
        return
    try:
        if os.getpriority(os.PRIO_PROCESS, native_id) < niceness:
            os.setpriority(os.PRIO_PROCESS, native_id, niceness)  # a thread's own on Linux
    except OSError:  # gone meanwhile, or not permitted here: it keeps its priority
        pass


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

    helpers = []
    for _ in range(min(cpu_workers(), len(pieces)) - 1):
        try:
            helpers.append(_pool().submit(take_pieces))
        except RuntimeError:  # the interpreter is exiting and the pool takes no more: the caller does it all
            break
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
    run_pieces(lambda piece: work(*piece), _ranges(length, parts))


def _dense_flat(array):
    """A 1-D view of ``array``'s memory when it fills one dense block in some axis order, else None."""
    order = sorted(range(array.ndim), key=lambda axis: -array.strides[axis])
    permuted = array.transpose(order)
    return permuted.reshape(-1) if permuted.flags.c_contiguous else None


def elementwise(xp, operation: Callable, *arrays) -> None:
    """``operation(*pieces)`` over matching pieces of ``arrays`` (inputs and output, same shape and layout).

    Splits only NumPy arrays that share one dense memory layout; anything else gets one call. Arrays too
    small to split get one call too, flat when they are C-contiguous (finding another layout's flat view
    costs ~10 us, as much as the operation on a few thousand elements).
    """
    same_layout = all(a.strides == arrays[0].strides and a.shape == arrays[0].shape for a in arrays)
    if xp is not np or not same_layout:
        operation(*arrays)
        return
    if arrays[0].size < 2 * MIN_ELEMENTS_PER_PIECE:  # one piece in any case (see for_ranges)
        flat = arrays[0].flags.c_contiguous  # the arrays share one layout, so all of them or none
        operation(*(a.reshape(-1) if flat else a for a in arrays))
        return
    flats = [_dense_flat(a) for a in arrays]
    if any(f is None for f in flats):
        operation(*arrays)
        return
    for_ranges(xp, flats[0].size, 1, lambda start, stop: operation(*(f[start:stop] for f in flats)))


class _BlasThreads:
    """BLAS set to one thread while any engine code runs its own split (counted, so blocks nest).

    Measured with OpenBLAS 0.3.31 (NumPy 2.4's): a thread count set from one thread is sometimes ignored
    after another thread has set one: a background thread's set(1) after the main thread's (its products
    keep BLAS's threads, and get_num_threads says so), and, in the test suite, the main thread's after the
    app tests' background threads'. The rule is not pinned down. Background threads in turn, with the main
    thread never setting one, keep the limit (three evaluations, each on a thread of its own). An ignored
    limit is still correct, but slower: a background evaluation of 5,000 MNIST test images with the seed
    CNN took 3.2-4.0 s instead of 2.0-2.4 s after the main thread had set a count, and the app's training
    thread ran at half speed for the rest of a session once its GUI thread had passed a batch through a
    block (the decision boundary while the pen is down). So a thread can be told to leave BLAS's count
    alone (``keep_blas_threads_on_this_thread``): its blocks neither set nor restore it, and count for
    nothing here; the app says so of its GUI thread, and its training thread then keeps the count it sets.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._depth = 0
        self._saved = None
        self._controllers = None  # found on first use: the BLAS libraries loaded then that threadpoolctl can steer
        self._hands_off: set[int] = set()  # threads whose blocks never touch BLAS's thread count

    def _blas(self):
        if self._controllers is None:
            if ThreadpoolController is None:  # no threadpoolctl: BLAS keeps its threads (see engine_threads)
                self._controllers = []
            else:
                self._controllers = ThreadpoolController().select(user_api="blas").lib_controllers
        return self._controllers

    @property
    def active(self) -> bool:
        """True inside ``engine_threads()`` (in any thread): BLAS runs one thread per call."""
        return self._depth > 0

    def keep_count_on_this_thread(self, keep: bool) -> None:
        (self._hands_off.add if keep else self._hands_off.discard)(threading.get_ident())

    def enter(self) -> None:
        if threading.get_ident() in self._hands_off:
            return
        with self._lock:
            if self._depth == 0:
                self._saved = [(c, c.get_num_threads()) for c in self._blas()]
                for controller, _ in self._saved:
                    controller.set_num_threads(1)
            self._depth += 1

    def exit(self) -> None:
        if threading.get_ident() in self._hands_off:
            return
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                for controller, threads in self._saved:
                    controller.set_num_threads(threads)
                self._saved = None


_blas_threads = _BlasThreads()


@contextmanager
def engine_threads():
    """The engine shares the cores itself inside this block: BLAS runs one thread per call (every BLAS
    library threadpoolctl found loaded at the first such block: NumPy's, and any other).

    Other code in the process gets its usual BLAS threads back when the last such block ends. Where no
    BLAS library can be steered (threadpoolctl finds none, or is not installed), BLAS keeps its threads:
    still correct, slower.
    """
    _blas_threads.enter()
    try:
        yield
    finally:
        _blas_threads.exit()


def keep_blas_threads_on_this_thread(keep: bool = True) -> None:
    """``engine_threads()`` blocks entered on the calling thread leave BLAS's thread count alone
    (``keep=False`` undoes it, before a thread ends: thread ids are reused).

    For an app's GUI thread, whose occasional batch (a decision boundary) would otherwise set the count from
    the main thread, after which OpenBLAS ignores the count its training thread sets (see ``_BlasThreads``).
    That thread's products then run on BLAS's own threads: correct, and at most a little slower for it.
    """
    _blas_threads.keep_count_on_this_thread(keep)


def matmul(a, b, out=None):
    """``a @ b`` (2-D); inside ``engine_threads()``, a large NumPy product is cut into blocks shared
    between the cores (the longer of the result's two sides is cut, so every block is still a
    well-shaped GEMM). Elsewhere, and for products too small to pay for a hand-off, it is one call.
    """
    xp = array_module(a)
    if xp is not np or a.ndim != 2 or b.ndim != 2 or not _blas_threads.active:
        return xp.matmul(a, b, out=out)
    m, k = a.shape
    n = b.shape[1]
    parts = min(PIECES_PER_WORKER * cpu_workers(), max(m, n), 2 * m * k * n // MIN_FLOPS_PER_GEMM_PIECE)
    if parts <= 1:
        return np.matmul(a, b, out=out)
    if out is None:
        out = np.empty((m, n), dtype=np.result_type(a, b))
    if m >= n:
        def multiply(rows):
            np.matmul(a[rows[0]:rows[1]], b, out=out[rows[0]:rows[1]])
    else:
        def multiply(columns):
            np.matmul(a, b[:, columns[0]:columns[1]], out=out[:, columns[0]:columns[1]])
    run_pieces(multiply, _ranges(max(m, n), parts))
    return out


def _ranges(length: int, parts: int) -> list[tuple[int, int]]:
    """``range(length)`` cut into ``parts`` near-equal (start, stop) ranges, empty ones left out."""
    bounds = [length * i // parts for i in range(parts + 1)]
    return [(start, stop) for start, stop in zip(bounds, bounds[1:], strict=False) if stop > start]
