"""A training run as Qt signals (DESIGN.md seam 4): the engine's Trainer runs in a process of its own
(app/training/process.py, reached through app/training/link.py) and this object re-emits what it reports.

Every event carries host copies (frozen dataclasses, NumPy arrays nobody mutates), so the GUI may keep
them. Step events arrive hundreds of times a second, more than a person can see and enough to flood the
event queue, so the training side batches them: ``steps_reported`` carries the steps since the last
emission, at most ``STEP_REPORT_INTERVAL_S`` apart (and flushed before every other event).

    session = TrainingSession(TrainingJob(spec, seed, "numpy", config, data, checkpoint_dir))
    session.worker.steps_reported.connect(plot.add_steps)
    session.start()
    ...
    session.pause(); session.step_once(); session.resume(); session.stop()
    session.set_core_limit(1)   # e.g. while the pen is down on the draw pad
    session.shutdown()          # stops the run and waits for it to end (window closing)
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.training.link import MODE_VARIABLE, TrainingLink, default_mode
from app.training.process import STEP_REPORT_INTERVAL_S, TrainingJob

__all__ = ["MODE_VARIABLE", "STEP_REPORT_INTERVAL_S", "TrainingJob", "TrainingSession", "TrainingSignals",
           "default_mode"]


class TrainingSignals(QObject):
    """What the run reports, queued to the GUI thread (they are emitted on the link's receiver thread)."""

    steps_reported = Signal(list)  # [StepEvent, ...] since the previous emission
    epoch_finished = Signal(object)  # EpochEvent
    snapshot_published = Signal(object)  # SnapshotEvent (host copies of every weight and gradient)
    paused = Signal(object)  # PausedEvent: the pause took effect
    training_finished = Signal(object)  # FinishedEvent, after a snapshot of the final weights
    training_failed = Signal(object)  # FailedEvent, after a snapshot of the weights kept
    done = Signal()  # after finished or failed: the run's process has ended


class TrainingSession(QObject):
    """One run: its process, and the GUI's way to steer it."""

    def __init__(self, job: TrainingJob, parent: QObject | None = None, mode: str | None = None):
        super().__init__(parent)
        self.job = job
        self.worker = TrainingSignals(self)
        self.link = TrainingLink(self._emit, mode)
        self._signals = {"steps": self.worker.steps_reported, "epoch": self.worker.epoch_finished,
                         "snapshot": self.worker.snapshot_published, "paused": self.worker.paused,
                         "finished": self.worker.training_finished, "failed": self.worker.training_failed}

    def _emit(self, kind: str, payload) -> None:
        """Called on the link's receiver thread."""
        try:
            if kind == "done":
                self.worker.done.emit()
            else:
                self._signals[kind].emit(payload)
        except RuntimeError:  # the window closed and Qt deleted these objects: nobody is listening
            pass

    def start(self) -> None:
        self.link.start(self.job)

    @property
    def mode(self) -> str:
        """"process", or "thread" where no process could be started."""
        return self.link.mode

    @property
    def running(self) -> bool:
        return self.link.running

    # Commands take effect between steps.
    def pause(self) -> None:
        self.link.command("pause")

    def resume(self) -> None:
        self.link.command("resume")

    def step_once(self) -> None:
        self.link.command("step")

    def stop(self) -> None:
        self.link.command("stop")

    def set_learning_rate(self, value: float) -> None:
        self.link.command("learning_rate", value)

    def set_core_limit(self, cores: int | None) -> None:
        """Let training's work use at most ``cores`` cores (None: all) from its next step on."""
        self.link.command("core_limit", cores)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Stop the run and wait for it to end (e.g. the window is closing); True when it ended. A process
        that does not stop in time is terminated (its last snapshot is all that is kept)."""
        self.link.command("stop")
        if self.link.join(timeout_ms / 1000):
            return True
        self.link.terminate()
        return self.link.join(5)
