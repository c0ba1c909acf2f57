"""Classification metrics on host arrays: accuracy, loss, confusion matrix, per-class accuracy, worst mistakes.

    result = engine.evaluate(net, splits.test_images, splits.test_labels)
    result.accuracy, result.loss, result.confusion          # confusion[true, predicted]
    result.most_confident_mistakes(9)                        # indices into the evaluated arrays
"""

from __future__ import annotations

from dataclasses import dataclass

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


def evaluate(network, images: np.ndarray, labels: np.ndarray, batch_size: int = 500) -> Evaluation:
    """Loss (mean cross-entropy, as training computes it) and accuracy of ``network`` in inference mode, in
    batches; the probabilities are its output head's (``engine.output_head``)."""
    labels = np.asarray(labels)
    if len(images) != len(labels):
        raise ValueError(f"expected as many labels as images; received {len(images)} images, {len(labels)} labels")
    if len(labels) == 0:
        raise ValueError("cannot evaluate on an empty set")
    head = network.output_head
    num_classes = head.classes
    probabilities = np.empty((len(labels), num_classes), dtype=np.float32)
    total_loss = 0.0
    for start in range(0, len(labels), batch_size):
        scores = network.forward(images[start:start + batch_size], training=False, pre_activation=head.fused)
        batch_labels = labels[start:start + batch_size]
        loss, _ = head.loss(scores, batch_labels)
        total_loss += float(loss) * len(batch_labels)
        probabilities[start:start + len(batch_labels)] = backend.to_host(head.probabilities(head.outputs(scores)))
    predictions = probabilities.argmax(axis=1)
    return Evaluation(loss=total_loss / len(labels), accuracy=float((predictions == labels).mean()),
                      confusion=confusion_matrix(labels, predictions, num_classes),
                      probabilities=probabilities, labels=labels)
