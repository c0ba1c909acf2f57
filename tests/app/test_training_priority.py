"""Training yields the CPU to the GUI (app/training/priority.py): on Linux the training thread and OpenBLAS's
worker threads are niced when a run starts; elsewhere, or with LAYERLAB_TRAINING_NICENESS=0, nothing is."""

import os
import sys
import threading

import numpy as np
import pytest

from app.training.priority import NICENESS_VARIABLE, blas_worker_threads, lower_training_priority


def run_on_a_new_thread(work):
    result = {}

    def target():
        result["changed"] = work()
        result["own"] = threading.get_native_id()
        result["niceness"] = os.getpriority(os.PRIO_PROCESS, result["own"])

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    return result


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_the_training_thread_is_niced_and_the_gui_thread_is_not(monkeypatch):
    monkeypatch.setenv(NICENESS_VARIABLE, "7")
    np.ones((300, 300)) @ np.ones((300, 300))  # OpenBLAS's workers exist once NumPy has loaded
    gui_before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    result = run_on_a_new_thread(lower_training_priority)
    assert result["niceness"] >= 7
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == gui_before  # only that thread
    workers = blas_worker_threads()
    assert os.getpid() not in workers and threading.get_native_id() not in workers
    assert not {thread.native_id for thread in threading.enumerate()} & set(workers)
    assert all(os.getpriority(os.PRIO_PROCESS, worker) >= 7 for worker in workers)


def test_niceness_zero_leaves_training_alone(monkeypatch):
    monkeypatch.setenv(NICENESS_VARIABLE, "0")
    assert run_on_a_new_thread(lower_training_priority)["changed"] == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_the_engines_workers_are_niced_whoever_started_them(monkeypatch):
    from engine import parallel

    monkeypatch.setenv(NICENESS_VARIABLE, "7")
    parallel.run_pieces(lambda piece: None, list(range(8)))  # this (GUI) thread starts the pool first
    run_on_a_new_thread(lower_training_priority)
    parallel.run_pieces(lambda piece: threading.Event().wait(0.05), list(range(8)))  # every worker started
    workers = [t.native_id for t in threading.enumerate() if t.name.startswith(parallel.WORKER_THREAD_NAME)]
    assert workers and all(os.getpriority(os.PRIO_PROCESS, worker) >= 7 for worker in workers)


def test_training_leaves_a_core_to_the_pen():
    from app.training.priority import leave_a_core_to_the_pen
    from engine import parallel

    shared = parallel.cpu_workers()
    leave_a_core_to_the_pen(True)
    try:
        assert parallel.cpu_workers() == 1
        threads = set()
        parallel.run_pieces(lambda piece: threads.add(threading.get_ident()), list(range(8)))
        assert threads == {threading.get_ident()}  # every piece on the calling thread
    finally:
        leave_a_core_to_the_pen(False)
    assert parallel.cpu_workers() == shared


def test_a_worker_still_starting_is_left_to_nice_itself(monkeypatch):
    from engine import parallel

    class Starting:  # in threading.enumerate() between start() and its first instruction: no native id yet
        name = parallel.WORKER_THREAD_NAME + "_3"
        native_id = None

    monkeypatch.setattr(parallel.threading, "enumerate", lambda: [Starting()])
    parallel.set_worker_niceness(parallel._worker_niceness)  # must not raise (it once killed a training run)
