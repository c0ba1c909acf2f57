"""Metrics on host arrays. A classifier's: accuracy, loss, confusion matrix, per-class accuracy, worst mistakes.

    result = engine.evaluate(net, splits.test_images, splits.test_labels)
    result.accuracy, result.loss, result.confusion          # confusion[true, predicted]
    result.most_confident_mistakes(9)                        # indices into the evaluated arrays

A network that outputs values (an autoencoder, a regression: ``OutputHead.classifier`` is False) gets an
``ErrorEvaluation`` instead: its loss, mean squared and absolute errors, and the outputs beside the targets.

    result = engine.evaluate(autoencoder, test_images, test_labels)   # labels kept to colour codes by digit
    result.kind, result.mean_squared_error, result.worst(9)           # "error", 0.041, the worst examples
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine import backend


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """(num_classes, num_classes) int64 counts; row = true class, column = predicted class."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64) * num_classes + np.asarray(predictions, dtype=np.int64),
                         minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def per_class_accuracy(confusion: np.ndarray) -> np.ndarray:
    """Recall of each class (NaN for a class absent from the labels)."""
    totals = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(confusion) / np.maximum(totals, 1), np.nan)


@dataclass
class Evaluation:
    """How a network did on a labelled set (all host NumPy, safe to hand to the GUI)."""

    loss: float
    accuracy: float
    confusion: np.ndarray
    probabilities: np.ndarray  # (N, classes) the network's output head's: a final softmax's own output
    labels: np.ndarray
    kind = "classification"  # (a class attribute: ErrorEvaluation's is "error")

    @property
    def predictions(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    @property
    def per_class_accuracy(self) -> np.ndarray:
        return per_class_accuracy(self.confusion)

    def most_confident_mistakes(self, count: int = 16) -> np.ndarray:
        """Indices of wrongly classified examples, the most confidently wrong first."""
        wrong = np.flatnonzero(self.predictions != self.labels)
        confidence = self.probabilities[wrong].max(axis=1)
        return wrong[np.argsort(-confidence, kind="stable")[:count]]

    def summary(self) -> dict:
        """JSON-ready figures: loss, accuracy, per-class accuracy, confusion matrix, example count."""
        return {"loss": self.loss, "accuracy": self.accuracy, "examples": int(len(self.labels)),
                "per_class_accuracy": [None if np.isnan(a) else float(a) for a in self.per_class_accuracy],
                "confusion_matrix": self.confusion.tolist()}


@dataclass
class ErrorEvaluation:
    """How a network that outputs values did on a set (all host NumPy, safe to hand to the GUI)."""

    loss: float  # the training loss over the set (mean squared error, or binary cross-entropy)
    mean_squared_error: float
    mean_absolute_error: float
    outputs: np.ndarray  # (N, *output_shape) float32, after the output's activation: what people see
    targets: np.ndarray  # (N, *output_shape) float32: the inputs for an autoencoder, else the labels
    labels: np.ndarray | None  # the class labels given (kept to colour an autoencoder's codes), or None
    kind = "error"
    accuracy = None  # (no accuracy: nothing is a class)
    # Worked out at the first ask: ~45 ms for MNIST's test set, which the Evaluation tab (on the GUI thread) and
    # ``worst`` both read.
    _example_errors: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)

    def example_errors(self) -> np.ndarray:
        """(N,) each example's mean squared error."""
        if self._example_errors is None:
            difference = (self.outputs - self.targets).reshape(len(self.outputs), -1).astype(np.float64)
            self._example_errors = (difference * difference).mean(axis=1)
        return self._example_errors

    def worst(self, count: int = 16) -> np.ndarray:
        """Indices of the ``count`` examples with the largest squared error, the largest first."""
        return np.argsort(-self.example_errors(), kind="stable")[:count]

    def summary(self) -> dict:
        """JSON-ready figures: loss, mean squared error, mean absolute error, example count."""
        return {"loss": self.loss, "mean_squared_error": self.mean_squared_error,
                "mean_absolute_error": self.mean_absolute_error, "examples": int(len(self.outputs))}


def evaluate(network, images: np.ndarray, labels: np.ndarray | None, batch_size: int = 500,
             inputs: np.ndarray | None = None):
    """``network`` in inference mode over ``images``, in batches: an ``Evaluation`` for a classifier (loss, mean
    cross-entropy as training computes it, and accuracy; the probabilities are its output head's,
    ``engine.output_head``), else an ``ErrorEvaluation``. ``labels`` may be None for an autoencoder.

    ``inputs``, for a network of values: what it reads in place of ``images`` (a denoising autoencoder's noisy
    copies of them), while its targets stay what ``images`` and ``labels`` make them (the clean images)."""
    head = network.output_head
    if labels is None and not head.reconstructs:
        raise ValueError("labels are needed to evaluate a network whose targets are labels")
    if labels is not None:
        labels = np.asarray(labels)
        if len(images) != len(labels):
            raise ValueError(f"expected as many labels as images; received {len(images)} images, "
                             f"{len(labels)} labels")
    if len(images) == 0:
        raise ValueError("cannot evaluate on an empty set")
    if inputs is not None and (head.classifier or inputs.shape != images.shape):
        raise ValueError("inputs in place of the images are for a network of values, one per image, of their shape")
    if not head.classifier:
        return _evaluate_error(network, images, labels, batch_size, images if inputs is None else inputs)
    num_classes = head.classes
    probabilities = np.empty((len(labels), num_classes), dtype=np.float32)
    total_loss = 0.0
    for batch, scores, loss in _batches(network, images, labels, batch_size):
        total_loss += loss
        probabilities[batch] = backend.to_host(head.probabilities(head.outputs(scores)))
    predictions = probabilities.argmax(axis=1)
    return Evaluation(loss=total_loss / len(labels), accuracy=float((predictions == labels).mean()),
                      confusion=confusion_matrix(labels, predictions, num_classes),
                      probabilities=probabilities, labels=labels)


def _batches(network, inputs, targets, batch_size: int):
    """(slice, scores, loss summed over the batch) for each batch of ``inputs`` in inference mode: the scores the
    head's loss reads (``pre_activation=head.fused``) and that loss against the batch's ``targets``."""
    head = network.output_head
    for start in range(0, len(inputs), batch_size):
        batch = slice(start, min(start + batch_size, len(inputs)))
        scores = network.forward(inputs[batch], training=False, pre_activation=head.fused)
        loss, _ = head.loss(scores, targets[batch])
        yield batch, scores, float(loss) * (batch.stop - batch.start)


def _evaluate_error(network, images, labels, batch_size: int, inputs) -> ErrorEvaluation:
    head = network.output_head
    count = len(images)
    shape = (count, *network.output_shape)
    outputs = np.empty(shape, dtype=np.float32)
    targets = head.targets(images, labels)  # the clean images for an autoencoder, else the labels
    total_loss = 0.0
    for batch, scores, loss in _batches(network, inputs, targets, batch_size):
        total_loss += loss
        outputs[batch] = backend.to_host(head.outputs(scores))
    targets = np.array(targets, dtype=np.float32).reshape(shape)  # a copy in the output's shape: the result's own
    difference = (outputs - targets).astype(np.float64)
    return ErrorEvaluation(loss=total_loss / count, mean_squared_error=float((difference * difference).mean()),
                           mean_absolute_error=float(np.abs(difference).mean()), outputs=outputs, targets=targets,
                           labels=labels)
