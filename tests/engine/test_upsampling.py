"""UpSampling2D: shapes, refusals naming node and rule, gradients against finite differences in float64, forward
and gradient against PyTorch's interpolate(mode="nearest"), and a save/load round trip."""

import numpy as np
import pytest

import engine
from engine import backend
from tests.engine.gradcheck import check_network_gradients

torch = pytest.importorskip("torch")


def _spec(input_shape, size, then=()):
    nodes = [{"id": "input", "type": "Input", "shape": input_shape},
             {"id": "up", "type": "UpSampling2D", "size": size}, *then]
    return {"format": "layerlab-network", "version": 1, "name": "upsampling", "nodes": nodes}


@pytest.mark.parametrize("input_shape, size, expected", [
    ([8, 7, 7], 2, (8, 14, 14)),
    ([3, 5, 4], [3, 1], (3, 15, 4)),
    ([1, 1, 1], [1, 4], (1, 1, 4)),
])
def test_output_shapes(input_shape, size, expected):
    info = engine.infer_shapes(_spec(input_shape, size))
    assert info["up"].output_shape == expected and info["up"].params == 0


def test_the_default_size_doubles_both_sides():
    spec = _spec([2, 3, 4], 2)
    del spec["nodes"][1]["size"]
    assert engine.infer_shapes(spec)["up"].output_shape == (2, 6, 8)


@pytest.mark.parametrize("input_shape, size, rule, words", [
    ([784], 2, "input must be an image", "received shape 784"),
    ([1, 2**20, 4], 2**12, "output size", "past the largest side"),
])
def test_refusals_name_the_node_and_the_rule(input_shape, size, rule, words):
    with pytest.raises(engine.SpecError) as caught:
        engine.infer_shapes(_spec(input_shape, size))
    assert caught.value.node == "up" and caught.value.rule == rule
    assert words in str(caught.value)


def test_a_sequence_is_refused():
    spec = _spec([784], 2)
    spec["nodes"].insert(1, {"id": "rows", "type": "Reshape", "target_shape": [28, 28]})
    with pytest.raises(engine.SpecError) as caught:
        engine.infer_shapes(spec)
    assert caught.value.node == "up" and caught.value.rule == "input must be an image"
    assert "received shape 28x28" in str(caught.value)


@pytest.mark.parametrize("size", [0, [2, 0], [2, 2, 2], "2", 1.5, True])
def test_bad_sizes_are_refused_naming_the_field(size):
    with pytest.raises(engine.SpecError) as caught:
        engine.infer_shapes(_spec([1, 4, 4], size))
    assert caught.value.node == "up" and "size" in str(caught.value)


@pytest.mark.parametrize("size", [2, [3, 1], [1, 2], [2, 3]])
def test_gradients_match_finite_differences(size):
    spec = _spec([2, 3, 4], size, then=[{"id": "conv", "type": "Conv2D", "filters": 2, "kernel_size": 3,
                                         "padding": "same", "activation": "tanh"}])
    check_network_gradients(spec, batch=2)


def test_gradients_between_conv_layers_in_their_memory_layout():
    spec = {"format": "layerlab-network", "version": 1, "name": "up", "nodes": [
        {"id": "input", "type": "Input", "shape": [1, 6, 6]},
        {"id": "conv", "type": "Conv2D", "filters": 3, "kernel_size": 3, "activation": "relu"},
        {"id": "up", "type": "UpSampling2D", "size": [2, 3]},
        {"id": "out", "type": "Conv2D", "filters": 1, "kernel_size": 3, "padding": "same"}]}
    check_network_gradients(spec, batch=3)


@pytest.mark.parametrize("size", [2, [3, 2]])
def test_forward_and_gradient_match_pytorch(xp, size):
    net = engine.build(_spec([3, 4, 5], size), dtype="float64")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 5))
    y = net.forward(xp.asarray(x), training=True)
    upstream = rng.standard_normal(y.shape)
    dx = net.backward(xp.asarray(upstream), input_grad=True)
    x_t = torch.tensor(x, requires_grad=True)
    factors = (size, size) if isinstance(size, int) else tuple(size)
    y_t = torch.nn.functional.interpolate(x_t, scale_factor=factors, mode="nearest")
    (y_t * torch.tensor(upstream)).sum().backward()
    np.testing.assert_array_equal(backend.to_host(y), y_t.detach().numpy())
    np.testing.assert_allclose(backend.to_host(dx), x_t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_save_and_load_keep_the_layer(tmp_path):
    net = engine.build(_spec([1, 3, 3], [2, 3], then=[{"id": "conv", "type": "Conv2D", "filters": 2,
                                                         "kernel_size": 2}]), seed=4)
    x = np.random.default_rng(3).standard_normal((2, 1, 3, 3)).astype(np.float32)
    loaded = engine.load(engine.save(net, tmp_path / "up.llmodel"))
    assert loaded.layers["up"].get_config() == {"id": "up", "type": "UpSampling2D", "size": [2, 3]}
    np.testing.assert_array_equal(backend.to_host(loaded.predict(x)), backend.to_host(net.predict(x)))
