"""A training run as Qt signals (DESIGN.md seam 4): the engine's Trainer runs on a QThread of the app's
process, in a worker QObject moved to that thread, and the worker re-emits what the trainer reports.

    session = TrainingSession(TrainingJob(spec, seed, "numpy", config, data, checkpoint_dir))
    session.worker.steps_reported.connect(plot.add_steps)
    session.start()                 # returns at once: the network is built and trained on the thread
    ...
    session.pause(); session.step_once(); session.resume(); session.stop(); session.set_learning_rate(1e-4)
    session.set_core_limit(1)       # e.g. while the pen is down on the draw pad
    session.shutdown()              # stops the run and waits (bounded) for its thread to end (window closing)

Events carry host copies (frozen dataclasses; snapshots hold NumPy copies made by ``Trainer.snapshot``,
arrays the trainer never touches again), so the GUI may keep them. The TrainingWorker emits on the
training thread; ``session.worker`` (TrainingSignals, on the GUI thread) re-emits each signal there, so
whatever listens runs on the GUI thread. The training side never touches a widget.
Step events arrive hundreds of times a second, more than a person can see and enough to flood the event
queue, so ``steps_reported`` carries the steps since the last emission, at most ``STEP_REPORT_INTERVAL_S``
apart (and flushed before every other event).

The GUI steers the run through the Trainer's thread-safe controls (a Condition, honoured between steps),
so no call here ever waits for training; commands given before the thread has built its Trainer are
kept and handed to it as soon as it exists. The only wait on the GUI thread is ``shutdown``'s, bounded.
Why a thread and not a process of its own: the process's gain in stroke-to-bars latency was within the
host's noise (benchmarks/RESULTS.md, "Draw"), and a thread needs no copying of the data set or snapshots
between processes.
"""

from __future__ import annotations

import threading
import time
import warnings
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, Slot

import engine
from app.training.priority import lower_training_priority
from app.training.tensorboard_logs import TrainingLog

training = engine.training

# Hundreds of steps a second would flood the GUI's event queue. Each report costs the GUI thread a few ms
# (the progress bar repaints at once, QProgressBar.setValue) and the training thread the GIL meanwhile: at 30
# a second the GUI thread was busy ~3x as long as at 5 and the app trained a few percent slower
# (benchmarks/RESULTS.md, issue 21). Five a second still moves the bar smoothly; the curves redraw once a second.
STEP_REPORT_INTERVAL_S = 1 / 5

__all__ = ["STEP_REPORT_INTERVAL_S", "TrainingJob", "TrainingSession", "TrainingSignals", "TrainingWorker"]


@dataclass
class TrainingJob:
    """Everything the training thread needs to build and run a Trainer."""

    spec: dict
    seed: int
    backend: str  # "numpy" or "cupy"
    config: training.TrainingConfig
    data: training.TrainingData
    checkpoint_dir: str | None = None
    # A TensorBoard log of the run, in a new folder named tensorboard_run under this one (written on the training
    # thread, app/training/tensorboard_logs.py); None: no log.
    tensorboard_dir: str | None = None
    tensorboard_run: str = ""


class TrainerControls:
    """The GUI's commands, handed to the Trainer's thread-safe controls; kept in order until it exists."""

    def __init__(self):
        self._lock = threading.Lock()
        self._trainer: training.Trainer | None = None
        self._waiting: list[tuple] = []

    def attach(self, trainer: training.Trainer) -> None:
        """Called on the training thread once the Trainer is built, before it runs its first step."""
        with self._lock:
            self._trainer = trainer
            waiting, self._waiting = self._waiting, []
            for command in waiting:
                _obey(trainer, *command)

    def send(self, *command) -> None:
        with self._lock:
            if self._trainer is None:
                self._waiting.append(command)
            else:
                _obey(self._trainer, *command)


def _obey(trainer: training.Trainer, command: str, *arguments) -> None:
    if command == "pause":
        trainer.request_pause()
    elif command == "resume":
        trainer.resume()
    elif command == "step":
        trainer.request_single_step()
    elif command == "stop":
        trainer.request_stop()
    elif command == "learning_rate":
        try:
            trainer.set_learning_rate(*arguments)
        except ValueError:  # the GUI checks the value; a bad one is ignored, as the trainer would
            pass


