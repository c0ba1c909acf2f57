"""The PyTorch code export against real PyTorch: the exported script's module, loaded with the exported
.safetensors, gives the engine's outputs within 1e-5; its initializers, optimizers and schedules are the
engine's; trained from scratch it lands where LayerLab does; it runs without LayerLab installed."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

import engine
from engine.export.pytorch_code import export_pytorch
from engine.export.pytorch_module import PyTorchExportError
from tests.engine.export.conftest import give_batchnorm_statistics
from tests.engine.export.pytorch_helpers import (
    TOLERANCE,
    assert_same_outputs,
    assert_same_weights,
    chain_spec,
    exported_model,
    load_script,
    outputs_of,
    run_script,
    script_imports,
    step_both,
)

torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")

ALLOWED_IMPORTS = {"argparse", "gzip", "json", "math", "os", "struct", "tarfile", "time", "pathlib", "numpy",
                   "torch", "safetensors"}  # the standard library's, numpy, torch and safetensors


# -- the forward pass ---------------------------------------------------------------------------------------

def test_the_trained_seed_cnn_gives_the_engines_outputs_on_1000_mnist_images(trained_seed_cnn, mnist_test_subset,
                                                                              tmp_path):
    images, labels = mnist_test_subset
    _, model = exported_model(trained_seed_cnn, tmp_path, "seed_cnn")
    ours, theirs = trained_seed_cnn.predict(images), outputs_of(model, images)
    assert np.abs(ours - theirs).max() <= TOLERANCE
    np.testing.assert_array_equal(theirs.argmax(1), ours.argmax(1))
    assert (theirs.argmax(1) == labels).mean() == (ours.argmax(1) == labels).mean() > 0.98


def test_a_dag_using_every_layer_type_gives_the_engines_outputs(dag_design, tmp_path):
    images = np.random.default_rng(0).random((64, 1, 28, 28), dtype=np.float32)
    _, model = exported_model(dag_design, tmp_path, "dag")
    assert_same_outputs(dag_design, model, images)


SMALL_DESIGNS = {
    # every activation on a Dense layer, and a final sigmoid (one output: the binary head)
    **{f"dense-{activation}": ([2 * 5], [{"type": "Dense", "units": 6, "activation": activation},
                                          {"type": "Dense", "units": 3}])
       for activation in ("relu", "leaky_relu", "sigmoid", "tanh", "softmax", "elu", "gelu", None)},
    "sigmoid-output": ([7], [{"type": "Dense", "units": 5, "activation": "tanh"},
                             {"type": "Dense", "units": 1, "activation": "sigmoid"}]),
    "batchnorm-flat-no-shift": ([6], [{"type": "BatchNormalization", "center": False, "momentum": 0.9},
                                      {"type": "Dense", "units": 4, "use_bias": False}]),
    "batchnorm-no-scale": ([2, 6, 6], [{"type": "BatchNormalization", "scale": False, "epsilon": 0.01},
                                       {"type": "Flatten"}, {"type": "Dense", "units": 3}]),
    "conv-strides-and-padding": ([3, 11, 9], [
        {"type": "Conv2D", "filters": 4, "kernel_size": [3, 2], "strides": 2, "padding": "same"},
        {"type": "Conv2D", "filters": 5, "kernel_size": 3, "strides": [1, 2], "padding": [2, 1],
         "activation": "leaky_relu"},
        {"type": "Flatten"}, {"type": "Dense", "units": 3, "activation": "softmax"}]),
    "pools-with-padding": ([2, 10, 10], [
        {"type": "MaxPooling2D", "pool_size": 3, "strides": 1, "padding": 2},     # more than torch pads
        {"type": "AveragePooling2D", "pool_size": 3, "strides": 2, "padding": 2},  # the same, averaging
        {"type": "MaxPooling2D", "pool_size": 2, "padding": 1},                   # what torch pads itself
        {"type": "AveragePooling2D", "pool_size": 2, "strides": 1, "padding": 1},
        {"type": "AveragePooling2D", "pool_size": [2, 3], "strides": [1, 2], "padding": "same"},
        {"type": "Flatten"}, {"type": "Dense", "units": 2}]),
    "activation-layer-softmax-output": ([5], [{"type": "Dense", "units": 4}, {"type": "Dropout", "rate": 0.5},
                                              {"type": "Activation", "activation": "softmax"}]),
    "conv-softmax-output": ([2, 4, 4], [{"type": "Conv2D", "filters": 3, "kernel_size": 4,
                                         "activation": "softmax"}]),
}


@pytest.mark.parametrize("name", sorted(SMALL_DESIGNS))
def test_each_layer_setting_gives_the_engines_outputs(name, tmp_path):
    input_shape, layers = SMALL_DESIGNS[name]
    network = engine.build(chain_spec(name, input_shape, layers), seed=3)
    give_batchnorm_statistics(network, seed=3)
    images = np.random.default_rng(1).normal(size=(9, *input_shape)).astype(np.float32)
    _, model = exported_model(network, tmp_path)
    assert_same_outputs(network, model, images)


def test_concatenation_along_rows_and_columns_and_node_ids_that_are_not_python_names(tmp_path):
    spec = {"format": "layerlab-network", "version": 1, "name": "9 joins!", "nodes": [
        {"id": "input", "type": "Input", "shape": [2, 4, 6]},
        {"id": "x", "type": "Conv2D", "filters": 2, "kernel_size": 1},
        {"id": "class", "type": "Conv2D", "filters": 2, "kernel_size": 1, "activation": "relu"},
        {"id": "rows join", "type": "Concatenate", "axis": 2},
        {"id": "2nd-join", "type": "Concatenate", "axis": -1},
        {"id": "flat rows", "type": "Flatten"},
        {"id": "flat columns", "type": "Flatten"},
        {"id": "sum", "type": "Add"},
        {"id": "out", "type": "Dense", "units": 3}],
        "edges": [["input", "x"], ["input", "class"], ["x", "rows join"], ["class", "rows join"],
                  ["class", "2nd-join"], ["x", "2nd-join"], ["rows join", "flat rows"],
                  ["2nd-join", "flat columns"], ["flat rows", "sum"], ["flat columns", "sum"], ["sum", "out"]]}
    network = engine.build(spec, seed=0)
    images = np.random.default_rng(2).normal(size=(5, 2, 4, 6)).astype(np.float32)
    _, model = exported_model(network, tmp_path, "joins")
    assert_same_outputs(network, model, images)
    assert type(model).__name__ == "Model9Joins"
    assert {"x_", "class_"} <= {name for name, _ in model.named_children()}


# -- the script as a whole ------------------------------------------------------------------------------------

def test_the_script_imports_only_torch_numpy_safetensors_and_the_standard_library(dag_design, tmp_path):
    script, weights = export_pytorch(dag_design, tmp_path / "dag.py")
    assert script_imports(script) <= ALLOWED_IMPORTS
    text = script.read_text(encoding="utf-8")
    assert "torchrun --nproc_per_node N dag.py" in text
    assert "torchrun --nnodes M --nproc_per_node N --rdzv_backend c10d --rdzv_endpoint HOST:29500 dag.py" in text
    assert 'export-dag' in text and engine_version() in text
    assert weights == tmp_path / "dag.safetensors"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dag.py", "dag.safetensors"]  # no temporary left


def engine_version():
    import importlib.metadata

    return importlib.metadata.version("layerlab")


def test_the_script_passes_pycodestyle_and_pyflakes(dag_design, tmp_path):
    ruff = pytest.importorskip("ruff")
    import subprocess

    script, _ = export_pytorch(dag_design, tmp_path / "dag.py")
    binary = ruff.find_ruff_bin()
    result = subprocess.run([binary, "check", "--no-cache", "--isolated", "--line-length", "120",
                             "--select", "E,W,F,I", str(script)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout


def test_a_layer_type_torch_has_no_code_for_is_refused_naming_the_node(tmp_path):
    network = engine.build(chain_spec("odd", [4], [{"type": "Dense", "units": 2}]), seed=0)
    network.layers["layer-0"].type_name = "Mystery"  # as a layer type registered by a plug-in would be
    with pytest.raises(PyTorchExportError, match="node 'layer-0' \\(Mystery\\)"):
        export_pytorch(network, tmp_path / "odd.py")
    assert list(tmp_path.iterdir()) == []


def test_the_same_initializers_as_the_engine(tmp_path):
    initializers = ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal",
                    {"name": "truncated_normal", "stddev": 0.3}, {"name": "random_normal", "mean": 1.0},
                    {"name": "random_uniform", "minval": 0.0, "maxval": 2.0}, {"name": "constant", "value": 0.5},
                    {"name": "variance_scaling", "scale": 3.0, "mode": "fan_out", "distribution": "uniform"}]
    layers = [{"type": "Dense", "units": 400, "kernel_initializer": init} for init in initializers]
    network = engine.build(chain_spec("inits", [300], layers), seed=0)
    module, model = exported_model(network, tmp_path)
    torch.manual_seed(0)
    model.reset_parameters()
    ours = {name: value for name, value in network.state_dict().items() if name.endswith("kernel")}
    for i, init in enumerate(initializers):
        theirs = getattr(model, f"layer_{i}").weight.detach().numpy().astype(np.float64)
        mine = ours[f"layer-{i}.kernel"].astype(np.float64)
        assert theirs.mean() == pytest.approx(mine.mean(), abs=0.01 + 0.01 * abs(float(mine.mean()))), init
        assert theirs.std() == pytest.approx(mine.std(), rel=0.03), init
        assert np.abs(theirs).max() <= np.abs(mine).max() * 1.03 + 1e-6, init  # the same bounds (truncation)


OPTIMIZER_RUNS = {
    "adam-l2-cosine": {"optimizer": {"name": "adam", "lr": 0.01, "beta_1": 0.8}, "l2": 0.01,
                       "schedule": {"name": "cosine", "decay_steps": 3, "alpha": 0.1}},
    "adamw-clipnorm": {"optimizer": {"name": "adamw", "lr": 0.01}, "clipnorm": 0.5},
    "adamw-no-decay": {"optimizer": {"name": "adamw", "lr": 0.01, "weight_decay": 0.0}},
    "sgd-nesterov-step": {"optimizer": {"name": "sgd", "momentum": 0.9, "nesterov": True,
                                        "lr": {"name": "step", "initial_learning_rate": 0.1, "step_size": 2}}},
    "momentum-exponential": {"optimizer": {"name": "momentum", "lr": {
        "name": "exponential", "initial_learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.5,
        "staircase": True}}},
    "rmsprop-centered": {"optimizer": {"name": "rmsprop", "lr": 0.01, "momentum": 0.5, "centered": True,
                                       "clipvalue": 0.05}, "l2": 0.1},
    "adagrad-inverse-time": {"optimizer": {"name": "adagrad", "initial_accumulator_value": 0.1, "lr": {
        "name": "inverse_time", "initial_learning_rate": 0.1, "decay_steps": 1, "decay_rate": 0.5}}},
    "adadelta-warmup": {"optimizer": {"name": "adadelta", "lr": {
        "name": "cosine", "initial_learning_rate": 0.0, "warmup_target": 1.0, "warmup_steps": 2,
        "decay_steps": 4}}},
}


@pytest.mark.parametrize("name", sorted(OPTIMIZER_RUNS))
def test_four_training_steps_move_the_weights_as_the_engine_does(name, tmp_path):
    """Optimizer, its settings, L2 on kernels only, clipping, schedule and loss, step by step."""
    training = OPTIMIZER_RUNS[name]
    spec = chain_spec(name, [6], [{"type": "Dense", "units": 5, "activation": "tanh"},
                                  {"type": "BatchNormalization"},
                                  {"type": "Dense", "units": 3, "activation": "softmax"}])
    network = engine.build(spec, seed=4)
    module, model = exported_model(network, tmp_path, training=training)
    model.train()
    config = engine.training.TrainingConfig(**{k: v for k, v in training.items() if k != "schedule"})
    trainer = engine.training.Trainer(network, engine.training.TrainingData(np.zeros((4, 6), np.float32),
                                                                             np.zeros(4, np.int64)), config)
    if "schedule" in training:  # as the CLI reads a project's schedule: it starts at the optimizer's lr
        from engine.export.pytorch_training import Recipe

        trainer.optimizer = engine.optimizers.get(Recipe.of(network, training).optimizer, network.parameters())
    optimizer = module.make_optimizer(model)
    rng = np.random.default_rng(5)
    for step in range(4):
        images = rng.normal(size=(8, 6)).astype(np.float32) * 3
        labels = rng.integers(0, 3, 8)
        assert module.learning_rate(step) == pytest.approx(trainer.optimizer.learning_rate, rel=1e-12)
        loss, torch_loss = step_both(network, trainer, module, model, optimizer, step, images, labels)
        assert torch_loss == pytest.approx(loss, abs=1e-5)
    assert_same_weights(network, model)


# -- trained from scratch: the same accuracy band ---------------------------------------------------------------

BAND_RUNS = {
    "softmax-regression": {"dataset": "mnist", "epochs": 1, "batch_size": 100,
                           "optimizer": {"name": "sgd", "lr": 0.5}, "seed": 0},
    "mlp-784-128-10": {"dataset": "mnist", "epochs": 1, "batch_size": 128,
                       "optimizer": {"name": "adam", "lr": 0.001}, "seed": 0},
}
BAND_FLOORS = {"softmax-regression": 0.89, "mlp-784-128-10": 0.93}
BAND_POINTS = 0.015


@pytest.mark.parametrize("design", sorted(BAND_RUNS))
def test_trained_from_scratch_it_lands_in_layerlabs_accuracy_band(design, tmp_path):
    """One epoch of the template's recipe in LayerLab and in the exported script: the same test accuracy within
    1.5 points, both above a floor. The script runs as a user runs it, LayerLab's packages unimportable."""
    from engine import datasets
    from resources import path as resource

    training = BAND_RUNS[design]
    spec = json.loads(Path(resource(f"examples/{design}.json")).read_text(encoding="utf-8"))
    network = engine.build(spec, seed=0)
    splits = datasets.prepare(datasets.load("mnist", download=False))
    config = engine.training.TrainingConfig(**{k: v for k, v in training.items() if k != "dataset"})
    started = time.perf_counter()
    engine.training.Trainer(network, engine.training.TrainingData.from_splits(splits), config).run()
    ours = engine.evaluate(network, splits.test_images, splits.test_labels).accuracy
    engine_seconds = time.perf_counter() - started

    script, _ = export_pytorch(engine.build(spec, seed=0), tmp_path / "band.py", training=training)
    lines = run_script(script, "--cpu", "--save", str(tmp_path / "trained.safetensors"))
    final = next(line for line in lines if "test_accuracy" in line)
    steps = 55_000 // training["batch_size"] + (55_000 % training["batch_size"] > 0)
    assert final["steps"] == steps
    theirs = final["test_accuracy"]
    print(f"{design}: LayerLab {ours:.4f} in {engine_seconds:.1f} s, PyTorch {theirs:.4f} in {final['seconds']:.1f} s")
    assert abs(ours - theirs) <= BAND_POINTS
    assert min(ours, theirs) >= BAND_FLOORS[design]
    assert (tmp_path / "trained.safetensors").is_file()


