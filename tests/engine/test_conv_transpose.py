"""Conv2DTranspose: shapes (TensorFlow's 'same' rule), refusals naming node and rule, gradients against finite
differences in float64, forward and gradients against PyTorch's conv_transpose2d (the 'same' crop done
explicitly here), a save/load round trip, and the conv autoencoder template."""

import json
from pathlib import Path

import numpy as np
import pytest

import engine
from engine import backend
from tests.engine.gradcheck import check_network_gradients

torch = pytest.importorskip("torch")
F = torch.nn.functional

ROOT = Path(__file__).resolve().parents[2]


def _spec(input_shape, then):
    nodes = [{"id": "input", "type": "Input", "shape": input_shape}, *then]
    return {"format": "layerlab-network", "version": 1, "name": "transpose", "nodes": nodes}


def _transpose(kernel, strides, padding, filters=3, **more):
    return {"id": "up", "type": "Conv2DTranspose", "filters": filters, "kernel_size": kernel, "strides": strides,
            "padding": padding, **more}


def _torch_conv_transpose(x, kernel, bias, strides, padding):
    """PyTorch's transposed convolution with TensorFlow's 'same' rule done by hand: the full output,
    (in - 1) * s + k, cropped by max(k - s, 0) // 2 at the top/left to in * s, zero-filled where k < s."""
    full = F.conv_transpose2d(x, kernel, None, stride=strides)
    if padding == "same":
        (sh, sw), (kh, kw) = strides, kernel.shape[2:]
        out_h, out_w = x.shape[2] * sh, x.shape[3] * sw
        top, left = max(kh - sh, 0) // 2, max(kw - sw, 0) // 2
        grown = F.pad(full, (0, max(0, out_w + left - full.shape[3]), 0, max(0, out_h + top - full.shape[2])))
        full = grown[:, :, top:top + out_h, left:left + out_w]
    return full if bias is None else full + bias[None, :, None, None]


@pytest.mark.parametrize("input_shape, kernel, strides, padding, expected", [
    ([8, 7, 7], 3, 2, "same", (3, 14, 14)),
    ([8, 7, 7], 3, 2, "valid", (3, 15, 15)),
    ([2, 5, 4], [2, 3], [3, 1], "same", (3, 15, 4)),
    ([2, 5, 4], [2, 3], [3, 1], "valid", (3, 14, 6)),
    ([1, 1, 1], 4, 1, "valid", (3, 4, 4)),
    ([1, 3, 3], 1, 2, "same", (3, 6, 6)),
])
def test_output_shapes_follow_tensorflow(input_shape, kernel, strides, padding, expected):
    info = engine.infer_shapes(_spec(input_shape, [_transpose(kernel, strides, padding)]))
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    assert info["up"].output_shape == expected
    assert info["up"].params == input_shape[0] * 3 * kh * kw + 3


def test_the_kernel_is_stored_in_pytorchs_layout():
    net = engine.build(_spec([8, 7, 7], [_transpose([3, 2], 2, "same", filters=5)]))
    assert net.parameters()["up.kernel"].value.shape == (8, 5, 3, 2)
    assert net.parameters()["up.bias"].value.shape == (5,)


@pytest.mark.parametrize("input_shape, node, rule, words", [
    ([784], _transpose(3, 2, "same"), "input must be an image", "received shape 784"),
    ([8, 2**20, 7], _transpose(3, 2**12, "same"), "output size", "past the largest side"),
])
def test_refusals_name_the_node_and_the_rule(input_shape, node, rule, words):
    with pytest.raises(engine.SpecError) as caught:
        engine.infer_shapes(_spec(input_shape, [node]))
    assert caught.value.node == "up" and caught.value.rule == rule
    assert words in str(caught.value)


@pytest.mark.parametrize("field, value", [("padding", "full"), ("padding", 1), ("strides", 0), ("filters", 0),
                                          ("kernel_size", [3, 3, 3]), ("activation", "swish")])
def test_bad_settings_are_refused_naming_the_field(field, value):
    node = _transpose(3, 2, "same")
    node[field] = value
    with pytest.raises(engine.SpecError) as caught:
        engine.infer_shapes(_spec([2, 4, 4], [node]))
    assert caught.value.node == "up" and field in str(caught.value)


GEOMETRIES = [(3, 2, "same"), (3, 2, "valid"), (4, 2, "same"), (5, 2, "same"), (2, 3, "same"), (1, 2, "same"),
              (3, 1, "same"), ([3, 2], [1, 2], "valid"), (2, 2, "valid")]


@pytest.mark.parametrize("kernel, strides, padding", GEOMETRIES)
def test_gradients_match_finite_differences(kernel, strides, padding):
    spec = _spec([2, 5, 4], [_transpose(kernel, strides, padding, activation="tanh",
                                        bias_initializer="random_normal")])
    check_network_gradients(spec, batch=2)


