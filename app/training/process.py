"""The training run's own side: a process of its own (or a thread, where no process can be had) that receives
the job, builds the network and the engine's Trainer, trains, and reports every event back. No Qt here.

Why a process. The app's GUI thread and the draw reader's answers need Python's GIL for moments at a
time; a training thread in the app's process holds it between its NumPy calls, and it is niced, so on a
2-core machine it may wait for a core while it holds the GIL everyone else waits for. A run that crashes
in native code or runs out of memory also takes only its own process down, and a run that does not stop
when the window closes can be terminated. Measured (benchmarks/bench_draw_latency.py --training, 3
rounds; benchmarks/RESULTS.md, "Draw"): stroke-to-bars p99 while training 12.3-13.6 ms with training in
a process, 14.0 ms (max 23.6 against 16-17) on a thread: a small gain, within the host's noise; what
brought the p99 from ~40 ms to the target were the draw reader's changes measured beside it.

The conversation, on two connections (``data`` carries the job's megabytes, so that ``control`` is always
free for a command):

    GUI -> training, data:     ("job", spec, seed, backend, config dict, checkpoint dir, name, layout),
                               then each array's bytes (app/transfer.py)
    GUI -> training, control:  ("pause",) ("resume",) ("step",) ("stop",) ("learning_rate", value)
                               ("core_limit", cores or None)
    training -> GUI, control:  ("started",) once the job is in;
                               ("steps", [StepEvent, ...]) at most STEP_REPORT_INTERVAL_S apart;
                               ("epoch", EpochEvent); ("paused", PausedEvent);
                               ("snapshot", step, epoch, weights layout, gradients layout), then the bytes;
                               last, ("finished", FinishedEvent) or ("failed", FailedEvent), after a snapshot
                               of the final weights.

When the GUI's end of ``control`` closes (the app quit or died), the run stops at the next step.
"""

from __future__ import annotations

import signal
import threading
import time
import warnings
from dataclasses import dataclass

import engine
from app.training.priority import lower_training_priority
from app.transfer import array_layout, receive_arrays, send_arrays

training = engine.training

STEP_REPORT_INTERVAL_S = 1 / 30  # hundreds of steps a second would flood the GUI's event queue
DATA_ARRAYS = ("train_images", "train_labels", "val_images", "val_labels")


@dataclass
class TrainingJob:
    """Everything the training side needs to build and run a Trainer."""

    spec: dict
    seed: int
    backend: str  # "numpy" or "cupy"
    config: training.TrainingConfig
    data: training.TrainingData
    checkpoint_dir: str | None = None


def send_job(data_connection, job: TrainingJob) -> None:
    arrays = {name: getattr(job.data, name) for name in DATA_ARRAYS if getattr(job.data, name) is not None}
    data_connection.send(("job", job.spec, job.seed, job.backend, job.config.to_dict(), job.checkpoint_dir,
                          job.data.name, array_layout(arrays)))
    send_arrays(data_connection, arrays)


def receive_job(data_connection) -> TrainingJob:
    _, spec, seed, backend, config, checkpoint_dir, name, layout = data_connection.recv()
    arrays = receive_arrays(data_connection, layout)
    data = training.TrainingData(*(arrays.get(array) for array in DATA_ARRAYS), name=name)
    return TrainingJob(spec, seed, backend, training.TrainingConfig.from_dict(config), data, checkpoint_dir)


def serve_training(control, data_connection) -> None:
    """Receive one job on ``data_connection``, run it, report on ``control``; returns when the run has ended."""
    if threading.current_thread() is threading.main_thread():  # a process of its own
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in a terminal is for the app, which stops us
    try:
        job = receive_job(data_connection)
        control.send(("started",))
    except (EOFError, OSError):  # the app went away before the job was in
        return
    finally:
        data_connection.close()
    try:
        lower_training_priority()  # the GUI and the draw reader come first when they need a core
    except Exception as exc:  # a courtesy to the GUI: training runs without it, never fails on it
        warnings.warn(f"training runs at normal priority: {exc!r}", RuntimeWarning, stacklevel=1)
    reporter = Reporter(control)
    try:
        engine.backend.set_backend(job.backend)
        network = engine.Network(job.spec, seed=job.seed, xp=engine.backend.current())
        trainer = training.Trainer(network, job.data, job.config, reporter, job.checkpoint_dir)
    except Exception as exc:  # e.g. an optimizer setting the engine refuses: the run ends, saying why
        reporter(training.FailedEvent(f"could not start training: {exc}", 0, 0))
        return
    reporter.trainer = trainer
    threading.Thread(target=obey, args=(control, trainer), name="layerlab-training-commands", daemon=True).start()
    trainer.run()  # always ends with a Finished or Failed event, which the reporter sends last


def obey(control, trainer: training.Trainer) -> None:
    """The GUI's commands, until its end closes; the trainer's control methods are thread-safe."""
    while True:
        try:
            command, *arguments = control.recv()
        except (EOFError, OSError):
            trainer.request_stop()
            return
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
        elif command == "core_limit":
            engine.set_core_limit(*arguments)


class Reporter:
    """The trainer's callback: sends each event to the GUI, steps batched, final weights before the final event."""

    def __init__(self, control):
        self.control = control
        self.trainer = None  # set once built: its final weights go out before the final event
        self._steps: list[training.StepEvent] = []
        self._last_steps_sent = 0.0

    def __call__(self, event) -> None:
        try:
            self._report(event)
        except (OSError, ValueError):  # the GUI has gone: stop training, nobody is watching
            raise SystemExit(0) from None

    def _report(self, event) -> None:
        if isinstance(event, training.StepEvent):
            self._steps.append(event)
            if time.perf_counter() - self._last_steps_sent >= STEP_REPORT_INTERVAL_S:
                self._send_steps()
            return
        self._send_steps()
        if isinstance(event, training.SnapshotEvent):
            self._send_snapshot(event)
        elif isinstance(event, training.EpochEvent):
            self.control.send(("epoch", event))
        elif isinstance(event, training.PausedEvent):
            self.control.send(("paused", event))
        elif isinstance(event, (training.FinishedEvent, training.FailedEvent)):
            if self.trainer is not None:  # the weights the run ends with (the best, after early stopping)
                self._send_snapshot(self.trainer.snapshot(event.epoch))
            self.control.send(("finished" if isinstance(event, training.FinishedEvent) else "failed", event))

    def _send_steps(self) -> None:
        if self._steps:
            self.control.send(("steps", self._steps))
            self._steps = []
            self._last_steps_sent = time.perf_counter()

    def _send_snapshot(self, event: training.SnapshotEvent) -> None:
        self.control.send(("snapshot", event.step, event.epoch, array_layout(event.weights),
                           array_layout(event.gradients)))
        send_arrays(self.control, event.weights)
        send_arrays(self.control, event.gradients)