# -- the data readers ---------------------------------------------------------------------------------------------

def tiny_spec(shape):
    return chain_spec("reader", list(shape), [{"type": "Flatten"}, {"type": "Dense", "units": 10}])


def test_the_idx_reader_takes_an_imported_sets_files_as_layerlab_stores_them(tmp_path):
    """Imported sets are stored as idx4 images and int32 labels, gzipped; the script reads them as the engine."""
    from engine import datasets

    rng = np.random.default_rng(0)
    arrays = {"train-images-idx4-ubyte.gz": rng.integers(0, 256, (30, 3, 4, 5), dtype=np.uint8),
              "train-labels-idx1-int32.gz": rng.integers(0, 10, 30).astype(np.int32),
              "test-images-idx4-ubyte": rng.integers(0, 256, (7, 3, 4, 5), dtype=np.uint8),  # not gzipped
              "test-labels-idx1-int32.gz": rng.integers(0, 10, 7).astype(np.int32)}
    folder = tmp_path / "data"
    folder.mkdir()
    for name, array in arrays.items():
        datasets.write_idx(folder / name, array)
    script, _ = export_pytorch(engine.build(tiny_spec((3, 4, 5))), tmp_path / "reader.py",
                               training={"validation": 0.2})
    module = load_script(script)
    splits = module.load_splits(str(folder))
    train_x, train_y = splits["train"]
    assert train_x.shape == (24, 3, 4, 5) and splits["validation"][0].shape == (6, 3, 4, 5)
    images, labels = arrays["train-images-idx4-ubyte.gz"], arrays["train-labels-idx1-int32.gz"]
    count = datasets.splits.validation_count(30, 0.2)  # LayerLab's rule, as datasets.prepare applies it
    train_images, _, _, val_labels = datasets.split_off(images, labels, count)
    np.testing.assert_array_equal(train_x.numpy(), datasets.to_float(train_images))
    np.testing.assert_array_equal(splits["validation"][1].numpy(), val_labels)
    np.testing.assert_array_equal(splits["test"][0].numpy(), datasets.to_float(arrays["test-images-idx4-ubyte"]))
    assert train_y.dtype == torch.int64


