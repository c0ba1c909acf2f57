"""Losses: each returns (mean loss, gradient w.r.t. its first argument).

The loss is a 0-d array on the inputs' device (a NumPy scalar on the CPU): ``float(loss)`` when you
need the number. Keeping it on the device matters on a GPU, where turning it into a Python float
makes the CPU wait for every queued kernel, once per step.

Cross-entropies are computed from logits with log-sum-exp (DESIGN.md): softmax is shown to people,
never fed to a log, so logits of +-1e4 still give a finite loss and finite gradients.
"""

from __future__ import annotations

import numpy as np

from engine.backend import array_module


def _labels_to_one_hot(xp, labels, logits):
    """Integer labels (N,) or one-hot / soft targets (N, K) as a float array like ``logits``.

    The range of integer labels is checked when they come from the host (as a trainer passes
    them); labels already on a GPU are trusted, since checking them would stall the device.
    """
    n, k = logits.shape
    if labels.ndim == 1 and isinstance(labels, np.ndarray) and labels.size and labels.dtype.kind in "iu":
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or high >= k:
            raise ValueError(f"labels must lie in [0, {k - 1}]; received values from {low} to {high}")
    labels = xp.asarray(labels)
    if labels.ndim == 1:
        if labels.shape[0] != n:
            raise ValueError(f"expected {n} labels; received {labels.shape[0]}")
        if labels.dtype.kind not in "iu":
            raise ValueError(f"integer labels expected; received dtype {labels.dtype}")
        one_hot = xp.zeros_like(logits)
        one_hot[xp.arange(n), labels] = 1
        return one_hot
    if labels.shape != logits.shape:
        raise ValueError(f"one-hot targets must have the logits' shape {logits.shape}; received {labels.shape}")
    return labels.astype(logits.dtype, copy=False)


def log_softmax(logits, axis=1):
    xp = array_module(logits)
    shifted = logits - logits.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


def softmax_cross_entropy(logits, labels):
    """Mean over the batch of -log softmax(logits)[label]; labels as integers (N,) or one-hot (N, K).

    >>> import numpy as np
    >>> loss, grad = softmax_cross_entropy(np.array([[1e4, -1e4]]), np.array([1]))
    >>> round(float(loss)), grad.tolist()
    (20000, [[1.0, -1.0]])
    """
    xp = array_module(logits)
    if logits.ndim != 2:
        raise ValueError(f"logits must be (batch, classes); received shape {logits.shape}")
    targets = _labels_to_one_hot(xp, labels, logits)
    n = logits.shape[0]
    log_probs = log_softmax(logits)
    loss = -(targets * log_probs).sum() / n
    grad = (xp.exp(log_probs) * targets.sum(axis=1, keepdims=True) - targets) / n
    return loss, grad.astype(logits.dtype, copy=False)


def sigmoid_binary_cross_entropy(logits, targets):
    """Mean over every element of the binary cross-entropy of sigmoid(logits) against targets in [0, 1].

    Uses max(z, 0) - z*t + log(1 + exp(-|z|)), which never overflows.
    """
    xp = array_module(logits)
    targets = xp.asarray(targets, dtype=logits.dtype).reshape(logits.shape)
    loss = xp.maximum(logits, 0) - logits * targets + xp.log1p(xp.exp(-xp.abs(logits)))
    sigmoid = 0.5 * (xp.tanh(0.5 * logits) + 1)
    grad = (sigmoid - targets) / logits.size
    return loss.mean(), grad.astype(logits.dtype, copy=False)


def mean_squared_error(predictions, targets):
    """Mean over every element of (prediction - target)^2."""
    xp = array_module(predictions)
    targets = xp.asarray(targets, dtype=predictions.dtype).reshape(predictions.shape)
    diff = predictions - targets
    return (diff * diff).mean(), (2.0 / diff.size) * diff


LOSSES = {
    "softmax_cross_entropy": softmax_cross_entropy,
    "sigmoid_binary_cross_entropy": sigmoid_binary_cross_entropy,
    "mean_squared_error": mean_squared_error,
}