def test_gradients_through_a_conv_net_decoder():
    """Between layers that keep the (C, H, W, N) memory layout, with a ReLU fused and no bias."""
    spec = _spec([1, 6, 6], [
        {"id": "conv", "type": "Conv2D", "filters": 3, "kernel_size": 3, "padding": "same", "activation": "relu"},
        {"id": "pool", "type": "MaxPooling2D", "pool_size": 2},
        _transpose(3, 2, "same", filters=2, activation="relu", use_bias=False),
        {"id": "out", "type": "Conv2D", "filters": 1, "kernel_size": 3, "padding": "same"}])
    check_network_gradients(spec, batch=3)


@pytest.mark.parametrize("kernel, strides, padding", GEOMETRIES)
def test_forward_and_gradients_match_pytorch(xp, kernel, strides, padding):
    spec = _spec([3, 5, 6], [_transpose(kernel, strides, padding, filters=4, bias_initializer="random_normal")])
    net = engine.build(spec, seed=3, dtype="float64")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 5, 6))
    y = net.forward(xp.asarray(x), training=True)
    upstream = rng.standard_normal(y.shape)
    dx = net.backward(xp.asarray(upstream), input_grad=True)

    params = net.parameters()
    kernel_t = torch.tensor(backend.to_host(params["up.kernel"].value), requires_grad=True)
    bias_t = torch.tensor(backend.to_host(params["up.bias"].value), requires_grad=True)
    x_t = torch.tensor(x, requires_grad=True)
    pair = (strides, strides) if isinstance(strides, int) else tuple(strides)
    y_t = _torch_conv_transpose(x_t, kernel_t, bias_t, pair, padding)
    (y_t * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(backend.to_host(y), y_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(backend.to_host(dx), x_t.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(backend.to_host(params["up.kernel"].grad), kernel_t.grad.numpy(), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(backend.to_host(params["up.bias"].grad), bias_t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_a_float32_batch_on_many_cores_matches_pytorch():
    """The decoder's own sizes at batch 128, where the work is shared out between the cores."""
    spec = _spec([8, 14, 14], [_transpose(3, 2, "same", filters=16, activation="relu")])
    net = engine.build(spec, seed=1)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((128, 8, 14, 14)).astype(np.float32)
    y = backend.to_host(net.forward(net.xp.asarray(x), training=True))
    params = net.parameters()
    y_t = F.relu(_torch_conv_transpose(torch.tensor(x), torch.tensor(backend.to_host(params["up.kernel"].value)),
                                       torch.tensor(backend.to_host(params["up.bias"].value)), (2, 2), "same"))
    np.testing.assert_allclose(y, y_t.numpy(), rtol=1e-4, atol=1e-5)


def test_save_and_load_keep_the_layer_and_its_weights(tmp_path):
    spec = _spec([2, 4, 4], [_transpose([3, 2], [2, 1], "same", activation="sigmoid")])
    net = engine.build(spec, seed=5)
    x = np.random.default_rng(2).standard_normal((3, 2, 4, 4)).astype(np.float32)
    path = engine.save(net, tmp_path / "model.llmodel")
    loaded = engine.load(path)
    assert loaded.layers["up"].get_config() == net.layers["up"].get_config()
    np.testing.assert_array_equal(backend.to_host(loaded.predict(x)), backend.to_host(net.predict(x)))


def test_one_image_reading_matches_the_batch_pass():
    """The Draw pad's path (``engine.one_image``) runs the layer's own forward."""
    spec = json.loads((ROOT / "resources/examples/conv-autoencoder.json").read_text())
    net = engine.build(spec, seed=0)
    x = np.random.default_rng(0).random((1, 1, 28, 28)).astype(np.float32)
    one = net.predict(x)
    two = net.predict(np.concatenate([x, x]))
    np.testing.assert_allclose(backend.to_host(one)[0], backend.to_host(two)[0], rtol=1e-5, atol=1e-6)


def test_the_conv_autoencoder_template_reads_1x28x28_back():
    spec = json.loads((ROOT / "resources/examples/conv-autoencoder.json").read_text())
    info = engine.infer_shapes(spec)
    shapes = [info[node["id"]].output_shape for node in spec["nodes"]]
    assert shapes[-4:] == [(8, 7, 7), (8, 14, 14), (16, 28, 28), (1, 28, 28)]
    assert spec["loss"] == "binary_cross_entropy" and spec["target"] == "input"


@pytest.mark.parametrize("kernel, strides, padding", GEOMETRIES)
def test_the_fast_path_matches_the_plain_reference(kernel, strides, padding):
    """``engine.ops.conv_transpose`` (a GEMM and col2im; backward a Conv2D) against the loop over kernel
    offsets of ``engine.ops.reference.conv_transpose``, on a batch big enough to be cut into chunks."""
    from engine.ops import conv_transpose
    from engine.ops.reference import conv_transpose as reference

    rng = np.random.default_rng(4)
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    x = rng.standard_normal((64, 3, 9, 8))
    weights, bias = rng.standard_normal((3, 4, kh, kw)), rng.standard_normal(4)
    y, cache = conv_transpose.conv_transpose2d_forward(x, weights, bias, strides, padding)
    y_ref, saved = reference.conv_transpose2d_forward(x, weights, bias, strides, padding)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-12)
    dy = rng.standard_normal(y.shape)
    for ours, theirs in zip(conv_transpose.conv_transpose2d_backward(dy, cache),
                            reference.conv_transpose2d_backward(dy, saved), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)
