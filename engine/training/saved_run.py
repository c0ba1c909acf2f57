"""A saved run's trainer state, read from a checkpoint's metadata and checked field by field.

``Trainer.from_checkpoint`` resumes from what ``Trainer.state()`` wrote. The checkpoint is a user's file,
so every field is checked for presence, type and range before the trainer (or the batch iterator, or the
training config) sees it; a bad one is a ``ModelFileError`` naming the file and the field, e.g.
``run.llmodel: the saved run's 'batches.position' must be a whole number from 0 to 600; found -3``.
"""

from __future__ import annotations

import math

from engine.datasets import batching
from engine.errors import ModelFileError
from engine.training.config import MAX_SEED, TrainingConfig

TRAINER_STATE_FORMAT = "layerlab-trainer"
TRAINER_STATE_VERSION = 1
MAX_COUNT = 2**53  # steps, epochs: beyond this a float can no longer count them; no run gets near


def checked_state(path, state, num_samples: int) -> dict:
    """``state`` (the checkpoint metadata's "trainer" entry) when every field is valid for ``num_samples``."""
    if not isinstance(state, dict) or state.get("format") != TRAINER_STATE_FORMAT:
        raise ModelFileError(path, "this model file holds no training run to resume")
    field = _Fields(path, state, "")
    if state.get("version") != TRAINER_STATE_VERSION:
        field.fail("version", f"{TRAINER_STATE_VERSION}")
    _checked_config(path, state.get("config"))
    field.count("step")
    field.count("epochs_without_improvement", required=False)
    field.number("elapsed", required=False)
    best = state.get("best_val_accuracy")
    if best is not None and not (_is_number(best) and 0 <= best <= 1):
        field.fail("best_val_accuracy", "null or a number from 0 to 1")
    best_loss = state.get("best_val_loss")
    if best_loss is not None and not _is_number(best_loss):
        field.fail("best_val_loss", "null or a number")
    _checked_batches(path, state.get("batches"), num_samples)
    _checked_list(field, "history", lambda item: isinstance(item, dict), "objects")
    _checked_list(field, "learning_rate_changes", _is_rate_change, 'objects like {"step": 12, "lr": 0.001}')
    totals = state.get("epoch_totals", [0.0, 0.0, 0])
    if not (isinstance(totals, list) and len(totals) == 3 and all(_is_number(value) and value >= 0
                                                                   for value in totals)):
        field.fail("epoch_totals", "three numbers >= 0 (loss sum, correct, examples)")
    return state


def _checked_config(path, config) -> None:
    if not isinstance(config, dict):
        _Fields(path, {"config": config}, "").fail("config", "an object of training settings")
    try:
        TrainingConfig.from_dict(config)
    except ValueError as exc:  # its messages name the setting, what was expected and what was found
        raise ModelFileError(path, f"the saved run's 'config' is invalid: {exc}") from None


def _checked_batches(path, batches, num_samples: int) -> None:
    if not isinstance(batches, dict):
        _Fields(path, {"batches": batches}, "").fail("batches", "an object (the position in the data)")
    field = _Fields(path, batches, "batches.")
    if batches.get("format") != batching.STATE_FORMAT:
        field.fail("format", repr(batching.STATE_FORMAT))
    if batches.get("version") != batching.STATE_VERSION:
        field.fail("version", str(batching.STATE_VERSION))
    field.count("num_samples")
    if batches["num_samples"] != num_samples:
        raise ModelFileError(path, f"the saved run trained on {batches['num_samples']:,} examples; the data given "
                                   f"has {num_samples:,}: resume it with the same data set and validation split")
    field.count("batch_size", low=1)
    field.count("seed", high=MAX_SEED)  # what TrainingConfig accepts, or a run it saved could not resume
    field.count("epoch")
    field.count("position", high=num_samples)
    for name in ("shuffle", "drop_last"):
        if not isinstance(batches.get(name), bool):
            field.fail(name, "true or false")
    if batches["drop_last"] and batches["batch_size"] > num_samples:
        field.fail("batch_size", f"at most {num_samples:,} (the examples there are) when drop_last is true")


def _checked_list(field: _Fields, name: str, valid, what: str) -> None:
    value = field.state.get(name, [])
    if not isinstance(value, list) or not all(valid(item) for item in value):
        field.fail(name, f"a list of {what}")


def _is_rate_change(item) -> bool:
    return (isinstance(item, dict) and _is_count(item.get("step")) and _is_number(item.get("lr"))
            and item["lr"] > 0)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_count(value, low: int = 0, high: int = MAX_COUNT) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


class _Fields:
    """Checks of one object's fields, each failure naming the field by its path in the saved run."""

    def __init__(self, path, state: dict, prefix: str):
        self.path, self.state, self.prefix = path, state, prefix

    def fail(self, name: str, expected: str):
        found = "nothing (it is missing)" if name not in self.state else f"{self.state[name]!r:.80}"
        raise ModelFileError(self.path, f"the saved run's '{self.prefix}{name}' must be {expected}; found {found}")

    def count(self, name: str, *, low: int = 0, high: int = MAX_COUNT, required: bool = True) -> None:
        if name not in self.state and not required:
            return
        if not _is_count(self.state.get(name), low, high):
            self.fail(name, f"a whole number from {low:,} to {high:,}")

    def number(self, name: str, *, required: bool = True) -> None:
        if name not in self.state and not required:
            return
        value = self.state.get(name)
        if not (_is_number(value) and value >= 0):
            self.fail(name, "a number >= 0")
