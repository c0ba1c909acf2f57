"""One training run at a time, from settings to finish: the dashboard's panels listen to this object.

    controller = RunController()
    controller.run_started.connect(panel.begin_run)        # ActiveRun: spec, data, settings, inference copy
    controller.snapshot_arrived.connect(panel.refresh)     # run.latest_snapshot is the new one
    controller.start(settings, spec)                       # loads data off the GUI thread, then trains

The trainer runs on a thread of its own, reached through ``app.training.worker.TrainingSession``; the
GUI only sees copies. Views that run the network on the GUI thread (the decision boundary) call
``ActiveRun.latest_network()`` (app/run_state.py): a NumPy copy that the latest snapshot is loaded into when first asked
for (a snapshot nobody looks at costs no copy).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

import engine
from app.dashboard.background import BackgroundTasks
from app.dashboard.run_data import RunData, data_problem, imported_checksum, load_run_data
from app.dashboard.run_folders import new_run_folder, remove_run_folder, sweep_stale_run_folders
from app.document.networks import design_report, new_network
from app.run_state import ActiveRun
from app.training import tensorboard_logs
from app.training.worker import TrainingJob, TrainingSession

# Live views refresh once a second: often enough to watch weights change, and each snapshot (a copy of
# every weight and gradient) costs the seed CNN ~25 MB of copying.
SNAPSHOT_EVERY_SECONDS = 1.0
SCHEDULES = {"constant": "Constant", "cosine": "Cosine decay over the run", "exponential": "Halve every epoch"}


@dataclass
class RunSettings:
    dataset: str
    config: engine.training.TrainingConfig
    validation: float = 0.1
    train_limit: int | None = None  # train on the first N examples only (quick experiments)
    backend: str = "numpy"  # or "cupy"
    schedule: str = "constant"  # a key of SCHEDULES, sized once the data (so the steps per epoch) is known
    tensorboard: bool = False  # write a TensorBoard log of the run (on the training thread)


class RunController(QObject):
    state_changed = Signal(str)  # "idle", "preparing", "running", "paused", "finished"
    status_changed = Signal(str)  # one line for the status label (errors included)
    download_progressed = Signal(object, object)  # bytes done, total (or None)
    run_started = Signal(object)  # ActiveRun
    steps_reported = Signal(list)
    epoch_finished = Signal(object)
    snapshot_arrived = Signal(object)  # SnapshotEvent, already stored as run.latest_snapshot
    run_finished = Signal(object)  # FinishedEvent
    run_failed = Signal(str)
    run_renamed = Signal(str)  # the run's new label (its learning rate was changed)
    # The folder of the run's TensorBoard log once the training thread has opened it; "" at a start without one.
    tensorboard_folder = Signal(str)
    tensorboard_stopped = Signal(str)  # why the log could not be opened, or stopped; the run goes on without it

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.tasks = BackgroundTasks(self)
        self.session: TrainingSession | None = None
        self.run: ActiveRun | None = None
        self.state = "idle"
        self._runs_started = 0
        self._backend_note = ""
        self._shut_down = False
        self._run_folders: set[Path] = set()  # made by this controller and not removed yet
        self.run_dataset_sha256: str | None = None  # the run's data set's checksum, when it is an imported set
        # The folders of LayerLab processes that crashed (they could not remove theirs): removed at start.
        sweep_stale_run_folders()

    # -- starting -----------------------------------------------------------------------------------
    def start(self, settings: RunSettings, spec: dict) -> None:
        if self.state in ("preparing", "running", "paused") or self._shut_down:
            return
        # A design error, or a design that cannot read this data set, is named now, before any data is loaded.
        report = design_report(spec)  # the document's own report of this design: no second inference
        if report.errors:
            return self._fail(f"The network is not valid: {report.errors[0]}")
        mismatch = data_problem(report, settings.dataset)
        if mismatch is not None:
            return self._fail(f"The network does not fit the data set: {mismatch}")
        too_big = engine.training_memory_problem(report, settings.config.batch_size,
                                                 optimizer_slots=_optimizer_slots(settings.config.optimizer))
        if too_big is not None:
            return self._fail(f"The network does not fit in memory: {too_big}")
        settings.backend = self._usable_backend(settings.backend)
        self._set_state("preparing")
        self.status_changed.emit(f"Loading {settings.dataset}…")

        def prepare(report):
            data = load_run_data(settings.dataset, validation=settings.validation, seed=settings.config.seed,
                                 train_limit=settings.train_limit, progress=report)
            # The GUI's copy of the network (for the views) is built here too: initialising the seed CNN's
            # 3.3M weights takes 100-150 ms, which the GUI thread would spend frozen at every Start.
            return data, new_network(spec, seed=settings.config.seed), imported_checksum(settings.dataset)

        self.tasks.submit(prepare, lambda result: self._begin(settings, spec, *result),
                          lambda message: self._fail(f"Could not prepare the run: {message}"),
                          self.download_progressed.emit)

    def _usable_backend(self, wanted: str) -> str:
        self._backend_note = ""
        try:
            engine.backend.set_backend(wanted)
            return wanted
        except engine.backend.BackendError as exc:
            engine.backend.set_backend("numpy")
            self._backend_note = f" The GPU is unavailable, so this run uses the CPU: {exc}"
            return "numpy"

    def _begin(self, settings: RunSettings, spec: dict, data: RunData, inference: engine.Network,
               dataset_sha256: str | None = None) -> None:
        if self._shut_down:  # the window closed while the data was loading
            return
        config = settings.config
        config.snapshot_every_steps = None
        config.snapshot_every_seconds = SNAPSHOT_EVERY_SECONDS
        steps_per_epoch = math.ceil(data.num_train / config.batch_size)
        total = steps_per_epoch * config.epochs
        total = min(total, config.max_steps) if config.max_steps else total
        config.optimizer = {**config.optimizer,
                            "lr": scheduled_rate(config.optimizer["lr"], settings.schedule, steps_per_epoch, total)}
        try:
            checkpoint_dir = new_run_folder()
        except OSError as exc:
            return self._fail(f"Could not start training: no folder for its checkpoints ({engine.describe_error(exc)})")
        self._run_folders.add(checkpoint_dir)
        self._runs_started += 1
        self.run = ActiveRun(self._runs_started, "", spec, settings, data, inference, total, checkpoint_dir)
        self.run.name = run_label(self.run)
        self.run_dataset_sha256 = dataset_sha256
        if self.session is not None:
            self.session.dispose()  # the previous run has ended; let its data go once its thread has
        job = TrainingJob(spec, config.seed, settings.backend, config, data.training, str(checkpoint_dir))
        if settings.tensorboard:  # a path only: the training thread makes the folder and writes the files
            job.tensorboard_dir = str(tensorboard_logs.default_log_dir())
            job.tensorboard_run = tensorboard_logs.run_folder_name(self.run.name)
        self.session = session = TrainingSession(job, self)
        worker = session.worker
        worker.steps_reported.connect(self._on_steps)
        worker.epoch_finished.connect(self._on_epoch)
        worker.snapshot_published.connect(self._on_snapshot)
        # Bound methods of this GUI-thread object, never lambdas: the signals are emitted on the training
        # thread, and a lambda would run there and touch the GUI from it.
        worker.paused.connect(self._on_paused)
        worker.training_finished.connect(self._on_finished)
        worker.training_failed.connect(self._on_failed)
        worker.tensorboard_opened.connect(self._on_tensorboard_opened)
        worker.tensorboard_stopped.connect(self._on_tensorboard_stopped)
        self.tensorboard_folder.emit("")  # the previous run's folder is not this one's
        self.run_started.emit(self.run)
        self._set_state("running")
        self._announce_training()
        session.start()

    # -- steering -----------------------------------------------------------------------------------
    def pause(self) -> None:
        if self.session and self.state == "running":
            self.session.pause()

    def resume(self) -> None:
        if self.session and self.state == "paused":
            self._set_state("running")
            self.session.resume()

    def step_once(self) -> None:
        if self.session and self.state == "paused":
            self.session.step_once()

    def stop(self) -> None:
        if self.session and self.state in ("running", "paused"):
            self.session.stop()

    def set_learning_rate(self, value: float) -> None:
        if self.session and self.state in ("running", "paused"):
            self.session.set_learning_rate(value)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Stop any run and wait (bounded) for its thread and the background tasks; True when all ended."""
        self._shut_down = True
        ended = self.session.shutdown(timeout_ms) if self.session else True
        ended = self.tasks.wait_for_all(timeout_ms) and ended
        for folder in list(self._run_folders):  # nothing is saved from them any more
            self._remove_folder(folder)
        return ended

    # -- saving -------------------------------------------------------------------------------------
    def save_latest(self, path) -> Path:
        """The latest snapshot's weights as a model file."""
        if self.run is None or self.run.latest_snapshot is None:
            raise ValueError("there are no trained weights yet: start a run first")
        return engine.save(self.run.latest_network(), path,
                           metadata={**self._dataset_metadata(), "step": self.run.latest_snapshot.step,
                                     **self._settings_metadata()})

    def save_best(self, path) -> Path:
        """The best-validation checkpoint the trainer wrote (atomically) at the end of an epoch: read from the
        run's folder while it runs, from memory once it has ended (its folder is gone then)."""
        run = self.run
        network = run.best_network if run else None
        if network is None and run is not None and (run.checkpoint_dir / engine.training.BEST_CHECKPOINT).exists():
            network = engine.load(run.checkpoint_dir / engine.training.BEST_CHECKPOINT)
        if network is None:
            raise ValueError("no best checkpoint yet: it is written after an epoch with a validation split")
        return engine.save(network, path, metadata={**self._dataset_metadata(), "best": True,
                                                    **self._settings_metadata()})

    def _dataset_metadata(self) -> dict:
        """The run's data set; an imported one with its checksum, so a model file says which data it learnt."""
        metadata = {"dataset": self.run.data.name}
        if self.run_dataset_sha256:
            metadata["dataset_sha256"] = self.run_dataset_sha256
        return metadata

    def _settings_metadata(self) -> dict:
        """The run's training settings as saved with its weights, each learning-rate change included."""
        run = self.run
        return {"training": run.settings.config.to_dict(), "learning_rate_changes": list(run.learning_rate_changes)}

    # -- events from the worker ---------------------------------------------------------------------
    def _announce_training(self) -> None:
        run = self.run
        device = "GPU" if run.settings.backend == "cupy" else "CPU"
        self.status_changed.emit(f"Training {run.name} on {run.data.num_train:,} examples ({device})."
                                 f"{self._backend_note}")

    def _on_steps(self, steps: list) -> None:
        if self.state == "preparing":
            return
        changes = [{"step": step.step, "lr": step.learning_rate} for step in steps if step.learning_rate_changed]
        if changes:  # the trainer took a new rate: the run's label and saved settings say from which step
            self.run.learning_rate_changes.extend(changes)
            self.run.name = run_label(self.run)
            self.run_renamed.emit(self.run.name)
            self._announce_training()
        self.steps_reported.emit(steps)

    def _on_tensorboard_opened(self, folder: str) -> None:
        self.tensorboard_folder.emit(folder)

    def _on_tensorboard_stopped(self, message: str) -> None:
        self.tensorboard_stopped.emit(message)
        self.status_changed.emit(f"Training goes on without its TensorBoard log: {message}")

    def _on_paused(self, _event) -> None:
        if self.state == "running":
            self._set_state("paused")

    def _on_epoch(self, event) -> None:
        self.run.history.append(event)
        self.epoch_finished.emit(event)

    def _on_snapshot(self, event) -> None:
        self.run.latest_snapshot = event
        self.snapshot_arrived.emit(event)

    def _on_finished(self, event) -> None:  # the final weights came just before, as a snapshot
        self._take_best_and_remove_folder(self.run)
        self._set_state("finished")
        self.status_changed.emit(f"Training {event.message} after {event.step} steps ({event.elapsed:.1f} s).")
        self.run_finished.emit(event)

    def _on_failed(self, event) -> None:
        self._take_best_and_remove_folder(self.run)
        self._fail(f"Training failed: {event.message}")

    # -- the run's folder ---------------------------------------------------------------------------
    def _take_best_and_remove_folder(self, run: ActiveRun) -> None:
        """The run has ended, so its trainer writes nothing more: read its best checkpoint (off the GUI thread:
        building the seed CNN takes ~150 ms) into ``run.best_network`` for Save best, then remove the folder.
        Until then Save best reads the file itself."""
        best = run.checkpoint_dir / engine.training.BEST_CHECKPOINT

        def read_best(_report):
            return engine.load(best) if best.exists() else None

        def taken(network) -> None:
            run.best_network = network
            self._remove_folder(run.checkpoint_dir)

        def unreadable(message: str) -> None:  # the run's own file: nothing a person could do about it
            self._remove_folder(run.checkpoint_dir)
            if run is self.run:
                self.status_changed.emit(f"The best weights of {run.name} could not be kept: {message}")

        self.tasks.submit(read_best, taken, unreadable)

    def _remove_folder(self, folder: Path) -> None:
        remove_run_folder(folder)
        self._run_folders.discard(folder)

    def _fail(self, message: str) -> None:
        self._set_state("finished" if self.run else "idle")
        self.status_changed.emit(message)
        self.run_failed.emit(message)

    def _set_state(self, state: str) -> None:
        self.state = state
        self.state_changed.emit(state)


