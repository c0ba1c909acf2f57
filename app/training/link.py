"""The app's end of a training run in its own process (app/training/process.py): start it, steer it, hear it.

    link = TrainingLink(emit)            # emit(kind, payload) is called on the receiver thread
    link.start(job)                      # returns at once: a sender thread hands the job's data over
    link.command("pause")                # also "resume", "step", "stop", ("learning_rate", v), ("core_limit", n)
    link.join(timeout_s)                 # True once the run's process (or thread) has ended

``emit`` receives, in order: ("steps", [StepEvent, ...]), ("epoch", EpochEvent), ("paused", PausedEvent),
("snapshot", SnapshotEvent), and last, once the process has ended, ("finished", FinishedEvent) or
("failed", FailedEvent), then ("done", None). A process that dies mid-run is reported as a failure naming its
exit code. Where no process can be started (LAYERLAB_TRAINING_PROCESS=thread, a system that refuses, or a
child that dies before it receives the job) the same code runs on a thread of this process instead.
No Qt here: app/training/worker.py turns ``emit`` into signals.
"""

from __future__ import annotations

import multiprocessing
import threading

import engine
from app.training.process import TrainingJob, send_job, serve_training
from app.transfer import receive_arrays
from app.worker_process import mode_from_environment, start_worker

MODE_VARIABLE = "LAYERLAB_TRAINING_PROCESS"  # "process" (default) or "thread"


def default_mode() -> str:
    return mode_from_environment(MODE_VARIABLE)


class TrainingLink:
    def __init__(self, emit, mode: str | None = None):
        self._emit = emit
        self.mode = mode or default_mode()
        self.worker = None  # the training's Process or Thread
        self._control = None  # our end of the control connection
        self._send_lock = threading.Lock()  # commands come from the GUI thread, a retry from the receiver
        self._job: TrainingJob | None = None
        self._last_step = self._last_epoch = 0
        self._ended = threading.Event()  # the run is over: set just before its final event is emitted

    # -- the GUI's side ------------------------------------------------------------------------------
    def start(self, job: TrainingJob) -> None:
        self._job = job
        self._launch()

    def command(self, *message) -> None:
        """Send a command; ignored once the run has ended (its end may already be closed)."""
        with self._send_lock:
            if self._control is None or self._ended.is_set():
                return
            try:
                self._control.send(message)
            except (OSError, ValueError):  # the run has just ended; the receiver reports it
                pass

    @property
    def running(self) -> bool:
        return self.worker is not None and not self._ended.is_set()

    def join(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for the run's process (or thread) to end; True when it has."""
        return self._ended.wait(timeout_s) if self.worker is not None else True

    def terminate(self) -> None:
        """End a process that did not stop when asked (a thread cannot be ended: it stops at its next step)."""
        worker = self.worker
        if isinstance(worker, multiprocessing.process.BaseProcess) and worker.is_alive():
            worker.terminate()

    # -- starting ------------------------------------------------------------------------------------
    def _launch(self) -> None:
        # Duplex pipes: on POSIX socket pairs, whose buffer (~200 KB) takes any command at once.
        control, their_control = multiprocessing.Pipe()
        data, their_data = multiprocessing.Pipe()
        worker, self.mode = start_worker(serve_training, (their_control, their_data), "layerlab-training",
                                         self.mode)
        with self._send_lock:
            self._control, self.worker = control, worker
        threading.Thread(target=self._send_job, args=(data,), name="layerlab-training-sender", daemon=True).start()
        threading.Thread(target=self._receive, args=(control, worker), name="layerlab-training-receiver",
                         daemon=True).start()

    def _send_job(self, data) -> None:
        try:
            send_job(data, self._job)  # the training data: megabytes, so not on the GUI thread
        except (OSError, ValueError):  # the training side has gone; the receiver reports it
            pass
        finally:
            data.close()

    # -- the receiver thread -------------------------------------------------------------------------
    def _receive(self, control, worker) -> None:
        started, final = False, None
        while final is None:
            try:
                # Polled, so that a training thread that ended without a word (its end of the pipe stays
                # open in this process) is noticed too.
                if not control.poll(0.5):
                    if worker.is_alive():
                        continue
                    if not control.poll(0):
                        break
                message = control.recv()
                kind = message[0]
                if kind == "started":
                    started = True
                    continue
                if kind == "snapshot":
                    _, step, epoch, weight_layout, gradient_layout = message
                    weights = receive_arrays(control, weight_layout)
                    gradients = receive_arrays(control, gradient_layout)
                    payload = engine.training.SnapshotEvent(step, epoch, weights, gradients)
                else:
                    payload = message[1]
            except (EOFError, OSError):
                break
            self._note_position(kind, payload)
            if kind in ("finished", "failed"):
                final = (kind, payload)  # said once the process has ended: then the run is over
            else:
                self._emit(kind, payload)
        if not started and self.mode == "process":
            # The child died before it had the job (e.g. it could not start in this environment).
            control.close()
            self.mode = "thread"
            self._launch()
            return
        self._finish(control, worker, final)

    def _note_position(self, kind: str, payload) -> None:
        if kind == "steps" and payload:
            self._last_step, self._last_epoch = payload[-1].step, payload[-1].epoch
        elif kind in ("epoch", "paused", "snapshot"):
            self._last_step, self._last_epoch = payload.step, payload.epoch

    def _finish(self, control, worker, final) -> None:
        worker.join(10)
        if final is None:  # the process ended without a word: killed, or crashed in native code
            code = getattr(worker, "exitcode", None)
            why = f"exit code {code}" if code is not None else "no exit code"
            final = ("failed", engine.training.FailedEvent(
                f"the training process ended unexpectedly ({why}); the weights of the last snapshot are kept",
                self._last_step, self._last_epoch))
        with self._send_lock:
            control.close()
            self._ended.set()
        self._emit(*final)
        self._emit("done", None)
