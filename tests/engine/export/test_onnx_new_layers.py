"""Issue 24's layers (Reshape, UpSampling2D, Conv2DTranspose, SimpleRNN, LSTM, GRU) and templates as ONNX:
each design passes onnx.checker's full check, gives the engine's outputs in onnxruntime within 1e-5, and comes
back through File > Open's import with identical outputs and the same layers.

Weights are the seeded initial ones with every bias (initially zeros) set to seeded noise, so a bias that went
out in the wrong place (an LSTM gate block, a GRU's recurrent bias) shows.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

import engine

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from engine.export.onnx_export import OnnxExportError, export_onnx  # noqa: E402  (after the skips)
from engine.export.onnx_import import import_onnx  # noqa: E402

TOLERANCE = 1e-5  # the issue's bar: onnxruntime's outputs equal the engine's within 1e-5 (max abs)
TEMPLATES = ("lstm-mnist-rows", "dense-autoencoder", "conv-autoencoder")
NEW_TYPES = ("Reshape", "UpSampling2D", "Conv2DTranspose", "SimpleRNN", "LSTM", "GRU")


def spec_of(input_shape, *nodes):
    return {"format": "layerlab-network", "version": 1, "name": "tiny",
            "nodes": [{"id": "input", "type": "Input", "shape": list(input_shape)}, *nodes]}


def sequence(kind, **fields):
    """Input 1x7x5 -> Reshape [7, 5] (7 steps of 5 features) -> ``kind`` with 4 units."""
    return spec_of([1, 7, 5], {"id": "steps", "type": "Reshape", "target_shape": [7, 5]},
                   {"id": "rec", "type": kind, "units": 4, **fields})


def transpose(**fields):
    return spec_of([2, 5, 4], {"id": "up", "type": "Conv2DTranspose", "filters": 3, **fields})


DESIGNS = {
    "reshape-to-sequence": spec_of([1, 6, 6], {"id": "r", "type": "Reshape", "target_shape": [6, 6]}),
    "reshape-inferred": spec_of([36], {"id": "r", "type": "Reshape", "target_shape": [1, 6, -1]}),
    "reshape-then-dense": spec_of([2, 3, 4], {"id": "r", "type": "Reshape", "target_shape": [4, 6]},
                                  {"id": "f", "type": "Flatten"}, {"id": "d", "type": "Dense", "units": 3}),
    "upsampling-2": spec_of([2, 3, 4], {"id": "up", "type": "UpSampling2D"}),
    "upsampling-3x1": spec_of([2, 3, 4], {"id": "up", "type": "UpSampling2D", "size": [3, 1]}),
    **{f"transpose-{padding}-k{k}-s{s}": transpose(kernel_size=k, strides=s, padding=padding, activation="sigmoid")
       for padding in ("valid", "same") for k, s in ((3, 2), (2, 2), (5, 2), (1, 3), (4, 1))},
    "transpose-same-k3x2-s2x3": transpose(kernel_size=[3, 2], strides=[2, 3], padding="same", activation="relu"),
    "transpose-no-bias": transpose(kernel_size=3, strides=2, padding="same", use_bias=False),
    **{f"{kind}-{'sequences' if every else 'last'}".lower(): sequence(kind, return_sequences=every)
       for kind in ("SimpleRNN", "LSTM", "GRU") for every in (False, True)},
    **{f"simplernn-{activation}": sequence("SimpleRNN", activation=activation)
       for activation in ("relu", "sigmoid", "leaky_relu", "elu", "linear")},
    "stacked-lstm-gru-dense": spec_of(
        [1, 7, 5], {"id": "steps", "type": "Reshape", "target_shape": [7, 5]},
        {"id": "lstm", "type": "LSTM", "units": 6, "return_sequences": True},
        {"id": "gru", "type": "GRU", "units": 3}, {"id": "out", "type": "Dense", "units": 2, "activation": "softmax"}),
}


def with_noisy_biases(network, seed=0):
    """``network`` with every bias (initially zeros) set to seeded values, so a misplaced one shows."""
    rng = np.random.default_rng(seed)
    state = network.state_dict()
    for name, value in state.items():
        if name.endswith("bias"):
            state[name] = rng.normal(0.0, 0.5, value.shape).astype(value.dtype)
    network.load_state_dict(state)
    return network


def run_onnx(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["output"], {"input": np.ascontiguousarray(x, dtype=np.float32)})[0]


def export_checked(network, path):
    export_onnx(network, path)
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    return model


def round_trip(network, path):
    imported = import_onnx(path)
    back = engine.Network(imported.spec, xp=np)
    back.load_state_dict(imported.weights)
    return imported, back


@pytest.mark.parametrize("name", list(DESIGNS))
def test_each_new_layer_gives_the_engines_outputs_in_onnxruntime_and_comes_back_identical(name, tmp_path):
    network = with_noisy_biases(engine.build(copy.deepcopy(DESIGNS[name]), seed=3), seed=4)
    path = tmp_path / f"{name}.onnx"
    export_checked(network, path)
    x = np.random.default_rng(5).normal(0.0, 1.5, (6, *network.input_shape)).astype(np.float32)

    expected = network.predict(x)
    actual = run_onnx(path, x)
    assert actual.shape == expected.shape
    assert float(np.max(np.abs(actual - expected))) <= TOLERANCE

    imported, back = round_trip(network, path)
    np.testing.assert_array_equal(back.predict(x), expected)
    # the same layers with the same settings and ids, not merely the same numbers
    assert [settings(back, n) for n in back.order] == [settings(network, n) for n in network.order]


def settings(network, node_id) -> dict:
    """A node's settings as the inspector shows them, with what has two equal spellings spelled one way: a
    Reshape's -1 resolved, size pairs as pairs, and a Conv2DTranspose whose kernel equals its strides (where
    'valid' and 'same' agree)."""
    config = network.layers[node_id].get_config()
    for field in ("size", "kernel_size", "strides"):  # 2 and [2, 2] are one setting
        if isinstance(config.get(field), int):
            config[field] = [config[field]] * 2
    if config["type"] == "Reshape":
        config["target_shape"] = list(network.shapes[node_id].output_shape)
    if config["type"] == "Conv2DTranspose" and config["kernel_size"] == config["strides"]:
        config["padding"] = "either"
    return config


def test_the_recurrent_gates_go_out_in_onnxs_order(tmp_path):
    """The LSTM's kernel blocks i, f, c, o become ONNX's W blocks i, o, f, c; its bias goes in Wb, Rb is zeros;
    the GRU's z, r, h stay in order with its recurrent bias as Rb and linear_before_reset=1."""
    network = with_noisy_biases(engine.build(DESIGNS["stacked-lstm-gru-dense"], seed=1), seed=2)
    model = export_checked(network, tmp_path / "stack.onnx")
    weights = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    state = network.state_dict()
    i, f, c, o = np.split(state["lstm.kernel"].T, 4)
    np.testing.assert_array_equal(weights["lstm.W"][0], np.concatenate([i, o, f, c]))
    bi, bf, bc, bo = np.split(state["lstm.bias"], 4)
    np.testing.assert_array_equal(weights["lstm.B"][0], np.concatenate([bi, bo, bf, bc, np.zeros(24, np.float32)]))
    np.testing.assert_array_equal(weights["gru.R"][0], state["gru.recurrent_kernel"].T)
    np.testing.assert_array_equal(weights["gru.B"][0], np.concatenate([state["gru.bias"], state["gru.recurrent_bias"]]))
    ops = {node.name: node for node in model.graph.node}
    assert ops["lstm"].op_type == "LSTM" and ops["gru"].op_type == "GRU"
    gru_attributes = {a.name: onnx.helper.get_attribute_value(a) for a in ops["gru"].attribute}
    assert gru_attributes["linear_before_reset"] == 1 and gru_attributes["hidden_size"] == 3