class TrainingWorker(QObject):
    """Lives on the training thread: builds the network and Trainer, trains, reports each event as a signal."""

    steps_reported = Signal(list)  # [StepEvent, ...] since the previous emission
    epoch_finished = Signal(object)  # EpochEvent
    snapshot_published = Signal(object)  # SnapshotEvent (host copies of every weight and gradient)
    paused = Signal(object)  # PausedEvent: the pause took effect
    training_finished = Signal(object)  # FinishedEvent, after a snapshot of the final weights
    training_failed = Signal(object)  # FailedEvent, after a snapshot of the weights kept
    done = Signal()  # after finished or failed: the run is over
    tensorboard_opened = Signal(str)  # the folder the run's TensorBoard log is written in
    tensorboard_stopped = Signal(str)  # why the log could not be opened, or stopped (the run goes on)

    def __init__(self, job: TrainingJob, controls: TrainerControls):
        super().__init__()  # no parent: it is moved to the training thread
        self.job = job
        self.controls = controls
        self.trainer: training.Trainer | None = None
        self._steps: list[training.StepEvent] = []
        self._last_steps_sent = 0.0
        self._last_position = (0, 0)  # (step, epoch) of the last event, for a failure the trainer did not report
        self._log: TrainingLog | None = None

    @Slot()
    def run(self) -> None:
        """On the training thread: the whole run, ending with finished or failed, then done."""
        try:
            self._train()
        except BaseException as exc:  # a run must end with an event, never silently
            # No final snapshot: the trainer's state is not to be trusted, the last one published stands.
            self._send_steps()
            self._emit(self.training_failed, training.FailedEvent(
                f"training ended unexpectedly ({engine.describe_error(exc)}); the weights of the last snapshot "
                f"are kept", *self._last_position))
        finally:
            if self._log is not None:  # the trainer's last event closes it; an unexpected end does not
                self._log.close()
            self._emit(self.done)
            # Home to the GUI thread, which deletes it with its session; the thread's event loop then ends.
            self.moveToThread(QCoreApplication.instance().thread())
            QThread.currentThread().quit()

    def _train(self) -> None:
        try:
            lower_training_priority()  # the GUI and the draw reader come first when they need a core
        except Exception as exc:  # a courtesy to the GUI: training runs without it, never fails on it
            warnings.warn(f"training runs at normal priority: {exc!r}", RuntimeWarning, stacklevel=1)
        job = self.job
        try:
            engine.backend.set_backend(job.backend)
            network = engine.Network(job.spec, seed=job.seed, xp=engine.backend.current())
            trainer = training.Trainer(network, job.data, job.config, self._report, job.checkpoint_dir)
        except Exception as exc:  # e.g. an optimizer setting the engine refuses: the run ends, saying why
            self._report(training.FailedEvent(f"could not start training: {engine.describe_error(exc)}", 0, 0))
            return
        self.trainer = trainer
        self._open_log(network)
        self.controls.attach(trainer)
        trainer.run()  # always ends with a Finished or Failed event, which _report sends last

    def _open_log(self, network) -> None:
        """On the training thread, as every write to the log is: the GUI only hears of its folder."""
        job = self.job
        if not job.tensorboard_dir:
            return
        settings = {"dataset": job.data.name, **job.config.to_dict()}
        self._log, problem = TrainingLog.open(job.tensorboard_dir, job.tensorboard_run, network, settings)
        if problem:
            self._emit(self.tensorboard_stopped, problem)
        else:
            self._emit(self.tensorboard_opened, str(self._log.run_dir))

    # -- the trainer's callback, on the training thread ----------------------------------------------
    def _report(self, event) -> None:
        if self._log is not None:  # every event, before any throttling for the GUI
            problem = self._log(event)
            if problem:
                self._log = None
                self._emit(self.tensorboard_stopped, problem)
        if isinstance(event, training.StepEvent):
            self._steps.append(event)
            if time.perf_counter() - self._last_steps_sent >= STEP_REPORT_INTERVAL_S:
                self._send_steps()
            return
        self._send_steps()
        self._last_position = (event.step, event.epoch)
        if isinstance(event, training.SnapshotEvent):
            self._emit(self.snapshot_published, event)
        elif isinstance(event, training.EpochEvent):
            self._emit(self.epoch_finished, event)
        elif isinstance(event, training.PausedEvent):
            self._emit(self.paused, event)
        elif isinstance(event, (training.FinishedEvent, training.FailedEvent)):
            if self.trainer is not None:  # the weights the run ends with (the best, after early stopping)
                self._emit(self.snapshot_published, self.trainer.snapshot(event.epoch))
            finished = isinstance(event, training.FinishedEvent)
            self._emit(self.training_finished if finished else self.training_failed, event)

    def _send_steps(self) -> None:
        if self._steps:
            steps, self._steps = self._steps, []
            self._last_position = (steps[-1].step, steps[-1].epoch)
            self._emit(self.steps_reported, steps)
            self._last_steps_sent = time.perf_counter()

    @staticmethod
    def _emit(signal, *payload) -> None:
        try:
            signal.emit(*payload)
        except RuntimeError:  # the window closed and Qt deleted the receivers: nobody is listening
            pass


