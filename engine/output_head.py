"""What a classifier's last node means for its loss and for the probabilities people see.

Keras users end a classifier with ``Dense(10, activation="softmax")`` and train it with cross-entropy;
others end it with plain logits. Both mean the same here (DESIGN.md): cross-entropy is computed from the
values before the softmax, with log-sum-exp, never from a log of a softmax; and the probabilities shown
are the softmax layer's own output. The head is read from the last node of the spec, so model files
need nothing new.

    head = net.output_head                        # e.g. OutputHead(kind='softmax', node_id='out', ...)
    scores = net.forward(x, training=True, pre_activation=head.fused)
    loss, dscores = head.loss(scores, labels)     # the loss and d loss / d scores
    net.backward(dscores)
    probabilities = head.probabilities(net.predict(x))     # (N, classes): what the user sees

The kinds, for a last node with K outputs:

    its activation       K       kind            the loss reads           probabilities shown
    softmax              >= 2    "softmax"       the pre-activation       the layer's output
    sigmoid              1       "sigmoid"       the pre-activation       [1 - p, p], p the layer's output
    any other, or none   >= 2    "logits"        the output               softmax(output)
    any other, or none   1       "binary_logit"  the output               [1 - sigmoid, sigmoid](output)

A single output reads as the chance of the second of two classes (``engine.data_fit.outputs_fit_classes``);
its loss is the binary cross-entropy, its labels 0 or 1. A softmax or sigmoid with cross-entropy is
"fused": the loss's gradient with respect to the pre-activation is simply (probabilities - targets) / N,
exact and finite even where the probabilities round to 0 or 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.backend import array_module
from engine.losses import sigmoid_binary_cross_entropy, softmax_cross_entropy
from engine.ops.activations import get_activation, softmax

KINDS = ("softmax", "sigmoid", "logits", "binary_logit")


@dataclass(frozen=True)
class OutputHead:
    """How a network's output is trained and read: its ``kind`` (see the table above), the output node, that
    node's own activation ("linear" for none) and how many classes its probabilities have."""

    kind: str
    node_id: str
    activation: str
    classes: int

    @classmethod
    def for_node(cls, node: dict, output_shape) -> OutputHead:
        """The head of a network whose output node is ``node`` (its spec entry) with ``output_shape`` (no batch).

        >>> OutputHead.for_node({"id": "out", "type": "Dense", "units": 10, "activation": "softmax"}, (10,)).kind
        'softmax'
        """
        activation = node.get("activation") or "linear"
        size = math.prod(output_shape)
        if activation == "softmax" and size == output_shape[0] >= 2:  # (K,) or (K, 1, 1): one value per class
            kind = "softmax"
        elif size == 1:
            kind = "sigmoid" if activation == "sigmoid" else "binary_logit"
        else:
            kind = "logits"
        return cls(kind, node["id"], activation, 2 if size == 1 else size)

    @property
    def fused(self) -> bool:
        """True when the loss reads the output node's pre-activation: ``forward(..., pre_activation=True)``."""
        return self.kind in ("softmax", "sigmoid")

    @property
    def binary(self) -> bool:
        """True for a single output read as the chance of class 1 of two."""
        return self.kind in ("sigmoid", "binary_logit")

    # -- the math, side by side: what the loss reads, what people see --------------------------------
    def loss(self, scores, labels):
        """(mean cross-entropy, d loss / d scores) for ``scores``, what ``forward(x, pre_activation=self.fused)``
        returns: logits, before a final softmax or sigmoid. ``labels`` are class indices (N,); a softmax or
        logits head also takes one-hot rows (N, K). Computed with log-sum-exp, finite for scores of +-1e4.
        """
        flat = scores.reshape(len(scores), -1)
        if self.binary:
            loss, grad = sigmoid_binary_cross_entropy(flat, _binary_targets(labels, len(flat)))
        else:
            loss, grad = softmax_cross_entropy(flat, labels)
        return loss, grad.reshape(scores.shape)

    def probabilities(self, outputs):
        """(N, classes) class probabilities from the network's ``outputs`` (what ``forward(x)`` returns): a final
        softmax's own output as it is, [1 - p, p] for a single sigmoid's p, else those of the logits."""
        flat = outputs.reshape(len(outputs), -1)
        if self.kind == "softmax":
            return flat
        if self.kind == "logits":
            return softmax(flat, axis=1)
        xp = array_module(flat)
        chance = flat if self.kind == "sigmoid" else get_activation("sigmoid").forward(flat)[0]
        return xp.concatenate([1 - chance, chance], axis=1)

    def outputs(self, scores):
        """The network's outputs from the loss's ``scores``: the output node's own activation applied where the
        loss reads its pre-activation (the same function the layer runs, so the same values)."""
        if not self.fused:
            return scores
        return get_activation(self.activation).forward(scores)[0]

    def predictions(self, scores):
        """The predicted class of each example (N,) from the loss's ``scores``, without working out probabilities:
        the largest, or for a single output, class 1 where its chance is above 0.5 (Keras's binary accuracy),
        as the argmax of ``probabilities`` picks."""
        flat = scores.reshape(len(scores), -1)
        if self.binary:
            return (flat[:, 0] > 0).astype(np.int64)
        return flat.argmax(axis=1)


def _binary_targets(labels, count: int):
    """Labels 0 / 1 of a single-output head; checked when they come from the host (as a trainer passes them)."""
    if isinstance(labels, np.ndarray) and labels.dtype.kind in "iu" and labels.size:
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or high > 1:
            raise ValueError(f"a single output tells two classes apart: labels must be 0 or 1; "
                             f"received values from {low} to {high}")
    if labels.ndim != 1 or len(labels) != count:
        raise ValueError(f"expected {count} labels of 0 or 1; received shape {tuple(labels.shape)}")
    return labels
