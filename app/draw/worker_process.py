"""Work the app hands to a process of its own (the draw reader: the one piece of work that measured faster
there; training runs on a thread, app/training/worker.py), or to a thread where no process can be had: one
way to start either, so both ends behave alike.

    worker, mode = start_worker(serve, (their_a, their_b), "layerlab-draw-reader", "process",
                                environment={"OPENBLAS_NUM_THREADS": "1"})

A process is spawned, not forked (a fork would copy Qt's threads' locks), as a daemon (it ends with the
app), with ``environment`` set for it alone. Once it has started, this process's copies of the
connection ends in ``args`` are closed: the child holds them, so our ends see EOF when it dies. Where the
system refuses a process (or ``mode`` is "thread") the same target runs on a daemon thread with the same
connection ends. The frozen app's entry point calls ``multiprocessing.freeze_support()`` first, so a child
of the frozen app does this work instead of opening a window.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from contextlib import contextmanager


def mode_from_environment(variable: str) -> str:
    """"process", unless ``variable`` says "thread"."""
    wanted = os.environ.get(variable, "").strip().lower()
    return wanted if wanted in ("process", "thread") else "process"


def start_worker(target, args: tuple, name: str, mode: str, environment: dict | None = None):
    """(the started Process or Thread, the mode it runs in: "process" or "thread")."""
    if mode == "process":
        process = multiprocessing.get_context("spawn").Process(target=target, args=args, name=name, daemon=True)
        try:
            with _environment(environment or {}):
                process.start()
        except (OSError, RuntimeError):  # no processes here: a thread instead
            pass
        else:
            for end in args:
                end.close()
            return process, "process"
    thread = threading.Thread(target=target, args=args, name=name, daemon=True)
    thread.start()
    return thread, "thread"


@contextmanager
def _environment(values: dict):
    """Set environment variables for a child about to be spawned (it inherits them), then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
