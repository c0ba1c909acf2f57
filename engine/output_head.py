"""What a network's last node means for its loss and for what people see: class probabilities, or values.

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

The spec's task (its "loss" and "target" keys, docs/spec.md) picks the kind. With the default loss,
"cross_entropy" (a classifier), for a last node with K outputs:

    its activation       K       kind            the loss reads           probabilities shown
    softmax              >= 2    "softmax"       the pre-activation       the layer's output
    sigmoid              1       "sigmoid"       the pre-activation       [1 - p, p], p the layer's output
    any other, or none   >= 2    "logits"        the output               softmax(output)
    any other, or none   1       "binary_logit"  the output               [1 - sigmoid, sigmoid](output)

Otherwise the network outputs values compared with float targets of the output's size (the labels of a
regression set, or the input itself for an autoencoder, target "input"), and nothing is a class:

    loss                   kind            the loss reads                 what people see
    mean_squared_error     "mse"           the output, as it is           the output
    binary_cross_entropy   "sigmoid_bce"   the final sigmoid's pre-act.   the sigmoid's output

Binary cross-entropy needs the values to be probabilities: the output ends in a sigmoid, possibly followed
by layers that only rearrange values (Flatten, Reshape: an autoencoder's Dense 784 sigmoid -> Reshape 1x28x28);
that sigmoid's node is ``activation_node``, the one ``forward(..., pre_activation=True)`` stops before.

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
from engine.losses import mean_squared_error, sigmoid_binary_cross_entropy, softmax_cross_entropy
from engine.ops.activations import get_activation, softmax

KINDS = ("softmax", "sigmoid", "logits", "binary_logit", "mse", "sigmoid_bce")
CLASSIFIER_KINDS = ("softmax", "sigmoid", "logits", "binary_logit")
# Layers that only rearrange their input's values: a final sigmoid may come before them (see above).
SHAPE_ONLY_TYPES = ("Flatten", "Reshape")


@dataclass(frozen=True)
class OutputHead:
    """How a network's output is trained and read: its ``kind`` (see the tables above), the output node, the
    activation the output ends in ("linear" for none), how many classes its probabilities have (0 when it is
    not a classifier), the spec's "loss" key (``loss_name``; ``loss(scores, targets)`` computes it) and "target",
    and the node whose activation that is."""

    kind: str
    node_id: str
    activation: str
    classes: int
    loss_name: str = "cross_entropy"
    target: str = "labels"
    activation_node: str = ""  # the node the fused loss reads before its activation; "" means node_id

    def __post_init__(self):
        if not self.activation_node:
            object.__setattr__(self, "activation_node", self.node_id)

    @classmethod
    def for_node(cls, node: dict, output_shape, loss: str = "cross_entropy", target: str = "labels",
                 activation_node: dict | None = None) -> OutputHead:
        """The head of a network whose output node is ``node`` (its spec entry) with ``output_shape`` (no batch),
        trained with ``loss`` towards ``target`` (the spec's keys). ``activation_node`` is the spec entry of the
        node the output's values come from after only Flatten / Reshape (``ending_node``); default ``node``.

        >>> OutputHead.for_node({"id": "out", "type": "Dense", "units": 10, "activation": "softmax"}, (10,)).kind
        'softmax'
        """
        size = math.prod(output_shape)
        activation = node.get("activation") or "linear"
        if loss == "binary_cross_entropy":  # fused: reads the pre-activation of the sigmoid the values end in
            end = activation_node or node
            return cls("sigmoid_bce", node["id"], end.get("activation") or "linear", 0, loss, target, end["id"])
        if loss != "cross_entropy":  # mean squared error on the outputs as they are
            return cls("mse", node["id"], activation, 0, loss, target)
        if activation == "softmax" and size == output_shape[0] >= 2:  # (K,) or (K, 1, 1): one value per class
            kind = "softmax"
        elif size == 1:
            kind = "sigmoid" if activation == "sigmoid" else "binary_logit"
        else:
            kind = "logits"
        return cls(kind, node["id"], activation, 2 if size == 1 else size, loss, target)

    @property
    def classifier(self) -> bool:
        """True when the network is trained with cross-entropy on class labels (accuracy and confusion apply)."""
        return self.kind in CLASSIFIER_KINDS

    @property
    def reconstructs(self) -> bool:
        """True when the target is the network's own input (an autoencoder)."""
        return self.target == "input"

    def targets(self, inputs, labels):
        """What the loss compares the output with for a batch: the clean ``inputs`` themselves when the network
        reconstructs its input, else the ``labels`` (class labels, or float targets for regression)."""
        return inputs if self.reconstructs else labels

    @property
    def fused(self) -> bool:
        """True when the loss reads the pre-activation of ``activation_node``: ``forward(..., pre_activation=True)``."""
        return self.kind in ("softmax", "sigmoid", "sigmoid_bce")

    @property
    def binary(self) -> bool:
        """True for a single output read as the chance of class 1 of two."""
        return self.kind in ("sigmoid", "binary_logit")

    # -- the math, side by side: what the loss reads, what people see --------------------------------
    def loss(self, scores, labels):
        """(mean loss, d loss / d scores) for ``scores``, what ``forward(x, pre_activation=self.fused)`` returns.

        A classifier's ``scores`` are logits, before a final softmax or sigmoid, and ``labels`` class indices
        (N,); a softmax or logits head also takes one-hot rows (N, K). Computed with log-sum-exp, finite for
        scores of +-1e4. Any other head takes float targets (N, ...) holding as many values per example as the
        output (reshaped to it): the mean over every value of the squared error, or of the binary cross-entropy
        of the sigmoid of ``scores`` (then the gradient is (p - t) / size, exact where p rounds to 0 or 1).
        """
        if not self.classifier:
            return self._error_loss(scores, labels)
        flat = scores.reshape(len(scores), -1)
        if self.binary:
            loss, grad = sigmoid_binary_cross_entropy(flat, _binary_targets(labels, len(flat)))
        else:
            loss, grad = softmax_cross_entropy(flat, labels)
        return loss, grad.reshape(scores.shape)

    def _error_loss(self, scores, targets):
        targets = array_module(scores).asarray(targets)
        if len(targets) != len(scores) or targets.size != scores.size:
            per_example = math.prod(scores.shape[1:])
            raise ValueError(f"expected targets of {per_example} value(s) for each of {len(scores)} examples; "
                             f"received shape {tuple(targets.shape)}")
        if self.kind == "sigmoid_bce":
            return sigmoid_binary_cross_entropy(scores, targets)
        return mean_squared_error(scores, targets)

    def _classes_only(self, what: str) -> None:
        if not self.classifier:
            raise ValueError(f"{self.node_id}: {what} are for classifiers; this network is trained with "
                             f"{self.loss_name.replace('_', ' ')} and outputs values, not classes")

    def probabilities(self, outputs):
        """(N, classes) class probabilities from the network's ``outputs`` (what ``forward(x)`` returns): a final
        softmax's own output as it is, [1 - p, p] for a single sigmoid's p, else those of the logits."""
        self._classes_only("class probabilities")
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
        self._classes_only("class predictions")
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
