"""engine.parallel: every piece runs exactly once, errors surface, and a busy pool never stalls the caller."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from engine import parallel
from engine.one_image import OneImagePlan


def test_every_piece_runs_exactly_once():
    done = []
    lock = threading.Lock()

    def work(piece):
        with lock:
            done.append(piece)

    parallel.run_pieces(work, list(range(50)))
    assert sorted(done) == list(range(50))


def test_for_ranges_covers_the_whole_range_without_overlap():
    counts = np.zeros(1000, dtype=np.int64)

    def work(start, stop):
        counts[start:stop] += 1

    parallel.for_ranges(np, 1000, 1 << 16, work)
    assert (counts == 1).all()


def test_a_worker_error_is_raised_in_the_caller():
    def work(piece):
        if piece == 3:
            raise ValueError("piece 3 failed")

    with pytest.raises(ValueError, match="piece 3 failed"):
        parallel.run_pieces(work, list(range(8)))


def test_the_caller_does_the_work_itself_when_every_worker_is_busy():
    # Occupy the whole pool (as another busy program would leave the workers unscheduled): the
    # caller must finish every piece alone rather than wait for a worker to come free.
    release = threading.Event()
    blockers = [parallel._pool().submit(release.wait) for _ in range(parallel.MAX_WORKERS)]
    done = []
    caller = threading.Thread(target=parallel.run_pieces, args=(done.append, list(range(6))))
    try:
        caller.start()
        caller.join(timeout=30)
        assert not caller.is_alive(), "run_pieces waited for a worker that never started"
        assert sorted(done) == list(range(6))
    finally:
        release.set()
        for blocker in blockers:
            blocker.result()


ENGINE_THREADS_CHECK = """
from threadpoolctl import threadpool_info
from engine import parallel

def blas_threads():
    return [library["num_threads"] for library in threadpool_info() if library["user_api"] == "blas"]

before = blas_threads()
with parallel.engine_threads():
    assert all(threads == 1 for threads in blas_threads()), blas_threads()
    with parallel.engine_threads():  # nested blocks (a convolution inside a network's pass)
        pass
    assert all(threads == 1 for threads in blas_threads()), blas_threads()
assert blas_threads() == before, (blas_threads(), before)
"""


def test_engine_threads_make_blas_single_threaded_and_give_its_threads_back():
    # In a fresh interpreter: OpenBLAS 0.3.31 at times ignores a thread count set after another thread has set
    # one (see engine.parallel._BlasThreads), and earlier tests in this process have set theirs.
    import subprocess
    import sys
    from pathlib import Path

    pytest.importorskip("threadpoolctl")
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", ENGINE_THREADS_CHECK], cwd=root, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("shape", [(300, 200, 50), (40, 300, 900), (9, 64, 9)])
def test_matmul_in_blocks_equals_one_product(monkeypatch, shape):
    monkeypatch.setattr(parallel, "MIN_FLOPS_PER_GEMM_PIECE", 1)  # cut even small products
    m, k, n = shape
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((n, k)).astype(np.float32).T  # a transposed operand, as in backward
    expected = a @ b
    with parallel.engine_threads():
        np.testing.assert_allclose(parallel.matmul(a, b), expected, rtol=1e-5, atol=1e-4)
        out = np.full((m, n), np.nan, dtype=np.float32)
        assert parallel.matmul(a, b, out=out) is out
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(parallel.matmul(a, b), expected, rtol=1e-5, atol=1e-4)  # outside: one call


def test_a_training_batch_gives_the_same_gradients_as_blas_threads(monkeypatch):
    """A seed-CNN-like pass over 16 images on the engine's own threads (BLAS single-threaded, products in
    blocks, convolutions in chunks) equals the same pass left whole on BLAS's own threads."""
    import engine
    from engine.ops import dispatch

    spec = {"format": "layerlab-network", "version": 1, "name": "small-cnn", "nodes": [
        {"id": "input", "type": "Input", "shape": [1, 12, 12]},
        {"id": "conv1", "type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"},
        {"id": "pool1", "type": "MaxPooling2D"},
        {"id": "conv2", "type": "Conv2D", "filters": 6, "kernel_size": 3, "padding": "same", "activation": "relu"},
        {"id": "flatten", "type": "Flatten"},
        {"id": "fc1", "type": "Dense", "units": 20, "activation": "relu"},
        {"id": "logits", "type": "Dense", "units": 3}]}
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 1, 12, 12)).astype(np.float32)
    dy = rng.standard_normal((16, 3)).astype(np.float32)

    def gradients():
        net = engine.build(spec, seed=0)
        y = net.forward(x, training=True)
        dx = net.backward(dy)
        return [y, dx] + [p.grad.copy() for p in net.parameters().values()]

    monkeypatch.setattr(dispatch, "SMALL_BATCH", 100)
    whole = gradients()
    monkeypatch.setattr(dispatch, "SMALL_BATCH", 8)
    monkeypatch.setattr(parallel, "MIN_FLOPS_PER_GEMM_PIECE", 1)
    monkeypatch.setattr(dispatch, "CHUNK_BYTES", 1)  # a chunk per output position
    for ours, reference in zip(gradients(), whole, strict=True):
        np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind,core_limit,engine_shares", [
    ("dense", None, False),  # products are all the work: BLAS's own threads share them
    ("dense", 1, True),  # an app keeps the engine to one core: BLAS too
    ("conv", None, True),  # convolutions are cut into pieces for the engine's workers
])
def test_who_shares_the_cores_in_a_training_pass(monkeypatch, kind, core_limit, engine_shares):
    import engine

    nodes = [{"id": "input", "type": "Input", "shape": [1, 6, 6]}]
    if kind == "conv":
        nodes.append({"id": "conv", "type": "Conv2D", "filters": 2, "kernel_size": 3})
    nodes += [{"id": "flatten", "type": "Flatten"}, {"id": "logits", "type": "Dense", "units": 3}]
    net = engine.build({"format": "layerlab-network", "version": 1, "name": kind, "nodes": nodes})
    seen = []
    dense = net.layers["logits"]
    monkeypatch.setattr(dense, "forward", lambda *args: seen.append(parallel._blas_threads.active)
                        or type(dense).forward(dense, *args))
    run_one_image = OneImagePlan.run
    monkeypatch.setattr(OneImagePlan, "run", lambda plan, x: seen.append(parallel._blas_threads.active)
                        or run_one_image(plan, x))
    monkeypatch.setattr(parallel, "_core_limit", core_limit)
    net.forward(np.zeros((16, 1, 6, 6), np.float32), training=True)
    net.forward(np.zeros((1, 1, 6, 6), np.float32))  # one image (its plan): BLAS's threads whatever the network
    assert seen == [engine_shares, False]


