"""Issue 24's layers and tasks in the exported code, against real PyTorch and Keras 3 (torch backend).

With the exported weights loaded, the PyTorch module and the Keras model give the engine's outputs within 1e-5
for each new layer (Reshape, UpSampling2D, Conv2DTranspose, SimpleRNN, LSTM, GRU) and the issue's templates;
four training steps of the PyTorch script move the weights as the engine does for an MSE regression through
recurrent layers and for binary cross-entropy autoencoders (the target the input itself); the exported dense
autoencoder trains from the command line with its reconstruction loss going down.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import engine
from tests.engine.export.pytorch_helpers import (
    TOLERANCE,
    assert_same_outputs,
    assert_same_weights,
    chain_spec,
    exported_model,
    load_script,
    run_script,
    step_both,
)

os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported, here or by an exported script
torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")
pytest.importorskip("safetensors")

from engine.export.keras_code import export_keras  # noqa: E402  (after the skips)
from engine.export.pytorch_code import export_pytorch  # noqa: E402

AUTOENCODER = {"loss": "binary_cross_entropy", "target": "input"}
NEW_LAYER_DESIGNS = {
    "upsampling": ([2, 3, 4], [{"type": "UpSampling2D", "size": [2, 3]}, {"type": "Flatten"},
                               {"type": "Dense", "units": 3}], {}),
    "conv-transpose-valid": ([2, 5, 4], [{"type": "Conv2DTranspose", "filters": 3, "kernel_size": 3, "strides": 2,
                                          "activation": "relu"}, {"type": "Flatten"}, {"type": "Dense", "units": 3}],
                             {}),
    # TensorFlow's "same": an odd crop (4 - 2 = 2 rows, 3 - 1 = 2 columns), and a kernel smaller than the stride
    "conv-transpose-same": ([2, 5, 4], [{"type": "Conv2DTranspose", "filters": 3, "kernel_size": [4, 3],
                                         "strides": [2, 1], "padding": "same"},
                                        {"type": "Conv2DTranspose", "filters": 2, "kernel_size": 1, "strides": 2,
                                         "padding": "same", "use_bias": False},
                                        {"type": "Flatten"}, {"type": "Dense", "units": 3}], {}),
    "conv-transpose-valid-small-kernel": ([2, 5, 4], [{"type": "Conv2DTranspose", "filters": 3,
                                                       "kernel_size": [1, 2], "strides": 3}, {"type": "Flatten"},
                                                      {"type": "Dense", "units": 3}], {}),
    "reshape-image-to-image": ([3, 4, 4], [{"type": "Reshape", "target_shape": [2, -1, 4]},
                                           {"type": "Conv2D", "filters": 2, "kernel_size": 3}], {}),
    "lstm-last-step": ([1, 6, 5], [{"type": "Reshape", "target_shape": [6, -1]}, {"type": "LSTM", "units": 4},
                                   {"type": "Dense", "units": 3}], {}),
    "lstm-gru-sequences": ([30], [{"type": "Reshape", "target_shape": [6, 5]},
                                  {"type": "LSTM", "units": 4, "return_sequences": True,
                                   "unit_forget_bias": False},
                                  {"type": "GRU", "units": 3}, {"type": "Dense", "units": 3}], {}),
    "gru-sequence-output": ([30], [{"type": "Reshape", "target_shape": [6, 5]},
                                   {"type": "GRU", "units": 4, "return_sequences": True}], {}),
    "simple-rnns": ([30], [{"type": "Reshape", "target_shape": [6, 5]},
                           {"type": "SimpleRNN", "units": 4, "return_sequences": True},
                           {"type": "SimpleRNN", "units": 3, "activation": "relu"}, {"type": "Dense", "units": 2}],
                    {}),
    # a fused sigmoid before a Reshape (the dense autoencoder's ending): return_logits reshapes its pre-activation
    "dense-autoencoder-reshaped": ([1, 4, 4], [{"type": "Flatten"}, {"type": "Dense", "units": 3, "activation": "relu"},
                                              {"type": "Dense", "units": 16, "activation": "sigmoid"},
                                              {"type": "Reshape", "target_shape": [1, 4, 4]}], AUTOENCODER),
    "mse-regression": ([4], [{"type": "Dense", "units": 3, "activation": "tanh"}, {"type": "Dense", "units": 2}],
                       {"loss": "mean_squared_error"}),
}
TEMPLATES = ("lstm-mnist-rows", "dense-autoencoder", "conv-autoencoder")


def new_layer_network(name: str, seed: int = 3):
    """The design, its weights drawn N(0, 0.5) so no gate or bias sits at its initial 0 or 1."""
    input_shape, layers, task = NEW_LAYER_DESIGNS[name]
    network = engine.build(chain_spec(name, input_shape, layers, **task), seed=seed)
    rng = np.random.default_rng(seed)
    network.load_state_dict({key: rng.normal(0.0, 0.5, value.shape).astype(np.float32)
                             for key, value in network.state_dict().items()})
    return network


def template(name: str):
    from resources import path as resource

    try:
        file = Path(resource(f"examples/{name}.json"))
    except FileNotFoundError:
        pytest.skip(f"the {name} template has not landed yet")
    return engine.build(json.loads(file.read_text(encoding="utf-8")), seed=0)


# The dense autoencoder of issue 24 (its template's design), for the script runs
DENSE_AUTOENCODER = chain_spec("dense-autoencoder", [1, 28, 28], [
    {"type": "Flatten"}, {"type": "Dense", "units": 256, "activation": "relu"},
    {"type": "Dense", "units": 64, "activation": "relu"}, {"type": "Dense", "units": 2},
    {"type": "Dense", "units": 64, "activation": "relu"}, {"type": "Dense", "units": 256, "activation": "relu"},
    {"type": "Dense", "units": 784, "activation": "sigmoid"}, {"type": "Reshape", "target_shape": [1, 28, 28]}],
    **AUTOENCODER)


def keras_model(network, folder: Path, name: str, **options):
    path = folder / f"{name}.py"
    export_keras(network, path, **options)
    spec = importlib.util.spec_from_file_location(f"exported_keras_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, module.load_weights(module.build_model())


def assert_keras_gives_the_engines_outputs(network, model, images):
    x = images.transpose(0, 2, 3, 1) if images.ndim == 4 else images
    theirs = np.asarray(model.predict(x, batch_size=250, verbose=0))
    ours = network.predict(images)
    if len(network.output_shape) == 3:  # an image output comes out flattened in LayerLab's order
        ours = ours.reshape(len(ours), -1)
    assert theirs.shape == ours.shape
    assert np.abs(theirs - ours).max() <= TOLERANCE


# -- the forward pass -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(NEW_LAYER_DESIGNS))
def test_each_new_layer_gives_the_engines_outputs_in_pytorch_and_keras(name, tmp_path):
    network = new_layer_network(name)
    images = np.random.default_rng(1).random((9, *network.input_shape), dtype=np.float32)
    _, model = exported_model(network, tmp_path, name.replace("-", "_"))
    assert_same_outputs(network, model, images)  # outputs, and the loss's scores (pre-activation)
    _, keras_net = keras_model(network, tmp_path, f"keras_{name.replace('-', '_')}")
    assert_keras_gives_the_engines_outputs(network, keras_net, images)


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_issue_24_templates_give_the_engines_outputs_on_mnist(name, mnist_test_subset, tmp_path):
    network = template(name)
    images = mnist_test_subset[0][:200]
    _, model = exported_model(network, tmp_path, name.replace("-", "_"))
    assert_same_outputs(network, model, images)
    _, keras_net = keras_model(network, tmp_path, f"keras_{name.replace('-', '_')}")
    assert_keras_gives_the_engines_outputs(network, keras_net, images)


@pytest.mark.parametrize("name", ["dense-autoencoder", "conv-autoencoder"])
def test_the_scripts_reconstruction_figures_are_the_engines(name, mnist_test_subset, tmp_path):
    """The test loss (binary cross-entropy) and mean squared error the PyTorch script's evaluate and the Keras
    model's compiled loss and metric report equal the engine's within 1e-5 (Keras reads the sigmoid's output)."""
    network = template(name)
    images = mnist_test_subset[0][:200]
    scores = network.forward(images, pre_activation=True)
    loss = float(network.output_head.loss(scores, images)[0])
    mse = float(((network.predict(images) - images) ** 2).mean())
    module, model = exported_model(network, tmp_path, name.replace("-", "_"))
    theirs = module.evaluate(model, torch.from_numpy(images), torch.zeros(len(images)), torch.device("cpu"))
    np.testing.assert_allclose(theirs, (loss, mse), rtol=0, atol=TOLERANCE)
    keras_module, keras_net = keras_model(network, tmp_path, f"keras_{name.replace('-', '_')}")
    keras_module.compile_model(keras_net)
    x = images.transpose(0, 2, 3, 1)
    theirs = keras_net.evaluate(x, keras_module.targets_for(keras_net, x, None), batch_size=200, verbose=0)
    np.testing.assert_allclose(theirs, (loss, mse), rtol=0, atol=TOLERANCE)


def test_recurrent_weights_start_as_the_engines_orthogonal_and_forget_bias_one(tmp_path):
    spec = chain_spec("init", [1, 6, 5], [{"type": "Reshape", "target_shape": [6, 5]},
                                          {"type": "LSTM", "units": 8, "return_sequences": True},
                                          {"type": "GRU", "units": 8}])
    network = engine.build(spec, seed=0)
    _, model = exported_model(network, tmp_path)
    torch.manual_seed(0)
    model.reset_parameters()
    lstm, gru = model.layer_1, model.layer_2
    for module, gates in ((lstm, 4), (gru, 3)):
        recurrent = module.weight_hh_l0.detach().numpy().astype(np.float64)  # (G * units, units): Keras's, transposed
        np.testing.assert_allclose(recurrent.T @ recurrent, np.eye(8), atol=1e-5)
        engine_kernel = network.state_dict()[f"layer-{1 if gates == 4 else 2}.recurrent_kernel"].astype(np.float64)
        np.testing.assert_allclose(engine_kernel @ engine_kernel.T, np.eye(8), atol=1e-5)
    bias = lstm.bias_ih_l0.detach().numpy()
    np.testing.assert_array_equal(bias, np.r_[np.zeros(8), np.ones(8), np.zeros(16)])  # i, f, c(g), o
    np.testing.assert_array_equal(bias, network.state_dict()["layer-1.bias"])
    assert not lstm.bias_hh_l0.requires_grad and not lstm.bias_hh_l0.detach().any()  # LayerLab's one bias
    assert gru.bias_hh_l0.requires_grad  # the GRU's recurrent_bias


def test_a_simple_rnn_activation_torch_lacks_is_refused_naming_the_node_and_keras_takes_it(tmp_path):
    from engine.export.pytorch_module import PyTorchExportError

    spec = chain_spec("rnn-sigmoid", [12], [{"type": "Reshape", "target_shape": [4, 3]},
                                            {"type": "SimpleRNN", "units": 2, "activation": "sigmoid"}])
    network = engine.build(spec, seed=0)
    with pytest.raises(PyTorchExportError, match="node 'layer-1' \\(SimpleRNN\\): torch's nn.RNN computes tanh"):
        export_pytorch(network, tmp_path / "rnn.py")
    assert not (tmp_path / "rnn.py").exists()
    _, model = keras_model(network, tmp_path, "keras_rnn")
    assert_keras_gives_the_engines_outputs(network, model, np.random.default_rng(0).random((5, 12), np.float32))


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_templates_scripts_pass_pycodestyle_and_pyflakes(name, tmp_path):
    ruff = pytest.importorskip("ruff")
    network = template(name)
    script, _ = export_pytorch(network, tmp_path / f"{name.replace('-', '_')}.py", training={"input_noise": 0.2})
    result = subprocess.run([ruff.find_ruff_bin(), "check", "--no-cache", "--isolated", "--line-length", "120",
                             "--select", "E,W,F,I", str(script)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout


# -- training ---------------------------------------------------------------------------------------------------

TRAINING_RUNS = {
    # (input shape, layers, task, training)
    "recurrent-mse-regression": ([1, 4, 3], [{"type": "Reshape", "target_shape": [4, 3]},
                                             {"type": "LSTM", "units": 5, "return_sequences": True},
                                             {"type": "GRU", "units": 3, "return_sequences": True},
                                             {"type": "SimpleRNN", "units": 4}, {"type": "Dense", "units": 2}],
                                 {"loss": "mean_squared_error"},
                                 {"optimizer": {"name": "adam", "lr": 0.01}, "l2": 0.01}),
    "conv-autoencoder-bce": ([1, 6, 6], [{"type": "Conv2D", "filters": 2, "kernel_size": 3, "padding": "same",
                                          "activation": "relu"},
                                         {"type": "MaxPooling2D", "pool_size": 2},
                                         {"type": "UpSampling2D", "size": 2},
                                         {"type": "Conv2DTranspose", "filters": 1, "kernel_size": 3, "strides": 1,
                                          "padding": "same", "activation": "sigmoid"}],
                             AUTOENCODER, {"optimizer": {"name": "momentum", "lr": 0.5, "momentum": 0.9}}),
    "dense-autoencoder-reshaped": ([1, 4, 4], [{"type": "Flatten"}, {"type": "Dense", "units": 3,
                                                                     "activation": "relu"},
                                               {"type": "Dense", "units": 16, "activation": "sigmoid"},
                                               {"type": "Reshape", "target_shape": [1, 4, 4]}],
                                   AUTOENCODER, {"optimizer": {"name": "adam", "lr": 0.05}, "clipnorm": 0.5}),
}


@pytest.mark.parametrize("name", sorted(TRAINING_RUNS))
def test_four_training_steps_move_the_weights_as_the_engine_does(name, tmp_path):
    """The loss (MSE, or binary cross-entropy fused with the sigmoid), its target (the labels, or the input
    itself), L2 on the recurrent kernels and the optimizer, step by step, against the engine."""
    input_shape, layers, task, training = TRAINING_RUNS[name]
    network = engine.build(chain_spec(name, input_shape, layers, **task), seed=4)
    module, model = exported_model(network, tmp_path, training=training)
    model.train()
    config = engine.training.TrainingConfig(**training)
    data = engine.training.TrainingData(np.zeros((4, *input_shape), np.float32), np.zeros((4, 2), np.float32))
    trainer = engine.training.Trainer(network, data, config)
    optimizer = module.make_optimizer(model)
    rng = np.random.default_rng(5)
    for step in range(4):
        images = rng.random((8, *input_shape), dtype=np.float32)
        labels = rng.normal(size=(8, 2)).astype(np.float32)
        loss, torch_loss = step_both(network, trainer, module, model, optimizer, step, images, labels)
        assert torch_loss == pytest.approx(loss, abs=1e-5)
    assert_same_weights(network, model)


def test_input_noise_reaches_the_inputs_only_clipped_for_images(tmp_path):
    network = new_layer_network("dense-autoencoder-reshaped")
    module, _ = exported_model(network, tmp_path, training={"input_noise": 0.1})
    assert module.INPUT_NOISE == 0.1 and module.TARGET == "input"
    torch.manual_seed(0)
    grey = torch.full((256, 1, 4, 4), 0.5)  # five standard deviations from 0 and 1: never clipped
    assert 0.095 < float((module.with_noise(grey) - grey).std()) < 0.105
    edges = torch.cat([torch.zeros(128, 1, 4, 4), torch.ones(128, 1, 4, 4)])
    noisy = module.with_noise(edges)
    assert float(noisy.min()) == 0.0 and float(noisy.max()) == 1.0 and bool((noisy != edges).any())
    assert module.targets_for(edges, None) is edges  # the clean images are the target
    _, keras_net = keras_model(network, tmp_path, "keras_noise", training={"input_noise": 0.1})
    layer = keras_net.get_layer("input_noise")
    x = grey.numpy().transpose(0, 2, 3, 1)
    assert 0.095 < (np.asarray(layer(x, training=True)) - x).std() < 0.105
    x = edges.numpy().transpose(0, 2, 3, 1)
    noisy = np.asarray(layer(x, training=True))
    assert noisy.min() == 0.0 and noisy.max() == 1.0 and (noisy != x).any()
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)  # inference reads the input as it is
    assert "InputNoise(0.1, clip=True" in (tmp_path / "keras_noise.py").read_text()


DENSE_AUTOENCODER_RUN = {"dataset": "mnist", "epochs": 1, "batch_size": 64, "optimizer": {"name": "adam", "lr": 0.002},
                         "seed": 0}


def test_the_exported_dense_autoencoder_trains_from_the_command_line(tmp_path):
    """The script, run as a user runs it (LayerLab's packages unimportable), trains 60 steps on MNIST: the
    reconstruction loss goes down and the figures are the loss and the mean squared error, never an accuracy."""
    network = engine.build(DENSE_AUTOENCODER, seed=0)
    script, _ = export_pytorch(network, tmp_path / "dense_autoencoder.py", training=DENSE_AUTOENCODER_RUN)
    lines = run_script(script, "--cpu", "--steps", "60", "--log-every", "20", "--save",
                       str(tmp_path / "trained.safetensors"))
    steps = [line for line in lines if "step" in line and "loss" in line]
    assert [line["step"] for line in steps] == [1, 20, 40, 60]
    assert steps[-1]["loss"] < steps[0]["loss"] - 0.1  # binary cross-entropy from ~0.69
    assert steps[-1]["mean_squared_error"] < steps[0]["mean_squared_error"]
    final = next(line for line in lines if "test_loss" in line)
    assert final["steps"] == 60 and final["test_mean_squared_error"] < steps[0]["mean_squared_error"]
    assert not any("accuracy" in key for line in lines for key in line)


def test_the_keras_autoencoder_script_trains_as_a_program(tmp_path):
    from tests.engine.export.test_keras_export import tiny_mnist_folder

    network = engine.build(DENSE_AUTOENCODER, seed=0)
    folder = tmp_path / "idx"
    tiny_mnist_folder(folder)
    path = tmp_path / "autoencoder.py"
    export_keras(network, path, training={"epochs": 1, "batch_size": 8, "max_steps": 3, "input_noise": 0.2})
    done = subprocess.run([sys.executable, str(path), "--data", str(folder), "--train"], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "KERAS_BACKEND": "torch"}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "test mean squared error" in done.stdout and "accuracy" not in done.stdout


# An identity (a 1x1 convolution of weight 1, bias 0) trained as a denoising autoencoder at a rate too small to
# move it: validated on the clean images its validation loss would be 0; on noisy copies it is the noise's.
IDENTITY_AUTOENCODER = chain_spec("identity", [1, 28, 28], [{"type": "Conv2D", "filters": 1, "kernel_size": 1}],
                                  loss="mean_squared_error", target="input")
DENOISING_RUN = {"epochs": 2, "batch_size": 10, "optimizer": {"name": "sgd", "lr": 1e-12}, "input_noise": 0.2,
                 "validation": 0.25, "seed": 0}


def identity_autoencoder():
    network = engine.build(IDENTITY_AUTOENCODER, seed=0)
    network.load_state_dict({key: np.ones_like(value) if key.endswith("kernel") else np.zeros_like(value)
                             for key, value in network.state_dict().items()})
    return network


def test_the_pytorch_script_validates_a_denoising_autoencoder_on_noisy_images_drawn_once(tmp_path):
    """As LayerLab's trainer: the validation images get noise as in training, the same each epoch, and the
    targets stay clean; the test set is read as it is. Uniform pixels, noise 0.2 clipped to [0, 1]: a squared
    error a little under 0.04 per pixel."""
    from tests.engine.export.test_keras_export import tiny_mnist_folder

    folder = tmp_path / "idx"
    tiny_mnist_folder(folder)
    script, weights = export_pytorch(identity_autoencoder(), tmp_path / "identity.py", training=DENOISING_RUN)
    lines = run_script(script, "--cpu", "--data", str(folder), "--weights", str(weights), "--save",
                       str(tmp_path / "trained.safetensors"))
    validation = [line["validation_loss"] for line in lines if "validation_loss" in line]
    assert len(validation) == 2 and validation[0] == pytest.approx(validation[1], abs=1e-9)  # drawn once
    assert 0.025 < validation[0] < 0.04
    final = next(line for line in lines if "test_loss" in line)
    assert final["test_loss"] < 1e-10  # the clean test images, given back as they are

    module = load_script(script)
    images = torch.rand(6, 1, 28, 28)
    noisy = module.noisy_validation_inputs(images, 0)
    torch.testing.assert_close(noisy, module.noisy_validation_inputs(images, 0))  # seeded
    assert float(noisy.min()) >= 0.0 and float(noisy.max()) <= 1.0 and bool((noisy != images).any())


def test_the_keras_script_validates_a_denoising_autoencoder_on_noisy_images(tmp_path):
    from tests.engine.export.test_keras_export import tiny_mnist_folder

    folder = tmp_path / "idx"
    tiny_mnist_folder(folder)
    path = tmp_path / "identity_keras.py"
    export_keras(identity_autoencoder(), path, training=DENOISING_RUN)
    done = subprocess.run([sys.executable, str(path), "--data", str(folder), "--train", "--from-weights"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "KERAS_BACKEND": "torch"},
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    validation = [float(value) for value in re.findall(r"val_loss: ([0-9.e+-]+)", done.stdout)]
    assert len(validation) == 2 and validation[0] == pytest.approx(validation[1], rel=1e-4)  # drawn once
    assert 0.025 < validation[0] < 0.04
    assert float(re.search(r"test loss ([0-9.]+)", done.stdout).group(1)) < 1e-4  # the clean test images

    module, _ = keras_model(identity_autoencoder(), tmp_path, "keras_denoising", training=DENOISING_RUN)
    x = np.random.default_rng(0).random((6, 28, 28, 1), dtype=np.float32)
    noisy = module.noisy_validation_inputs(x, 0)
    np.testing.assert_array_equal(noisy, module.noisy_validation_inputs(x, 0))
    assert noisy.min() >= 0.0 and noisy.max() <= 1.0 and (noisy != x).any()
    clean, _ = keras_model(identity_autoencoder(), tmp_path, "keras_clean", training={**DENOISING_RUN,
                                                                                       "input_noise": 0.0})
    assert clean.noisy_validation_inputs(x, 0) is x  # no noise: the images as they are