def test_upsampling_is_a_nearest_resize_that_repeats_pixels(tmp_path):
    network = engine.build(DESIGNS["upsampling-3x1"], seed=0)
    model = export_checked(network, tmp_path / "up.onnx")
    (resize,) = [node for node in model.graph.node if node.op_type == "Resize"]
    settings = {a.name: onnx.helper.get_attribute_value(a) for a in resize.attribute}
    assert settings == {"mode": b"nearest", "coordinate_transformation_mode": b"asymmetric", "nearest_mode": b"floor"}
    x = np.arange(2 * 2 * 3 * 4, dtype=np.float32).reshape(2, 2, 3, 4)
    np.testing.assert_array_equal(run_onnx(tmp_path / "up.onnx", x), np.repeat(x, 3, axis=2))


@pytest.mark.parametrize("batch", [1, 9])
def test_reshape_and_the_recurrent_layers_keep_the_batch_dynamic(batch, tmp_path):
    network = with_noisy_biases(engine.build(DESIGNS["stacked-lstm-gru-dense"], seed=1))
    model = export_checked(network, tmp_path / "stack.onnx")
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    (shape,) = [t for t in model.graph.initializer if t.name == "steps.shape"]
    assert onnx.numpy_helper.to_array(shape).tolist() == [0, 7, 5]  # 0: the batch, whatever its size
    x = np.random.default_rng(batch).random((batch, 1, 7, 5), dtype=np.float32)
    assert np.max(np.abs(run_onnx(tmp_path / "stack.onnx", x) - network.predict(x))) <= TOLERANCE