def _recording_square(calls):
    def operation(source, out):
        calls.append((source.shape, source.ndim))
        np.square(source, out=out)
    return operation


@pytest.mark.parametrize("layout", ["c-contiguous", "chwn", "mismatched"])
@pytest.mark.parametrize("size", ["small", "large"])
def test_elementwise_covers_every_element_once(layout, size):
    from engine.ops.layout import empty_chwn

    shape = (2, 3, 4, 5) if size == "small" else (16, 8, 32, 64)  # 120 or 262,144 elements
    values = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    source = values.copy() if layout == "c-contiguous" else empty_chwn(np, shape, np.float32)
    source[...] = values
    out = np.empty_like(values) if layout == "mismatched" else np.empty_like(source)
    calls = []
    parallel.elementwise(np, _recording_square(calls), source, out)
    np.testing.assert_array_equal(out, values ** 2)
    if layout == "mismatched":  # the two layouts differ: one call on the arrays as they are
        assert calls == [(shape, 4)]
    elif size == "small":  # one call; flat when C-contiguous (no layout search)
        assert calls == [((values.size,), 1)] if layout == "c-contiguous" else calls == [(shape, 4)]
    else:  # flat pieces shared between the cores
        assert len(calls) > 1 and all(ndim == 1 for _, ndim in calls)
        assert sum(shape[0] for shape, _ in calls) == values.size


def test_a_thread_told_to_keep_blas_threads_never_sets_the_count():
    """The app's GUI thread: a batch it passes through engine_threads leaves BLAS's count alone, since
    OpenBLAS then ignores the count the training thread sets (training at half speed)."""
    from threadpoolctl import ThreadpoolController

    import engine
    from engine import parallel

    blas = ThreadpoolController().select(user_api="blas")
    if not blas.lib_controllers:
        pytest.skip("no BLAS library threadpoolctl can steer")
    seen = {}

    def gui_thread():
        engine.keep_blas_threads_on_this_thread()
        try:
            before = [c.get_num_threads() for c in blas.lib_controllers]
            with parallel.engine_threads():
                seen["inside"] = [c.get_num_threads() for c in blas.lib_controllers]
                seen["active"] = parallel._blas_threads.active  # noqa: SLF001 - what matmul reads
            seen["before"] = before
        finally:
            engine.keep_blas_threads_on_this_thread(False)

    thread = threading.Thread(target=gui_thread)
    thread.start()
    thread.join()
    assert seen["inside"] == seen["before"] and not seen["active"]


def test_pieces_still_run_when_the_pool_is_shut_down(monkeypatch):
    """At the interpreter's exit the pool takes no new work; a background evaluation then still in a
    convolution finished on its own thread instead of printing a traceback as the app quit."""
    from concurrent.futures import ThreadPoolExecutor

    closed = ThreadPoolExecutor(max_workers=2)
    closed.shutdown()
    monkeypatch.setattr(parallel, "_executor", closed)
    done = []
    parallel.run_pieces(done.append, list(range(6)))
    assert sorted(done) == list(range(6))
