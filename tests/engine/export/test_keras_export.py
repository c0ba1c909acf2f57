"""Keras code export checked against Keras 3 itself, on its PyTorch backend.

The exported script is imported from its path (as a user would run it), its model built and the exported
weights loaded; its outputs are compared with the engine's on 1,000 MNIST test images (the trained seed CNN
and a DAG) and, node by node, on random inputs for a design holding every layer type. The script's compile,
one model.fit step and its data loader are run too.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import engine
from engine.datasets import prepare, write_idx
from engine.datasets.dataset import Dataset
from engine.datasets.registry import DatasetInfo
from engine.layers import Layer
from tests.engine.export.conftest import give_batchnorm_statistics

os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported, here or by an exported script
keras = pytest.importorskip("keras")
pytest.importorskip("safetensors")

from engine.export.keras_code import KerasExportError, export_keras  # noqa: E402  (after the skips)

TOLERANCE = 1e-5  # the bar: the Keras model's outputs equal the engine's within 1e-5 (max abs)


def exported_script(network, path, **options):
    """Export ``network`` to ``path`` and import the script as a module (it must not need LayerLab)."""
    written = export_keras(network, path, **options)
    assert written == [path, path.with_suffix(".safetensors")] and all(p.is_file() for p in written)
    assert "import engine" not in path.read_text() and "from engine" not in path.read_text()
    spec = importlib.util.spec_from_file_location(f"exported_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def channels_last(images: np.ndarray) -> np.ndarray:
    return images.transpose(0, 2, 3, 1) if images.ndim == 4 else images


def keras_outputs(model, images: np.ndarray) -> np.ndarray:
    return np.asarray(model.predict(channels_last(images), batch_size=250, verbose=0))


def test_trained_seed_cnn_gives_the_engines_outputs_and_accuracy(trained_seed_cnn, mnist_test_subset, tmp_path):
    images, labels = mnist_test_subset
    script = exported_script(trained_seed_cnn, tmp_path / "seed_cnn.py")
    model = script.load_weights(script.build_model())
    ours, theirs = trained_seed_cnn.predict(images), keras_outputs(model, images)
    # Logits reach ~40, where a float32 step is 3.8e-6: one logit in 10,000 differs by 3 steps (1.14e-5), the
    # two libraries summing in different orders (each is as far from a float64 run: 8.8e-6 and 7.8e-6). So the
    # logits get 1e-5 plus a millionth of their size; the probabilities people see get 1e-5 flat.
    np.testing.assert_allclose(theirs, ours, rtol=1e-6, atol=TOLERANCE)
    head = trained_seed_cnn.output_head
    assert np.abs(head.probabilities(theirs) - head.probabilities(ours)).max() <= TOLERANCE
    assert (theirs.argmax(1) == labels).mean() == (ours.argmax(1) == labels).mean() > 0.95
    # the head says logits: the loss reads them as logits
    assert "SparseCategoricalCrossentropy(from_logits=True)" in (tmp_path / "seed_cnn.py").read_text()


def test_dag_with_both_merges_gives_the_engines_outputs(dag_design, mnist_test_subset, tmp_path):
    images, labels = mnist_test_subset
    script = exported_script(dag_design, tmp_path / "dag.py")
    model = script.load_weights(script.build_model())
    ours, theirs = dag_design.predict(images), keras_outputs(model, images)
    assert np.abs(theirs - ours).max() <= TOLERANCE
    assert (theirs.argmax(1) == labels).mean() == (ours.argmax(1) == labels).mean()
    assert "SparseCategoricalCrossentropy(from_logits=False)" in (tmp_path / "dag.py").read_text()  # softmax head


EVERY_LAYER = {
    "format": "layerlab-network", "version": 1, "name": "every layer",
    "nodes": [
        {"id": "in", "type": "Input", "shape": [2, 12, 10]},
        {"id": "conv/strided", "type": "Conv2D", "filters": 5, "kernel_size": 3, "strides": 2, "padding": "same",
         "activation": "leaky_relu"},
        {"id": "conv_pad", "type": "Conv2D", "filters": 5, "kernel_size": [3, 2], "padding": [1, 0],
         "strides": [2, 1], "activation": "sigmoid", "use_bias": False},
        {"id": "bn_image", "type": "BatchNormalization", "momentum": 0.9, "epsilon": 0.01, "center": False},
        {"id": "pool_max", "type": "MaxPooling2D", "pool_size": [2, 3], "strides": 1},
        {"id": "pool_avg", "type": "AveragePooling2D", "pool_size": 3, "strides": 2, "padding": "same"},
        {"id": "soft", "type": "Activation", "activation": "softmax"},
        {"id": "flat_a", "type": "Flatten"},
        {"id": "flat_b", "type": "Flatten"},
        {"id": "join_flat", "type": "Concatenate", "axis": -1},
        {"id": "bn_flat", "type": "BatchNormalization", "scale": False},
        {"id": "dense", "type": "Dense", "units": 7, "activation": "gelu"},
        {"id": "drop", "type": "Dropout", "rate": 0.3},
        {"id": "dense_skip", "type": "Dense", "units": 7, "activation": "elu", "use_bias": False},
        {"id": "sum", "type": "Add"},
        {"id": "tanh", "type": "Activation", "activation": "tanh"},
        {"id": "out", "type": "Dense", "units": 3},
        # issue 24's layers: an image stamped larger, upsampled, read as a sequence of its rows (24 x 40)
        {"id": "deconv", "type": "Conv2DTranspose", "filters": 2, "kernel_size": [3, 2], "strides": [2, 1],
         "padding": "same", "activation": "relu"},
        {"id": "up", "type": "UpSampling2D", "size": [1, 2]},
        {"id": "rows", "type": "Reshape", "target_shape": [24, -1]},
        {"id": "rnn", "type": "SimpleRNN", "units": 5, "return_sequences": True},
        {"id": "gru", "type": "GRU", "units": 4, "return_sequences": True},
        {"id": "lstm", "type": "LSTM", "units": 7},
    ],
    "edges": [["in", "conv/strided"], ["in", "conv_pad"], ["conv_pad", "bn_image"], ["bn_image", "pool_max"],
              ["conv/strided", "pool_avg"], ["pool_avg", "soft"], ["soft", "flat_a"], ["pool_max", "flat_b"],
              ["flat_a", "join_flat"], ["flat_b", "join_flat"], ["join_flat", "bn_flat"], ["bn_flat", "dense"],
              ["dense", "drop"], ["join_flat", "dense_skip"], ["drop", "sum"], ["dense_skip", "sum"],
              ["in", "deconv"], ["deconv", "up"], ["up", "rows"], ["rows", "rnn"], ["rnn", "gru"], ["gru", "lstm"],
              ["lstm", "sum"],
              ["sum", "tanh"], ["tanh", "out"]],
}


def test_every_layer_type_node_by_node_on_random_inputs(tmp_path):
    network = engine.build(EVERY_LAYER, seed=3)
    give_batchnorm_statistics(network, seed=3)
    assert {layer.type_name for layer in network.layers.values()} == {info.type for info in engine.layer_types()}
    script = exported_script(network, tmp_path / "every.py")
    model = script.load_weights(script.build_model())
    x = np.random.default_rng(0).normal(size=(16, 2, 12, 10)).astype(np.float32)
    ours = network.forward(x, return_all=True)
    names = {"conv/strided": "conv_strided"}  # Keras refuses "/" in a layer's name
    probe = keras.Model(model.inputs, [model.get_layer(names.get(n, n)).output for n in network.order[1:]])
    for node_id, theirs in zip(network.order[1:], probe.predict(channels_last(x), verbose=0), strict=True):
        theirs = np.asarray(theirs)
        expected = ours[node_id]
        assert np.abs(channels_last(expected) - theirs).max() <= TOLERANCE, node_id


@pytest.mark.parametrize("pool_type", ["MaxPooling2D", "AveragePooling2D"])
@pytest.mark.parametrize("padding", [[1, 2], "same"])
def test_pooling_padded_as_layerlab_pads_on_the_torch_backend(pool_type, padding, tmp_path):
    # 7x8 with a 3x3 pool at stride 2: "same" pads one row below only (uneven), where Keras's torch backend
    # repeats the edge pixels and an average would count them; explicit padding Keras pools have not at all.
    spec = {"format": "layerlab-network", "version": 1, "name": "padded pool",
            "nodes": [{"id": "in", "type": "Input", "shape": [3, 7, 8]},
                      {"id": "pool", "type": pool_type, "pool_size": 3, "strides": 2, "padding": padding}]}
    network = engine.build(spec)
    script = exported_script(network, tmp_path / "pool.py")
    x = np.random.default_rng(2).normal(size=(4, 3, 7, 8)).astype(np.float32)
    theirs = keras_outputs(script.build_model(), x)  # flattened in LayerLab's order, as the loss reads it
    assert np.abs(theirs - network.predict(x).reshape(4, -1)).max() <= TOLERANCE


def test_a_layer_type_without_a_keras_equivalent_is_refused_naming_the_node(tmp_path):
    class Square(Layer):
        type_name = "SquareForKerasTest"

        def forward(self, inputs, training):
            return inputs[0] * inputs[0]

    engine.register_layer_type(Square, "activation", "x * x")
    try:
        spec = {"format": "layerlab-network", "version": 1, "name": "custom",
                "nodes": [{"id": "in", "type": "Input", "shape": [3]}, {"id": "squarer", "type": "SquareForKerasTest"}]}
        with pytest.raises(KerasExportError, match="squarer: a SquareForKerasTest layer has no Keras equivalent"):
            export_keras(engine.build(spec), tmp_path / "custom.py")
    finally:
        engine.unregister_layer_type("SquareForKerasTest")
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_script_compiles_with_the_runs_settings_and_one_fit_step_runs(dag_design, mnist_test_subset, tmp_path):
    images, labels = mnist_test_subset
    training = {"epochs": 3, "batch_size": 32, "l2": 1e-4, "clipnorm": 1.0, "seed": 5, "dataset": "mnist",
                "optimizer": {"name": "adamw", "lr": {"name": "step", "initial_learning_rate": 0.01, "step_size": 1}}}
    script = exported_script(dag_design, tmp_path / "fit.py", training=training)
    assert (script.BATCH_SIZE, script.EPOCHS, script.SEED) == (32, 3, 5)
    model = script.compile_model(script.build_model())
    optimizer = model.optimizer
    assert isinstance(optimizer, keras.optimizers.AdamW)
    assert optimizer.weight_decay == pytest.approx(1e-4) and optimizer.global_clipnorm == pytest.approx(1.0)
    history = model.fit(channels_last(images[:8]), labels[:8], batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0]) and 0 <= history.history["accuracy"][0] <= 1
    assert float(optimizer.learning_rate) == pytest.approx(0.001)  # the step schedule after one step


def tiny_mnist_folder(folder):
    """A folder of the four MNIST IDX files holding 40 training and 6 test images of noise; their arrays."""
    rng = np.random.default_rng(1)
    train = rng.integers(0, 256, (40, 1, 28, 28), dtype=np.uint8)
    test = rng.integers(0, 256, (6, 1, 28, 28), dtype=np.uint8)
    train_labels, test_labels = rng.integers(0, 10, 40), rng.integers(0, 10, 6)
    folder.mkdir()
    write_idx(folder / "train-images-idx3-ubyte.gz", train[:, 0])
    write_idx(folder / "train-labels-idx1-ubyte.gz", train_labels.astype(np.uint8))
    write_idx(folder / "t10k-images-idx3-ubyte", test[:, 0])  # not gzipped: found as well
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", test_labels.astype(np.uint8))
    return train, train_labels, test, test_labels


def test_data_loader_reads_idx_files_with_layerlabs_scaling_and_split(trained_seed_cnn, tmp_path):
    folder = tmp_path / "idx"
    train, train_labels, test, test_labels = tiny_mnist_folder(folder)
    script = exported_script(trained_seed_cnn, tmp_path / "data.py", training={"seed": 9, "validation": 0.25})
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = script.load_data(folder)
    info = DatasetInfo(name="tiny", title="tiny", shape=(1, 28, 28), class_names=tuple("0123456789"),
                       source="test", license="", homepage="", files=())
    splits = prepare(Dataset(info, train, train_labels, test, test_labels), validation=0.25, seed=9)
    for (x, y), split in (((x_train, y_train), "train"), ((x_val, y_val), "val"), ((x_test, y_test), "test")):
        images, expected_labels = splits.arrays(split)
        np.testing.assert_array_equal(x, channels_last(images))
        np.testing.assert_array_equal(y, expected_labels)


@pytest.mark.parametrize(("activation", "units", "loss", "from_logits"), [
    (None, 3, "sparse_categorical_crossentropy", True), ("softmax", 3, "sparse_categorical_crossentropy", False),
    (None, 1, "binary_crossentropy", True), ("sigmoid", 1, "binary_crossentropy", False)])
def test_each_output_head_gets_its_loss_and_trains(activation, units, loss, from_logits, tmp_path):
    spec = {"format": "layerlab-network", "version": 1, "name": "head",
            "nodes": [{"id": "in", "type": "Input", "shape": [4]},
                      {"id": "out", "type": "Dense", "units": units, "activation": activation}]}
    network = engine.build(spec)
    script = exported_script(network, tmp_path / "head.py")
    model = script.load_weights(script.compile_model(script.build_model()))
    assert model.loss.fn.__name__ == loss and model.loss._fn_kwargs["from_logits"] is from_logits
    x = np.random.default_rng(4).normal(size=(8, 4)).astype(np.float32)
    assert np.abs(keras_outputs(model, x) - network.predict(x)).max() <= TOLERANCE
    labels = (x[:, 0] > 0).astype(np.float32 if units == 1 else np.int64)
    history = model.fit(x, labels, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_an_unknown_optimizer_is_refused_in_words(dag_design, tmp_path):
    with pytest.raises(ValueError, match="unknown optimizer 'bogus'; expected one of: SGD"):
        export_keras(dag_design, tmp_path / "x.py", training={"optimizer": {"name": "bogus"}})
    assert list(tmp_path.iterdir()) == []


def test_the_script_trains_when_run_as_a_program(dag_design, tmp_path):
    folder = tmp_path / "idx"
    tiny_mnist_folder(folder)
    training = {"epochs": 2, "batch_size": 8, "max_steps": 3, "early_stopping_patience": 1}
    path = tmp_path / "run me.py"
    export_keras(dag_design, path, training=training)
    environment = {**os.environ, "KERAS_BACKEND": "torch"}
    done = subprocess.run([sys.executable, str(path), "--data", str(folder), "--train", "--from-weights"],
                          capture_output=True, text=True, timeout=120, env=environment, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "on the torch backend" in done.stdout and "Epoch 1/2" in done.stdout
    assert "Epoch 2/2" not in done.stdout  # max_steps 3 of the 5 steps an epoch of 36 examples takes
    assert re.search(r"test loss \d+\.\d+, test accuracy [01]\.\d{4}", done.stdout)
