"""Runs an ``engine.training.Trainer`` on a QThread and re-emits its events as Qt signals (DESIGN.md seam 4).

The trainer calls ``_on_event`` on the training thread; this object only re-emits, never touches a widget.
Every event already carries host copies (frozen dataclasses, NumPy arrays nobody mutates), so the GUI
may keep them. Step events arrive hundreds of times a second, more than a person can see and enough to
flood the event queue, so they are batched: ``steps_reported`` carries the steps since the last emission,
at most ``STEP_EMIT_INTERVAL_S`` apart (and flushed at every epoch end, pause and finish).

    session = TrainingSession(trainer)
    session.worker.steps_reported.connect(plot.add_steps)
    session.start()
    ...
    session.pause(); session.step_once(); session.resume(); session.stop()
    session.shutdown()          # stops the run and joins the thread (window closing)
"""

from __future__ import annotations

import threading
import time
import warnings

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

import engine
from app.training.priority import lower_training_priority

STEP_EMIT_INTERVAL_S = 1 / 30


class TrainingWorker(QObject):
    steps_reported = Signal(list)  # [StepEvent, ...] since the previous emission
    epoch_finished = Signal(object)  # EpochEvent
    snapshot_published = Signal(object)  # SnapshotEvent (host copies of every weight)
    paused = Signal(object)  # PausedEvent: the pause took effect
    training_finished = Signal(object)  # FinishedEvent
    training_failed = Signal(object)  # FailedEvent
    done = Signal()  # after finished or failed: the thread may quit

    def __init__(self, trainer):
        super().__init__()
        self.trainer = trainer
        self._pending_steps: list = []
        self._last_step_emit = 0.0
        self._lock = threading.Lock()

    @Slot()
    def run(self) -> None:
        try:
            lower_training_priority()  # the GUI and the draw reader come first when they need a core
        except Exception as exc:  # a courtesy to the GUI: training runs without it, never hangs on it
            warnings.warn(f"training runs at normal priority: {exc!r}", RuntimeWarning, stacklevel=1)
        self.trainer.callback = self._on_event
        try:
            self.trainer.run()  # always ends with a Finished or Failed event
        finally:
            self.done.emit()

    def _on_event(self, event) -> None:
        training = engine.training
        if isinstance(event, training.StepEvent):
            with self._lock:
                self._pending_steps.append(event)
            if time.perf_counter() - self._last_step_emit >= STEP_EMIT_INTERVAL_S:
                self._flush_steps()
            return
        self._flush_steps()
        if isinstance(event, training.EpochEvent):
            self.epoch_finished.emit(event)
        elif isinstance(event, training.SnapshotEvent):
            self.snapshot_published.emit(event)
        elif isinstance(event, training.PausedEvent):
            self.paused.emit(event)
        elif isinstance(event, training.FinishedEvent):
            self.training_finished.emit(event)
        elif isinstance(event, training.FailedEvent):
            self.training_failed.emit(event)

    def _flush_steps(self) -> None:
        with self._lock:
            steps, self._pending_steps = self._pending_steps, []
        if steps:
            self._last_step_emit = time.perf_counter()
            self.steps_reported.emit(steps)


class TrainingSession(QObject):
    """Owns the thread and the worker of one run; the GUI steers the run through it."""

    def __init__(self, trainer, parent: QObject | None = None):
        super().__init__(parent)
        self.trainer = trainer
        self.thread = QThread()
        self.thread.setObjectName("layerlab-training")
        self.worker = TrainingWorker(trainer)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        # Direct: QThread.quit is thread-safe, and a queued call would wait for the GUI thread, which
        # may itself be blocked in shutdown() waiting for this thread.
        self.worker.done.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)

    def start(self) -> None:
        self.thread.start()

    @property
    def running(self) -> bool:
        return self.thread.isRunning()

    # Trainer's control methods are thread-safe and take effect between steps.
    def pause(self) -> None:
        self.trainer.request_pause()

    def resume(self) -> None:
        self.trainer.resume()

    def step_once(self) -> None:
        self.trainer.request_single_step()

    def stop(self) -> None:
        self.trainer.request_stop()

    def set_learning_rate(self, value: float) -> None:
        self.trainer.set_learning_rate(value)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Stop the run and wait for the thread to end (e.g. the window is closing); True when it ended."""
        if not self.thread.isRunning():
            return True
        self.trainer.request_stop()
        return self.thread.wait(timeout_ms)
