"""What ``layerlab train`` shows and records while it runs: the progress bar, the epoch lines, the --metrics
lines, and the test set's figures at the end.

Apart from the command itself (train.py) because this is the part that follows the task: a classifier's
figures are accuracy and loss, a network of values (regression, an autoencoder) has loss, mean squared error
and mean absolute error, and its events carry None where accuracy would be.
"""

from __future__ import annotations

import sys

from app.commands.engine_files import finite_or_null


class Progress:
    """A tqdm bar over all steps, with loss, accuracy (a classifier's) and samples/s; epoch summaries above it."""

    def __init__(self, trainer, quiet: bool, metrics_file, log_every: int):
        from tqdm import tqdm

        config = trainer.config
        per_epoch = trainer.batches.batches_per_epoch
        total = config.epochs * per_epoch
        if config.max_steps:
            total = min(total, config.max_steps)
        self.bar = tqdm(total=total, initial=trainer.step, unit="step", disable=quiet, dynamic_ncols=True,
                        file=sys.stderr)
        self.metrics_file = metrics_file
        self.log_every = log_every
        self.quiet = quiet

    def __call__(self, event):
        kind = type(event).__name__
        if kind == "StepEvent":
            self.bar.update(1)
            figures = {"epoch": event.epoch + 1, "loss": f"{event.loss:.4f}"}
            if event.batch_accuracy is not None:  # None for a network that is not a classifier
                figures["acc"] = f"{event.batch_accuracy:.3f}"
            self.bar.set_postfix(**figures, samples_s=f"{event.samples_per_second:,.0f}", refresh=False)
            if event.step % self.log_every == 0:
                self.write({"event": "step", **event_fields(event)})
        elif kind == "EpochEvent":
            self.bar.write(epoch_line(event))
            self.write({"event": "epoch", **event_fields(event)})
        elif kind in ("FinishedEvent", "FailedEvent"):
            self.bar.close()
            self.write({"event": "finished" if kind == "FinishedEvent" else "failed", **event_fields(event)})

    def write(self, record: dict):
        if self.metrics_file:
            self.metrics_file.write(finite_or_null(record))


def epoch_line(event) -> str:
    """"epoch 3: train loss 0.1234 accuracy 0.9650, validation loss ... (best)"; no accuracy for a network that is
    not a classifier (its events carry None)."""
    def figures(loss, accuracy):
        return f"loss {loss:.4f}" + ("" if accuracy is None else f" accuracy {accuracy:.4f}")

    val = "" if event.val_loss is None else f", validation {figures(event.val_loss, event.val_accuracy)}"
    return f"epoch {event.epoch + 1}: train {figures(event.train_loss, event.train_accuracy)}{val}" + \
        (" (best)" if event.improved else "")


def figures_on_test(result) -> dict:
    """The test set's figures for --metrics and the model file: the same keys for every task, null where one does
    not apply (accuracy for a network that is not a classifier; the errors for a classifier)."""
    classifier = result.kind == "classification"
    return {"accuracy": result.accuracy, "loss": result.loss,
            "mean_squared_error": None if classifier else result.mean_squared_error,
            "mean_absolute_error": None if classifier else result.mean_absolute_error}


def describe_test(result) -> str:
    """"test accuracy 0.9812, loss 0.0612", or for a network of values "test loss 0.0921, mean squared error
    0.0213, mean absolute error 0.0712"."""
    if result.kind == "classification":
        return f"test accuracy {result.accuracy:.4f}, loss {result.loss:.4f}"
    return (f"test loss {result.loss:.4f}, mean squared error {result.mean_squared_error:.4f}, "
            f"mean absolute error {result.mean_absolute_error:.4f}")


def event_fields(event) -> dict:
    """An event's fields by name, as one --metrics line holds them."""
    return {name: getattr(event, name) for name in event.__dataclass_fields__}