def test_a_simplernn_activation_onnx_lacks_is_refused_naming_the_node(tmp_path):
    network = engine.build(sequence("SimpleRNN", activation="gelu"), seed=0)
    with pytest.raises(OnnxExportError, match=r"rec: ONNX's RNN has no 'gelu' activation; choose one of tanh"):
        export_onnx(network, tmp_path / "gelu.onnx")
    assert list(tmp_path.iterdir()) == []


def _template(name):
    from resources import path

    return json.loads(path(f"examples/{name}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_issue_24_templates_go_out_and_come_back_on_mnist_images(name, tmp_path, mnist_test_subset):
    network = with_noisy_biases(engine.build(_template(name), seed=0), seed=1)
    path = tmp_path / f"{name}.onnx"
    export_checked(network, path)
    images = mnist_test_subset[0][:64]

    expected = network.predict(images)
    actual = run_onnx(path, images)
    assert actual.shape == expected.shape == (64, *network.output_shape)
    assert float(np.max(np.abs(actual - expected))) <= TOLERANCE

    imported, back = round_trip(network, path)
    np.testing.assert_array_equal(back.predict(images), expected)
    assert [(n, back.layers[n].type_name) for n in back.order] == [(n, network.layers[n].type_name)
                                                                   for n in network.order]
    # the task (an autoencoder's loss and target), which has no operator, comes back from the metadata
    assert {key: imported.spec.get(key) for key in ("loss", "target")} == \
           {key: network.spec.get(key) for key in ("loss", "target")}
    new_layers = [n for n in network.order if network.layers[n].type_name in NEW_TYPES]
    assert new_layers and [settings(back, n) for n in new_layers] == [settings(network, n) for n in new_layers]


def test_the_lstm_template_after_training_steps_gives_the_engines_logits_and_predictions(tmp_path, mnist_test_subset):
    """Trained gates (saturated ones among them) rather than initial ones: 20 steps of the template's recipe."""
    from engine import datasets
    from engine.training.config import TrainingConfig
    from engine.training.trainer import Trainer, TrainingData
    from resources import path

    mnist = datasets.load("mnist", download=False)
    images = np.ascontiguousarray(datasets.to_float(mnist.train_images[:2560]), dtype=np.float32)
    labels = np.asarray(mnist.train_labels[:2560], dtype=np.int64)
    recipe = json.loads(path("templates.json").read_text(encoding="utf-8"))["training"]["lstm-mnist-rows"]
    config = TrainingConfig.from_dict({**{k: v for k, v in recipe.items() if k != "dataset"}, "epochs": 1,
                                       "max_steps": 20})
    network = engine.build(_template("lstm-mnist-rows"), seed=0)
    assert Trainer(network, TrainingData(images, labels, name="mnist"), config).run().reason == "max_steps"
    export_checked(network, tmp_path / "lstm.onnx")
    test_images, test_labels = mnist_test_subset

    expected = network.predict(test_images)
    actual = run_onnx(tmp_path / "lstm.onnx", test_images)
    assert float(np.max(np.abs(actual - expected))) <= TOLERANCE
    assert np.array_equal(actual.argmax(axis=1), expected.argmax(axis=1))
    assert np.mean(expected.argmax(axis=1) == test_labels) > 0.3  # trained: well past chance (0.1)
