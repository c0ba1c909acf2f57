"""Run a slow function (data loading, full evaluation, profiling) off the GUI thread.

    tasks = BackgroundTasks()
    tasks.submit(lambda report: engine.evaluate(net, x, y), on_success=show, on_failure=status.setText)
    tasks.wait_for_all()        # the window is closing

``work`` receives a ``report(done, total)`` callable for progress; its result and any exception come
back to the GUI thread as queued signals, so the callbacks may touch widgets.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from engine import describe_error


class _TaskSignals(QObject):
    succeeded = Signal(object)
    failed = Signal(str)
    progressed = Signal(object, object)


class _Task(QRunnable):
    def __init__(self, work: Callable, signals: _TaskSignals):
        super().__init__()
        self.work = work
        self.signals = signals

    def run(self) -> None:
        try:
            result = self.work(self.signals.progressed.emit)
        except Exception as exc:  # reported in the GUI, never lost on a pool thread
            traceback.print_exc()  # for whoever reads the log; the person gets words (describe_error)
            self.signals.failed.emit(describe_error(exc))
        else:
            self.signals.succeeded.emit(result)


class BackgroundTasks(QObject):
    """A private pool of one thread: tasks run in order, and closing can wait for exactly these."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._alive: set[_TaskSignals] = set()  # keeps each task's signals until it has reported

    def submit(self, work: Callable, on_success: Callable, on_failure: Callable,
               on_progress: Callable | None = None) -> None:
        signals = _TaskSignals(self)
        self._alive.add(signals)

        def forget(*_):
            self._alive.discard(signals)

        signals.succeeded.connect(on_success)
        signals.failed.connect(on_failure)
        signals.succeeded.connect(forget)
        signals.failed.connect(forget)
        if on_progress is not None:
            signals.progressed.connect(on_progress)
        self.pool.start(_Task(work, signals))

    @property
    def busy(self) -> bool:
        return bool(self._alive)

    def wait_for_all(self, timeout_ms: int = 30_000) -> bool:
        return self.pool.waitForDone(timeout_ms)


class LatestOnly:
    """One task at a time for a view that recomputes as things change (a new snapshot, a point chosen): a request
    made while a task runs waits, and only the newest of those runs once it has reported (those in between are
    skipped). Several LatestOnly may share one BackgroundTasks.

        refreshes = LatestOnly(tasks)
        def refresh(self):
            if self.refreshes.defer(self.refresh):   # one is running: this call is made again when it reports
                return
            self.refreshes.submit(work, on_success=show, on_failure=status.setText)
    """

    def __init__(self, tasks: BackgroundTasks):
        self.tasks = tasks
        self.running = False
        self._waiting: Callable[[], None] | None = None  # the newest request made while one runs

    def defer(self, request: Callable[[], None]) -> bool:
        """Whether a task is running; if so, ``request`` is kept (in place of any older one) to call once it reports."""
        if self.running:
            self._waiting = request
        return self.running

    def submit(self, work: Callable, on_success: Callable, on_failure: Callable) -> None:
        self.running = True

        def reported(callback: Callable) -> Callable:
            def report(value) -> None:
                self.running = False
                callback(value)
                if self._waiting is not None:
                    waiting, self._waiting = self._waiting, None
                    waiting()
            return report

        self.tasks.submit(work, reported(on_success), reported(on_failure))
