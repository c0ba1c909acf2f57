"""What a training run reports, as plain values: floats, ints, strings and host NumPy copies.

The trainer hands each event to its callback on the thread that trains; the app sends them on to its GUI
as Qt signals. Nothing here refers to arrays the trainer will go on mutating.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class StepEvent:
    step: int  # steps done so far in the run (1 after the first)
    epoch: int  # the epoch this step belongs to (0-based)
    loss: float
    batch_accuracy: float | None  # None for a network that is not a classifier (OutputHead.classifier)
    learning_rate: float  # the rate this step used
    samples_per_second: float  # smoothed over recent steps
    elapsed: float  # seconds of training so far (pauses excluded)
    learning_rate_changed: bool = False  # the first step at a rate set while training (Trainer.set_learning_rate)

    @property
    def accuracy(self) -> float | None:
        """The batch's accuracy (``batch_accuracy``); None when the network is not a classifier."""
        return self.batch_accuracy


@dataclass(frozen=True)
class EpochEvent:
    epoch: int  # the epoch just finished (0-based)
    step: int
    train_loss: float  # mean over the epoch's steps
    train_accuracy: float | None  # None for a network that is not a classifier
    val_loss: float | None  # None without a validation split
    val_accuracy: float | None  # None without a validation split, or for a network that is not a classifier
    improved: bool  # a new best epoch (kept as the best weights): higher validation accuracy, or lower loss
    elapsed: float


@dataclass(frozen=True)
class SnapshotEvent:
    step: int
    epoch: int
    weights: dict[str, np.ndarray] = field(repr=False)  # host copies of every parameter and buffer
    # Host copies of each parameter's gradient from the step just taken (for gradient histograms).
    gradients: dict[str, np.ndarray] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class PausedEvent:
    """The run has stopped between steps on a pause request and waits for resume, a single step or stop."""

    step: int
    epoch: int


@dataclass(frozen=True)
class FinishedEvent:
    reason: str  # "completed", "max_steps", "stopped" or "early_stopping"
    step: int
    epoch: int
    best_val_accuracy: float | None  # None without validation, or for a network that is not a classifier
    elapsed: float
    message: str
    best_val_loss: float | None = None  # the best epoch's validation loss


@dataclass(frozen=True)
class FailedEvent:
    message: str  # says what happened and what was kept
    step: int
    epoch: int


Event = StepEvent | EpochEvent | SnapshotEvent | PausedEvent | FinishedEvent | FailedEvent
