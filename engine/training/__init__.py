"""Training: the loop the GUI's worker thread drives and the CLI runs (no Qt here).

    from engine.training import Trainer, TrainingConfig, TrainingData
    trainer = Trainer(net, TrainingData.from_splits(splits), TrainingConfig(epochs=3), callback=on_event)
    final = trainer.run()
"""

from engine.training.config import TrainingConfig
from engine.training.events import (
    EpochEvent,
    Event,
    FailedEvent,
    FinishedEvent,
    PausedEvent,
    SnapshotEvent,
    StepEvent,
)
from engine.training.noise import VALIDATION_NOISE_STREAM, with_input_noise
from engine.training.trainer import BEST_CHECKPOINT, LAST_CHECKPOINT, Trainer, TrainingData

__all__ = ["TrainingConfig", "TrainingData", "Trainer", "Event", "StepEvent", "EpochEvent", "SnapshotEvent",
           "PausedEvent", "FinishedEvent", "FailedEvent", "BEST_CHECKPOINT", "LAST_CHECKPOINT",
           "with_input_noise", "VALIDATION_NOISE_STREAM"]