def test_the_cifar_reader_takes_the_binary_archive(tmp_path):
    import io
    import tarfile

    rng = np.random.default_rng(1)
    folder = tmp_path / "cifar"
    folder.mkdir()
    records = {}
    with tarfile.open(folder / "cifar-10-binary.tar.gz", "w:gz") as archive:
        for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
            records[name] = rng.integers(0, 256, (2, 3073), dtype=np.uint8)
            records[name][:, 0] %= 10
            data = records[name].tobytes()
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    script, _ = export_pytorch(engine.build(tiny_spec((3, 32, 32))), tmp_path / "cifar.py", dataset="cifar-10",
                               training={"validation": 2})
    from engine.datasets.cifar import read_cifar10_archive

    module = load_script(script)
    assert "cifar-10" in module.DATA_FOLDER
    train_x, train_y, test_x, test_y = read_cifar10_archive(folder / "cifar-10-binary.tar.gz")
    splits = module.load_splits(str(folder))
    np.testing.assert_array_equal(splits["train"][0].numpy(), train_x[:8] / np.float32(255))
    np.testing.assert_array_equal(splits["validation"][1].numpy(), train_y[8:])
    np.testing.assert_array_equal(splits["test"][1].numpy(), test_y)


def test_a_generated_set_is_read_from_idx_files_the_user_writes_and_the_script_says_how(tmp_path):
    script, _ = export_pytorch(engine.build(tiny_spec((3, 32, 32))), tmp_path / "shapes.py",
                               training={"dataset": "colour-shapes"})
    module = load_script(script)
    assert module.DATA_FOLDER is None
    assert "d.load('colour-shapes')" in script.read_text(encoding="utf-8")
    with pytest.raises(SystemExit, match="colour-shapes is made by LayerLab"):
        module.load_splits(module.DATA_FOLDER)


def test_what_the_script_does_not_carry_over_is_said_and_bad_settings_are_refused_in_words(tmp_path):
    network = engine.build(tiny_spec((1, 28, 28)))
    script, _ = export_pytorch(network, tmp_path / "aug.py", training={"augment": True, "validation": 0.1,
                                                                       "max_steps": 7, "epochs": 2})
    module = load_script(script)
    assert "augmentation (shift=2, rotation=10.0" in script.read_text(encoding="utf-8")
    assert (module.VALIDATION, module.MAX_STEPS, module.EPOCHS) == (0.1, 7, 2)
    with pytest.raises(ValueError, match="validation must be a number of examples"):
        export_pytorch(network, tmp_path / "bad.py", training={"validation": "lots"})
    with pytest.raises(ValueError, match="batch_size"):
        export_pytorch(network, tmp_path / "bad.py", training={"batch_size": 0})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aug.py", "aug.safetensors"]


def test_a_script_named_like_a_module_it_imports_is_refused(tmp_path):
    with pytest.raises(ValueError, match="torch.py: a script of that name would hide the torch module"):
        export_pytorch(engine.build(tiny_spec((4,))), tmp_path / "torch.py")
    assert list(tmp_path.iterdir()) == []