def scheduled_rate(rate: float, schedule: str, steps_per_epoch: int, total_steps: int):
    """The optimizer's ``lr`` entry: a number, or a schedule config sized to this run."""
    if schedule == "cosine":
        return {"name": "cosine", "initial_learning_rate": rate, "decay_steps": max(1, total_steps)}
    if schedule == "exponential":
        return {"name": "exponential", "initial_learning_rate": rate, "decay_steps": max(1, steps_per_epoch),
                "decay_rate": 0.5}
    return rate


def _optimizer_slots(optimizer: dict) -> int:
    """Values the optimizer keeps per weight; a config the trainer will refuse counts as Adam's two."""
    try:
        return engine.optimizers.state_slots(optimizer)
    except ValueError:
        return 2


def run_label(run: ActiveRun) -> str:
    """"run 2: seed-cnn, Adam lr=0.0001 → 0.0005 (step 120), batch 50": what it trains, each rate it used."""
    config = run.settings.config
    optimizer = config.optimizer
    rates = f"lr={_rate_text(optimizer.get('lr'))}"
    rates += "".join(f" → {change['lr']:g} (step {change['step']:,})" for change in run.learning_rate_changes)
    network = run.spec.get("name", "network")
    return f"run {run.number}: {network}, {optimizer['name']} {rates}, batch {config.batch_size}"


def _rate_text(rate) -> str:
    if isinstance(rate, dict):
        return f"{rate.get('name')}({rate.get('initial_learning_rate'):g})"
    return f"{rate:g}" if isinstance(rate, (int, float)) else "default"