class TrainingSignals(QObject):
    """The run's events on the GUI thread: each of the training thread's signals, re-emitted here. Anything
    connected to these runs on the GUI thread, whatever it is (a lambda, a test's waiter), never on the
    training thread."""

    steps_reported = Signal(list)
    epoch_finished = Signal(object)
    snapshot_published = Signal(object)
    paused = Signal(object)
    training_finished = Signal(object)
    training_failed = Signal(object)
    done = Signal()
    tensorboard_opened = Signal(str)
    tensorboard_stopped = Signal(str)

    NAMES = ("steps_reported", "epoch_finished", "snapshot_published", "paused", "training_finished",
             "training_failed", "done", "tensorboard_opened", "tensorboard_stopped")

    def relay(self, worker: TrainingWorker) -> None:
        for name in self.NAMES:  # queued: ``worker`` emits on the training thread, this object lives here
            getattr(worker, name).connect(getattr(self, name), type=Qt.ConnectionType.QueuedConnection)


class TrainingSession(QObject):
    """One run: its thread, its worker, and the GUI's way to steer it (every call returns at once)."""

    def __init__(self, job: TrainingJob, parent: QObject | None = None):
        super().__init__(parent)
        self.job = job
        self._controls = TrainerControls()
        self._trainer_side = TrainingWorker(job, self._controls)
        self.worker = TrainingSignals(self)  # what the GUI listens to
        self.worker.relay(self._trainer_side)
        self._thread = QThread()  # no parent: it must outlive nothing that would destroy it while it runs
        self._thread.setObjectName("layerlab-training")
        self._trainer_side.moveToThread(self._thread)
        self._thread.started.connect(self._trainer_side.run)
        self._started = False

    def start(self) -> None:
        self._started = True
        self._thread.start()

    @property
    def running(self) -> bool:
        """True until the training thread has ended (after its last event): then the session may be let go."""
        return self._started and not self._thread.isFinished()

    # Commands take effect between steps.
    def pause(self) -> None:
        self._controls.send("pause")

    def resume(self) -> None:
        self._controls.send("resume")

    def step_once(self) -> None:
        self._controls.send("step")

    def stop(self) -> None:
        self._controls.send("stop")

    def set_learning_rate(self, value: float) -> None:
        self._controls.send("learning_rate", value)

    @staticmethod
    def set_core_limit(cores: int | None) -> None:
        """Let training's work use at most ``cores`` cores (None: all) from its next step on. The training
        thread shares this process's engine, so this is the engine's own limit."""
        engine.set_core_limit(cores)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Stop the run and wait up to ``timeout_ms`` for its thread to end (e.g. the window is closing); True
        when it ended. The trainer stops at its next step; a thread that does not end in time is left running
        (it is kept from being destroyed while it runs) rather than hanging the window."""
        self.stop()
        if not self._started or self._thread.wait(timeout_ms):
            return True
        _STILL_RUNNING.append(self)
        return False

    def dispose(self) -> None:
        """Let this session go once its thread has ended (at once when it has)."""
        if not self._started or self._thread.isFinished():
            self.deleteLater()
        else:
            self._thread.finished.connect(self.deleteLater)


_STILL_RUNNING: list[TrainingSession] = []  # sessions whose thread outlived shutdown: never destroyed while it runs

