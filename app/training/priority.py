"""Training yields the CPU to the GUI: on Linux the thread that trains and the BLAS and engine worker threads
that do part of its matrix products get a lower priority (a higher nice value) when a run starts.

    lower_training_priority()      # on the thread that trains, before the first step

In the app that thread is the training QThread (app/training/worker.py); the CLI's ``layerlab train`` does
not call it.

Why: on a 2-core machine training keeps both cores busy, and everything the GUI does (painting, the draw
reader's forward pass in its own process) then waits for a time slice at every hop. Niced, training still
gets every cycle nobody else wants. The Draw panel's stroke-to-bars latency while training is several
times shorter at the 99th percentile with this than without (benchmarks/bench_draw_latency.py
--training; the figures are in benchmarks/RESULTS.md, "Draw").

Linux only: there a thread's nice value is its own, and threads it starts inherit it. The engine's worker
pool, which does half of each training step, may have been started by another thread, so it is niced
through ``engine.set_worker_niceness``. Elsewhere (and where the OS refuses) nothing changes. A plain
user may lower a priority but not raise it back, so the BLAS and engine workers stay niced for the
process's life: idle, that costs nothing; while something else in the app uses them beside another busy
program, that work gets a smaller share. Set LAYERLAB_TRAINING_NICENESS=0 to keep training at normal priority.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import engine

NICENESS_VARIABLE = "LAYERLAB_TRAINING_NICENESS"
DEFAULT_NICENESS = 10  # a CPU weight ~1/10 of a normal thread's when both want a core


def training_niceness() -> int:
    try:
        return max(0, min(19, int(os.environ.get(NICENESS_VARIABLE, DEFAULT_NICENESS))))
    except ValueError:
        return DEFAULT_NICENESS


def lower_training_priority() -> list[int]:
    """Nice the calling thread and the BLAS worker threads; returns the native ids it changed."""
    niceness = training_niceness()
    if not sys.platform.startswith("linux") or niceness == 0:
        return []
    engine.set_worker_niceness(niceness)  # the engine's own workers do half of each step
    changed = []
    for thread in [threading.get_native_id(), *blas_worker_threads()]:
        try:
            if os.getpriority(os.PRIO_PROCESS, thread) < niceness:
                os.setpriority(os.PRIO_PROCESS, thread, niceness)
                changed.append(thread)
        except OSError:  # gone meanwhile, or not permitted here (a sandbox): it keeps its priority
            pass
    return changed


def blas_worker_threads() -> list[int]:
    """Native ids of this process's threads that are neither the main thread nor started by Python nor named
    (Qt names its threads): the threads OpenBLAS starts when NumPy loads, which compute part of each GEMM."""
    tasks = Path(f"/proc/{os.getpid()}/task")
    try:
        process_name = (tasks / str(os.getpid()) / "comm").read_text()
        python_threads = {thread.native_id for thread in threading.enumerate()}
        return [int(task.name) for task in tasks.iterdir()
                if int(task.name) != os.getpid() and int(task.name) not in python_threads
                and (task / "comm").read_text() == process_name]
    except (OSError, ValueError):
        return []


def leave_a_core_to_the_pen(pen_down: bool) -> None:
    """While the pen is down on the draw pad, this process's engine work is not shared between cores: it runs
    on the calling thread alone, so the GUI thread and the draw reader have a core of their own. The training
    thread shares this process's engine, so one call limits it too: training goes on at about half speed
    during a stroke and at full speed again when the pen lifts. Part of the pen-down policy, app/pen_down.py."""
    engine.set_core_limit(1 if pen_down else None)
