"""The recorded curves of one run (kept after it ends, so runs can be overlaid), and CSV export.

    record = RunRecord("run 1: seed-cnn", "#3b4cca")          # classifier=False: a network with no accuracy
    record.add_steps(step_events); record.add_epoch(epoch_event)
    write_csv(path, [record, ...])
"""

from __future__ import annotations

import csv
import io

import numpy as np

import engine

SMOOTHING = 0.9  # weight of the past in the moving average of the step loss (TensorBoard's slider)


def _measured(value) -> float:
    """An event's figure as a float; nan where it was not measured (the accuracy of a network that does not
    classify is None), so the lists stay aligned with the steps and a plot draws nothing there."""
    return float("nan") if value is None else float(value)


def _cell(value):
    """A CSV cell: the figure, or empty where it was not measured."""
    return "" if value is None or not np.isfinite(value) else value


class RunRecord:
    def __init__(self, name: str, color: str, classifier: bool = True):
        self.name = name
        self.color = color
        self.classifier = classifier  # its network classifies: accuracy is measured (else the events say None)
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.smoothed: list[float] = []
        self.batch_accuracies: list[float] = []
        self.smoothed_accuracies: list[float] = []
        self.epochs: list = []  # EpochEvents
        self._averages = {"loss": _DebiasedAverage(), "accuracy": _DebiasedAverage()}

    def add_steps(self, events) -> None:
        for event in events:
            self.steps.append(event.step)
            accuracy = _measured(event.batch_accuracy)
            self.losses.append(event.loss)
            self.batch_accuracies.append(accuracy)
            self.smoothed.append(self._averages["loss"].add(event.loss))
            self.smoothed_accuracies.append(self._averages["accuracy"].add(accuracy))

    def add_epoch(self, event) -> None:
        self.epochs.append(event)

    def epoch_series(self, field: str) -> tuple[np.ndarray, np.ndarray]:
        """(steps, values) at each epoch end where ``field`` was measured."""
        rows = [(e.step, getattr(e, field)) for e in self.epochs if getattr(e, field) is not None]
        return (np.array([r[0] for r in rows], dtype=float), np.array([r[1] for r in rows], dtype=float))


class _DebiasedAverage:
    """An exponential moving average divided by (1 - SMOOTHING^n), as TensorBoard's: without that, the
    first hundred points would lean towards the first value (a curve that starts far above the data)."""

    def __init__(self):
        self.total = 0.0
        self.weight = 0.0

    def add(self, value: float) -> float:
        if not np.isfinite(value):
            return value
        self.total = SMOOTHING * self.total + (1 - SMOOTHING) * value
        self.weight = SMOOTHING * self.weight + (1 - SMOOTHING)
        return self.total / self.weight


def csv_text(records: list[RunRecord]) -> str:
    """One row per step and one per epoch end, for every run: easy to load in a spreadsheet or pandas."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["run", "kind", "step", "epoch", "loss", "smoothed_loss", "accuracy", "val_loss", "val_accuracy"])
    for record in records:
        for step, loss, smooth, accuracy in zip(record.steps, record.losses, record.smoothed,
                                                record.batch_accuracies, strict=True):
            writer.writerow([record.name, "step", step, "", loss, smooth, _cell(accuracy), "", ""])
        for e in record.epochs:
            writer.writerow([record.name, "epoch", e.step, e.epoch + 1, e.train_loss, "", _cell(e.train_accuracy),
                             _cell(e.val_loss), _cell(e.val_accuracy)])
    return out.getvalue()


def write_csv(path, records: list[RunRecord]):
    data = csv_text(records).encode("utf-8")
    return engine.atomic_write(path, lambda handle: handle.write(data))
