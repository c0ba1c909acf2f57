"""Metrics against hand-computed values, and evaluate() on a network whose answers are known."""

import numpy as np
import pytest

import engine
from engine.metrics import confusion_matrix, per_class_accuracy


def test_confusion_matrix_and_per_class_accuracy():
    labels = np.array([0, 0, 1, 2, 2, 2])
    predictions = np.array([0, 1, 1, 2, 0, 2])
    confusion = confusion_matrix(labels, predictions, 4)
    assert confusion.tolist() == [[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 2, 0], [0, 0, 0, 0]]
    accuracy = per_class_accuracy(confusion)
    assert accuracy[:3].tolist() == [0.5, 1.0, pytest.approx(2 / 3)]
    assert np.isnan(accuracy[3])


def test_evaluate_a_network_with_known_weights(xp):
    # logits = x @ W with W = identity: the prediction is the largest input feature.
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [3]},
                      {"id": "out", "type": "Dense", "units": 3, "use_bias": False}]}
    net = engine.build(spec)
    net.parameters()["out.kernel"].value[...] = xp.eye(3, dtype=np.float32)
    x = np.array([[5, 0, 0], [0, 5, 0], [0, 0, 5], [9, 0, 0], [0, 1, 0]], dtype=np.float32)
    labels = np.array([0, 1, 2, 1, 1])
    result = engine.evaluate(net, x, labels, batch_size=2)
    assert result.accuracy == pytest.approx(0.8)
    assert result.confusion[1].tolist() == [1, 2, 0]
    expected_loss = -np.mean([np.log(np.exp(v[l]) / np.exp(v).sum()) for v, l in zip(x, labels, strict=True)])
    assert result.loss == pytest.approx(expected_loss, rel=1e-5)
    assert result.most_confident_mistakes().tolist() == [3]
    assert result.summary()["per_class_accuracy"] == [1.0, pytest.approx(2 / 3), 1.0]
