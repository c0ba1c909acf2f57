"""A network ending in `Dense 10, activation softmax` (issue 18): every probability the app shows is the layer's
own output, read once, not a softmax of it (which capped every probability near 23%)."""

import json

import numpy as np
import pytest
from PIL import Image

import engine
from app import cli
from app.draw.panel import DrawPanel
from app.draw.reader import DigitReader
from tests.app.draw_helpers import READ_TIMEOUT_MS, draw_stroke, seven_points, wait_for_reading


def keras_mlp():
    """The workshop's Keras MLP: 784-128-10, the last layer `Dense(10, activation="softmax")`."""
    return {"format": "layerlab-network", "version": 1, "name": "keras-mlp", "nodes": [
        {"id": "input", "type": "Input", "shape": [1, 28, 28]},
        {"id": "flatten", "type": "Flatten"},
        {"id": "hidden", "type": "Dense", "units": 128, "activation": "relu"},
        {"id": "probabilities", "type": "Dense", "units": 10, "activation": "softmax"}]}


@pytest.fixture(scope="module")
def mnist():
    return engine.datasets.load("mnist")


@pytest.fixture(scope="module")
def trained(mnist):
    """The Keras MLP after 400 steps of Adam on MNIST (a couple of seconds; ~95% test accuracy)."""
    splits = engine.datasets.prepare(mnist)
    network = engine.build(keras_mlp(), seed=0)
    config = engine.training.TrainingConfig(epochs=1, batch_size=64, max_steps=400, snapshot_every_steps=None,
                                            optimizer={"name": "adam", "lr": 2e-3})
    engine.training.Trainer(network, engine.training.TrainingData.from_splits(splits), config).run()
    return network


def test_a_trained_softmax_output_is_confident_on_the_test_set(trained, mnist):
    images = engine.datasets.to_float(mnist.test_images)
    result = engine.evaluate(trained, images, mnist.test_labels)
    assert result.accuracy > 0.93
    assert np.median(result.probabilities.max(axis=1)) > 0.95  # not ~0.23, the softmax of probabilities
    np.testing.assert_allclose(result.probabilities[:100], trained.forward(images[:100]), rtol=1e-5, atol=1e-6)


def test_predict_prints_the_layers_own_probability(capsys, tmp_path, trained, mnist):
    model = engine.save(trained, tmp_path / "keras-mlp.llmodel", metadata={"dataset": "mnist"})
    digit = mnist.test_images[0, 0]
    Image.fromarray(digit).save(tmp_path / "digit.png")
    assert cli.main(["predict", str(model), str(tmp_path / "digit.png"), "--json", "--top", "10"]) == 0
    top = json.loads(capsys.readouterr().out)["predictions"][0]["top"]
    expected = trained.forward(engine.datasets.to_float(mnist.test_images[:1]))[0]
    assert top[0]["class"] == int(mnist.test_labels[0]) == int(expected.argmax())
    assert [entry["probability"] for entry in top] == pytest.approx(np.sort(expected)[::-1], abs=1e-6)
    assert top[0]["probability"] > 0.9
    assert cli.main(["predict", str(model), str(tmp_path / "digit.png")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split() == [str(top[0]["class"]), f"{top[0]['probability']:.4f}"]


def test_a_drawn_seven_reads_above_ninety_percent_on_the_pad(qtbot, trained):
    panel = DrawPanel()
    panel.resize(480, 600)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    panel.use_weights(trained.spec, trained.state_dict(), [str(k) for k in range(10)])  # as a run's snapshot is
    draw_stroke(panel.pad, seven_points())
    wait_for_reading(qtbot, panel, timeout=READ_TIMEOUT_MS)
    assert panel.probabilities.argmax() == 7
    assert panel.probabilities.max() > 0.9
    own = trained.forward(panel.digit.reshape(1, 1, 28, 28))[0]  # the network's own softmax of what it read
    np.testing.assert_allclose(panel.probabilities, own, rtol=1e-4, atol=1e-6)
    assert ">7</b>" in panel.guesses.text()

    reader = DigitReader()  # the reader the pad's process runs, in this process: the same probabilities
    reader.load(trained.spec, trained.state_dict())
    _, probabilities, _ = reader.read(panel.pad.pixels())
    np.testing.assert_allclose(probabilities, own, rtol=1e-4, atol=1e-6)
