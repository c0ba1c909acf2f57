"""PyTorch as an independent oracle: forward, input and parameter gradients, and optimizer steps.

Runs when torch is installed (``pip install torch==2.13.0`` here; .ci/run installs it).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import engine  # noqa: E402
from engine import backend, optimizers  # noqa: E402
from tests.engine.specs import seed_cnn, small_cnn_with_everything  # noqa: E402
from tests.engine.torch_oracle import to_numpy, torch_forward, torch_parameters  # noqa: E402


def _without_dropout(spec):
    for node in spec["nodes"]:
        if node["type"] == "Dropout":
            node["rate"] = 0.0
    return spec


STRIDED = {"name": "strided", "nodes": [
    {"id": "input", "type": "Input", "shape": [3, 11, 10]},
    {"id": "c1", "type": "Conv2D", "filters": 5, "kernel_size": [3, 4], "strides": [2, 1], "padding": "same",
     "activation": "gelu"},
    {"id": "p1", "type": "MaxPooling2D", "pool_size": 3, "strides": 2, "padding": "same"},
    {"id": "c2", "type": "Conv2D", "filters": 4, "kernel_size": 2, "padding": 1, "activation": "leaky_relu"},
    {"id": "p2", "type": "AveragePooling2D", "pool_size": 2, "strides": 1, "padding": "same"},
    {"id": "flat", "type": "Flatten"},
    {"id": "fc", "type": "Dense", "units": 6, "activation": "tanh"},
    {"id": "out", "type": "Dense", "units": 4}]}


@pytest.mark.parametrize("make_spec", [seed_cnn, small_cnn_with_everything, lambda: STRIDED],
                         ids=["seed-cnn", "every-layer", "strided"])
def test_forward_and_gradients_match_pytorch(xp, make_spec):
    import copy

    net = engine.build(_without_dropout(copy.deepcopy(make_spec())), seed=5, dtype="float64")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3,) + tuple(net.input_shape))
    labels = rng.integers(0, net.output_shape[0], 3)

    logits = net.forward(x, training=True)
    loss, dlogits = engine.losses.softmax_cross_entropy(logits, xp.asarray(labels))
    dx = net.backward(dlogits)

    params = torch_parameters(net)
    x_t = torch.tensor(x, requires_grad=True)
    logits_t = torch_forward(net, x_t, params)
    loss_t = torch.nn.functional.cross_entropy(logits_t, torch.tensor(labels))
    loss_t.backward()

    np.testing.assert_allclose(backend.to_host(logits), to_numpy(logits_t), rtol=1e-9, atol=1e-10)
    assert float(loss) == pytest.approx(loss_t.item(), rel=1e-10)
    np.testing.assert_allclose(backend.to_host(dx), to_numpy(x_t.grad), rtol=1e-7, atol=1e-11)
    for name, p in net.parameters().items():
        np.testing.assert_allclose(backend.to_host(p.grad), to_numpy(params[name].grad), rtol=1e-7, atol=1e-11,
                                   err_msg=name)


@pytest.mark.parametrize("make_spec", [seed_cnn, small_cnn_with_everything], ids=["seed-cnn", "every-layer"])
def test_the_fourier_path_matches_pytorch(xp, fourier_everywhere, make_spec):
    """The same check with every stride-1 convolution through ``engine.ops.conv_fourier``."""
    test_forward_and_gradients_match_pytorch(xp, make_spec)


TORCH_OPTIMIZERS = {
    "adam": (lambda ps: optimizers.Adam(ps, lr=1e-3), lambda ts: torch.optim.Adam(ts, lr=1e-3)),
    "sgd-momentum": (lambda ps: optimizers.Momentum(ps, lr=0.05, momentum=0.9),
                     lambda ts: torch.optim.SGD(ts, lr=0.05, momentum=0.9)),
    "sgd": (lambda ps: optimizers.SGD(ps, lr=0.1), lambda ts: torch.optim.SGD(ts, lr=0.1)),
}


@pytest.mark.parametrize("name", sorted(TORCH_OPTIMIZERS))
def test_training_steps_match_pytorch(xp, name):
    """Several full training steps (forward, backward, update) on a small CNN stay in step with PyTorch."""
    spec = _without_dropout(small_cnn_with_everything())
    net = engine.build(spec, seed=1, dtype="float64")
    make_ours, make_theirs = TORCH_OPTIMIZERS[name]
    params = torch_parameters(net)
    ours, theirs = make_ours(net.parameters()), make_theirs(list(params.values()))
    rng = np.random.default_rng(2)
    for _ in range(5):
        x = rng.standard_normal((4, 1, 8, 8))
        labels = rng.integers(0, 3, 4)
        _, dlogits = engine.losses.softmax_cross_entropy(net.forward(x, training=True), xp.asarray(labels))
        net.backward(dlogits, input_grad=False)
        ours.step()
        theirs.zero_grad()
        torch.nn.functional.cross_entropy(torch_forward(net, torch.tensor(x), params),
                                          torch.tensor(labels)).backward()
        theirs.step()
    for key, p in net.parameters().items():
        np.testing.assert_allclose(backend.to_host(p.value), to_numpy(params[key]), rtol=1e-7, atol=1e-10,
                                   err_msg=key)


def test_float32_seed_cnn_agrees_with_pytorch_to_float32_precision(xp):
    net = engine.build(_without_dropout(seed_cnn()), seed=0)
    x = np.random.default_rng(1).random((8, 1, 28, 28), dtype=np.float32)
    params = torch_parameters(net)
    expected = to_numpy(torch_forward(net, torch.tensor(x), params))
    np.testing.assert_allclose(backend.to_host(net.forward(x)), expected, rtol=1e-4, atol=1e-4)


def test_a_float32_training_batch_agrees_with_pytorch(xp):
    """Batch 64 in float32, at which the seed CNN's conv2 takes the Fourier path on the CPU."""
    from engine.ops.conv_fourier import fourier_pays

    assert fourier_pays(np, (64, 32, 14, 14), (64, 32, 5, 5), (1, 1), (2, 2, 2, 2), (14, 14))
    net = engine.build(_without_dropout(seed_cnn()), seed=0)
    rng = np.random.default_rng(3)
    x = rng.random((64, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, 64)
    _, dlogits = engine.losses.softmax_cross_entropy(net.forward(x, training=True), xp.asarray(labels))
    net.backward(dlogits, input_grad=False)
    params = torch_parameters(net)
    torch.nn.functional.cross_entropy(torch_forward(net, torch.tensor(x), params), torch.tensor(labels)).backward()
    for name, p in net.parameters().items():
        expected = to_numpy(params[name].grad)
        np.testing.assert_allclose(backend.to_host(p.grad), expected, rtol=0, atol=1e-4 * np.abs(expected).max(),
                                   err_msg=name)
