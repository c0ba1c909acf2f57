"""The training loop: a plain loop that reports events to a callback and obeys stop/pause between steps.

    trainer = Trainer(net, TrainingData.from_splits(splits), TrainingConfig(epochs=5), callback=print)
    final = trainer.run()            # a FinishedEvent or a FailedEvent

Another thread may call ``request_pause``, ``resume``, ``request_single_step``, ``request_stop`` and
``set_learning_rate`` at any time; they take effect between steps. Everything the callback receives is
a copy (see ``events``). A checkpoint holds the weights, the optimizer, the data order and the run's
counters, so ``Trainer.from_checkpoint`` continues exactly where the run was saved.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine import optimizers
from engine.backend import to_host
from engine.datasets import BatchIterator, DatasetError
from engine.design_limits import training_memory_problem
from engine.errors import ModelFileError, describe_error
from engine.metrics import evaluate
from engine.serialization import load_checkpoint, save
from engine.training.config import TrainingConfig
from engine.training.events import EpochEvent, FailedEvent, FinishedEvent, PausedEvent, SnapshotEvent, StepEvent
from engine.training.noise import VALIDATION_NOISE_STREAM
from engine.training.noise import with_input_noise as _with_noise
from engine.training.saved_run import TRAINER_STATE_FORMAT, TRAINER_STATE_VERSION, checked_state

BEST_CHECKPOINT = "best.llmodel"
LAST_CHECKPOINT = "last.llmodel"
_SPEED_SMOOTHING = 0.1  # weight of the newest step in the samples/s moving average


@dataclass
class TrainingData:
    """Training examples and (optionally) a validation split, as host arrays."""

    train_images: np.ndarray
    train_labels: np.ndarray
    val_images: np.ndarray | None = None
    val_labels: np.ndarray | None = None
    name: str = ""

    @classmethod
    def from_splits(cls, splits) -> TrainingData:
        """From ``engine.datasets.prepare(...)``; an empty validation split counts as none."""
        has_val = splits.val_labels is not None and len(splits.val_labels) > 0
        return cls(splits.train_images, splits.train_labels, splits.val_images if has_val else None,
                   splits.val_labels if has_val else None, splits.info.name)


class Trainer:
    def __init__(self, network, data: TrainingData, config: TrainingConfig | None = None,
                 callback: Callable | None = None, checkpoint_dir=None, *, optimizer=None, state: dict | None = None):
        self.network = network
        self.data = data
        self.config = config or TrainingConfig()
        self.callback = callback or (lambda event: None)
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else None
        self.optimizer = optimizer or optimizers.get(self._optimizer_config(), network.parameters())
        # Refused now, in words naming the node, rather than by "Unable to allocate 24.6 TiB" at the first batch.
        too_big = training_memory_problem(network.shapes, self.config.batch_size,
                                          optimizer_slots=len(self.optimizer._state_names()),
                                          bytes_per_value=network.dtype.itemsize)
        if too_big is not None:
            raise ValueError(too_big)
        # Images only (N, C, H, W): toy points have nothing to shift or flip.
        augment = self.config.augmentation() if data.train_images.ndim == 4 else None
        state = state or {}
        if "batches" in state:
            self.batches = BatchIterator.from_state(data.train_images, data.train_labels, state["batches"], augment)
        else:
            self.batches = BatchIterator(data.train_images, data.train_labels, self.config.batch_size,
                                         seed=self.config.seed, augment=augment)
        self.step = int(state.get("step", 0))
        self.history: list[dict] = list(state.get("history", []))
        self.best_val_accuracy: float | None = state.get("best_val_accuracy")
        # The best epoch's validation loss: what "best" means for a network that is not a classifier (lowest).
        self.best_val_loss: float | None = state.get("best_val_loss")
        self.epochs_without_improvement = int(state.get("epochs_without_improvement", 0))
        self.elapsed = float(state.get("elapsed", 0.0))
        self.best_weights: dict | None = None
        self._epoch_totals = list(state.get("epoch_totals", [0.0, 0.0, 0]))  # loss sum, correct, examples
        self._validation_inputs = None  # a denoising autoencoder's noisy validation images, made once
        self._last_good = network.xp.empty_like(network.store.values)
        self._has_last_good = False
        self._speed = None
        self._last_snapshot_time = time.perf_counter()
        self._control = threading.Condition()
        self._paused = self._stop_requested = False
        self._single_steps = 0
        self._pending_learning_rate = None
        # Each rate set while training ({"step": the first step to use it, "lr": value}), kept with the run.
        self.learning_rate_changes: list[dict] = list(state.get("learning_rate_changes", []))
        self._rate_changed = False  # the next step is the first at a rate set by set_learning_rate

    def _optimizer_config(self) -> dict:
        config = dict(self.config.optimizer)
        if self.config.l2:
            config.setdefault("weight_decay", self.config.l2)
        if self.config.clipnorm:
            config.setdefault("clipnorm", self.config.clipnorm)
        return config

    # -- control from any thread ---------------------------------------------------------------------
    def request_stop(self) -> None:
        with self._control:
            self._stop_requested = True
            self._control.notify_all()

    def request_pause(self) -> None:
        with self._control:
            self._paused = True

    def resume(self) -> None:
        with self._control:
            self._paused = False
            self._control.notify_all()

    def request_single_step(self) -> None:
        """While paused: run exactly one more step, then stay paused."""
        with self._control:
            self._single_steps += 1
            self._control.notify_all()

    def set_learning_rate(self, value: float) -> None:
        """Takes effect at the next step."""
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ValueError(f"learning rate must be a positive number; received {value!r}")
        with self._control:
            self._pending_learning_rate = float(value)

    @property
    def paused(self) -> bool:
        return self._paused

    def _wait_for_permission(self) -> bool:
        """Block while paused; False when a stop was requested."""
        with self._control:
            announced = False
            while self._paused and not self._stop_requested and self._single_steps == 0:
                if not announced:  # tell listeners once, outside the lock, that the pause took effect
                    announced = True
                    self._control.release()
                    try:
                        self._emit(PausedEvent(self.step, self.batches.epoch))
                    finally:
                        self._control.acquire()
                    continue
                self._control.wait()
            if self._single_steps:
                self._single_steps -= 1
            if self._pending_learning_rate is not None:
                self.optimizer.set_learning_rate(self._pending_learning_rate)
                self.learning_rate_changes.append({"step": self.step + 1, "lr": self._pending_learning_rate})
                self._rate_changed = True
                self._pending_learning_rate = None
            return not self._stop_requested

    # -- the loop ---------------------------------------------------------------------------------------
    @property
    def epochs_done(self) -> int:
        finished_current = self.batches.position >= self.batches.epoch_length
        return self.batches.epoch + (1 if finished_current else 0)

    def run(self):
        """Train until done, stopped, early-stopped or failed; returns (and reports) the final event."""
        try:
            while True:
                reason = self._reason_to_finish()
                if reason:
                    return self._finish(reason)
                if not self._wait_for_permission():
                    return self._finish("stopped")
                started = time.perf_counter()
                with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is reported as an event
                    failure = self._train_one_step()
                self.elapsed += time.perf_counter() - started
                if failure:
                    return self._emit(failure)
                if self.batches.position >= self.batches.epoch_length:
                    self._end_epoch()
        except MemoryError:
            return self._emit(FailedEvent("out of memory: try a smaller batch size or a smaller network",
                                          self.step, self.batches.epoch))
        except Exception as exc:  # a training run must end with an event, never silently
            if type(exc).__module__.startswith("cupy") and "memory" in str(exc).lower():
                message = f"out of GPU memory ({exc}): try a smaller batch size"
            else:
                message = f"an unexpected error stopped training: {describe_error(exc)}"
            return self._emit(FailedEvent(message, self.step, self.batches.epoch))

    def _reason_to_finish(self) -> str | None:
        if self.config.max_steps is not None and self.step >= self.config.max_steps:
            return "max_steps"
        if self.epochs_done >= self.config.epochs:
            return "completed"
        patience = self.config.early_stopping_patience
        if patience is not None and self.epochs_without_improvement >= patience:
            return "early_stopping"
        return None

    def _train_one_step(self) -> FailedEvent | None:
        net, xp = self.network, self.network.xp
        images, labels = self.batches.next_batch()
        epoch = self.batches.epoch
        learning_rate = self.optimizer.learning_rate
        net.reseed_dropout(_step_seed(self.config.seed, self.step))  # exact resume, even mid-epoch
        started = time.perf_counter()
        moving_statistics = {name: buffer.copy() for name, buffer in net.buffers().items()}  # small
        head = net.output_head  # a final softmax or sigmoid: the loss reads the pre-activation (fused)
        targets = head.targets(images, labels)  # an autoencoder's: the clean images, taken before any noise
        if self.config.input_noise:
            images = _with_noise(images, self.config.input_noise, self.config.seed, self.step)
        scores = net.forward(xp.asarray(images), training=True, pre_activation=head.fused)
        loss, dscores = head.loss(scores, targets)
        loss = float(loss)
        if not math.isfinite(loss):
            for name, buffer in net.buffers().items():  # the bad batch also moved BatchNorm's statistics
                buffer[...] = moving_statistics[name]
            return self._fail_on_bad_loss(loss, epoch)
        xp.copyto(self._last_good, net.store.values)  # these weights gave a finite loss
        self._has_last_good = True
        correct = int((head.predictions(scores) == xp.asarray(labels)).sum()) if head.classifier else 0
        net.backward(dscores, input_grad=False)
        self.optimizer.step()
        self.step += 1
        seconds = max(time.perf_counter() - started, 1e-9)
        speed = len(labels) / seconds
        self._speed = speed if self._speed is None else self._speed + _SPEED_SMOOTHING * (speed - self._speed)
        self._epoch_totals[0] += loss * len(labels)
        self._epoch_totals[1] += correct
        self._epoch_totals[2] += len(labels)
        rate_changed, self._rate_changed = self._rate_changed, False
        accuracy = correct / len(labels) if head.classifier else None  # no classes, no accuracy
        self._emit(StepEvent(self.step, epoch, loss, accuracy, learning_rate, self._speed,
                             self.elapsed + seconds, rate_changed))
        self._maybe_snapshot(epoch)
        return None

    def _fail_on_bad_loss(self, loss: float, epoch: int) -> FailedEvent:
        what = "NaN" if math.isnan(loss) else "infinite"
        if self._has_last_good:
            self.network.xp.copyto(self.network.store.values, self._last_good)
            kept = f"the weights of step {self.step}, the last with a finite loss, were kept"
        else:
            kept = "the initial weights were kept"
        return FailedEvent(f"the loss became {what} at step {self.step + 1} (epoch {epoch + 1}); {kept}. "
                           f"Try a lower learning rate, or gradient clipping.", self.step, epoch)

    def _maybe_snapshot(self, epoch: int) -> None:
        every_steps, every_seconds = self.config.snapshot_every_steps, self.config.snapshot_every_seconds
        due = every_steps is not None and self.step % every_steps == 0
        now = time.perf_counter()
        due = due or (every_seconds is not None and now - self._last_snapshot_time >= every_seconds)
        if due:
            self._last_snapshot_time = now
            self._emit(self.snapshot(epoch))

    def snapshot(self, epoch: int | None = None) -> SnapshotEvent:
        """Host copies of the network's weights and of the last step's gradients, as a SnapshotEvent."""
        gradients = {name: to_host(p.grad) for name, p in self.network.parameters().items()}
        epoch = self.batches.epoch if epoch is None else epoch
        return SnapshotEvent(self.step, epoch, self.network.state_dict(), gradients)

    def _noisy_validation_inputs(self):
        """What a denoising autoencoder reads at validation: the validation images with noise as in training, the
        same noise every epoch (so the curve compares like with like), the targets staying clean. Validated on
        clean images, its validation loss rose while the training loss fell: the network learns the noisy
        images' statistics (noise clipped to [0, 1] lifts the black background), not the clean ones'."""
        if not (self.config.input_noise and self.network.output_head.reconstructs):
            return None
        if self._validation_inputs is None:
            self._validation_inputs = _with_noise(self.data.val_images, self.config.input_noise, self.config.seed,
                                                  VALIDATION_NOISE_STREAM)
        return self._validation_inputs

    def _end_epoch(self) -> None:
        epoch = self.batches.epoch
        loss_sum, correct, count = self._epoch_totals
        self._epoch_totals = [0.0, 0.0, 0]
        val_loss = val_accuracy = None
        improved = False
        classifier = self.network.output_head.classifier
        if self.data.val_images is not None:
            result = evaluate(self.network, self.data.val_images, self.data.val_labels, self.config.eval_batch_size,
                              inputs=self._noisy_validation_inputs())
            val_loss, val_accuracy = result.loss, result.accuracy  # accuracy None for a network of values
            if classifier:  # the best epoch: a classifier's highest validation accuracy, else the lowest loss
                improved = self.best_val_accuracy is None or val_accuracy > self.best_val_accuracy
            else:
                improved = self.best_val_loss is None or val_loss < self.best_val_loss
            if improved:
                self.best_val_accuracy = val_accuracy
                self.best_val_loss = val_loss
                self.best_weights = self.network.state_dict()
                self.epochs_without_improvement = 0
            else:
                self.epochs_without_improvement += 1
        train_accuracy = correct / max(count, 1) if classifier else None
        event = EpochEvent(epoch, self.step, loss_sum / max(count, 1), train_accuracy, val_loss,
                           val_accuracy, improved, self.elapsed)
        self.history.append({"epoch": epoch, "step": self.step, "train_loss": event.train_loss,
                             "train_accuracy": event.train_accuracy, "val_loss": val_loss,
                             "val_accuracy": val_accuracy, "elapsed": self.elapsed})
        if self.checkpoint_dir is not None:
            self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
            if improved:
                self.save_checkpoint(self.checkpoint_dir / BEST_CHECKPOINT)
            self.save_checkpoint(self.checkpoint_dir / LAST_CHECKPOINT)
        self._emit(event)

    def _finish(self, reason: str) -> FinishedEvent:
        restored = ""
        classifier = self.network.output_head.classifier
        if self.best_weights is not None and self.config.early_stopping_patience is not None:
            self.network.load_state_dict(self.best_weights)
            if classifier:
                restored = f"; kept the best weights (validation accuracy {self.best_val_accuracy:.4f})"
            else:
                restored = f"; kept the best weights (validation loss {self.best_val_loss:.4g})"
        better = "better validation accuracy" if classifier else "lower validation loss"
        messages = {"completed": f"finished {self.config.epochs} epoch(s)",
                    "max_steps": f"reached {self.config.max_steps} steps",
                    "stopped": "stopped on request",
                    "early_stopping": f"no {better} for {self.config.early_stopping_patience} epoch(s)"}
        return self._emit(FinishedEvent(reason, self.step, self.batches.epoch, self.best_val_accuracy, self.elapsed,
                                        messages[reason] + restored, self.best_val_loss))

    def _emit(self, event):
        self.callback(event)
        return event

    # -- checkpoints -------------------------------------------------------------------------------------
    def state(self) -> dict:
        """The run's position and counters, JSON-ready (saved in checkpoint metadata)."""
        return {"format": TRAINER_STATE_FORMAT, "version": TRAINER_STATE_VERSION, "config": self.config.to_dict(),
                "step": self.step, "batches": self.batches.state(), "history": self.history,
                "best_val_accuracy": self.best_val_accuracy, "best_val_loss": self.best_val_loss,
                "elapsed": self.elapsed,
                "epochs_without_improvement": self.epochs_without_improvement,
                "epoch_totals": list(self._epoch_totals), "learning_rate_changes": list(self.learning_rate_changes)}

    def save_checkpoint(self, path) -> Path:
        """Weights, optimizer and run state in one model file (atomic); ``from_checkpoint`` resumes from it."""
        return save(self.network, path, optimizer=self.optimizer,
                    metadata={"dataset": self.data.name, "trainer": self.state()})

    @classmethod
    def from_checkpoint(cls, path, data: TrainingData, callback: Callable | None = None, checkpoint_dir=None,
                        config_overrides: dict | None = None) -> Trainer:
        """Continue a saved run exactly: same weights, optimizer moments, schedule position and data order.

        A damaged or foreign file, or a saved run that does not fit ``data``, is a ``ModelFileError`` naming
        the file and the field; a bad ``config_overrides`` entry (a flag the user typed) is a ValueError.
        """
        checkpoint = load_checkpoint(path, restore_optimizer=True)
        state = checked_state(path, checkpoint.metadata.get("trainer"), len(data.train_labels))
        config = TrainingConfig.from_dict({**state["config"], **(config_overrides or {})})
        try:
            return cls(checkpoint.network, data, config, callback, checkpoint_dir, optimizer=checkpoint.optimizer,
                       state=state)
        except (ValueError, TypeError, KeyError, DatasetError) as exc:  # every field was checked; a backstop
            raise ModelFileError(path, f"the saved run cannot be resumed: {describe_error(exc)}") from None


def _step_seed(seed: int, step: int) -> int:
    return int(np.random.SeedSequence([seed, step]).generate_state(1)[0])
