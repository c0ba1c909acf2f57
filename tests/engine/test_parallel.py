"""engine.parallel: every piece runs exactly once, errors surface, and a busy pool never stalls the caller."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from engine import parallel


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
