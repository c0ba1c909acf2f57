"""The one-image inference plan (engine.one_image) against the layer-by-layer pass it stands in for."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine.one_image import OneImagePlan, _Convolution
from tests.engine.specs import mlp, seed_cnn, small_cnn_with_everything


def _layer_by_layer(network, x):
    """The ordinary pass over one image (``return_all`` keeps every node, so the plan is not used)."""
    return network.forward(x, return_all=True)[network.output_id]


def assert_same_reading(plan_output, layer_by_layer):
    """The plan's products run over other column counts than the layers' (rows sharing their padding), so
    OpenBLAS may sum in another order: equal to float32 rounding, not bit for bit."""
    np.testing.assert_allclose(plan_output, layer_by_layer, rtol=1e-5, atol=1e-5 * float(np.abs(layer_by_layer).max()))


def _image(network, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal((1, *network.input_shape)).astype(dtype)


def _chain(name, input_shape, *layers):
    nodes = [{"id": "input", "type": "Input", "shape": list(input_shape)}]
    nodes += [dict(layer, id=f"n{i}") for i, layer in enumerate(layers)]
    return {"format": "layerlab-network", "version": 1, "name": name, "nodes": nodes}


def _fused_pools(network) -> set:
    return {node_id for node_id, step, _ in network._one_image_plan()._steps
            if isinstance(step, _Convolution) and step._pool}


def test_the_seed_cnn_reads_the_same_with_both_pools_fused():
    network = engine.build(seed_cnn(), seed=0)
    x = _image(network)
    assert_same_reading(network.forward(x), _layer_by_layer(network, x))
    assert _fused_pools(network) == {"pool1", "pool2"}  # each convolution runs inside its pooling's step


@pytest.mark.parametrize("activation,pool,fused", [
    ("relu", {"type": "MaxPooling2D"}, True),
    (None, {"type": "MaxPooling2D", "padding": "same"}, True),  # 'same' on an even size pads nothing
    ("tanh", {"type": "MaxPooling2D"}, False),  # left to its layer (tanh before the max, as written)
    ("relu", {"type": "MaxPooling2D", "pool_size": 3}, False),
    ("relu", {"type": "MaxPooling2D", "strides": 1}, False),
    ("relu", {"type": "AveragePooling2D"}, False),
])
def test_only_a_2x2_max_pool_after_a_linear_or_relu_convolution_is_fused(activation, pool, fused):
    spec = _chain("fusion", (2, 8, 8), {"type": "Conv2D", "filters": 3, "kernel_size": 3, "padding": "same",
                                        "activation": activation}, pool, {"type": "Flatten"})
    network = engine.build(spec, seed=0)
    assert _fused_pools(network) == ({"n1"} if fused else set())
    x = _image(network)
    assert_same_reading(network.forward(x), _layer_by_layer(network, x))


@pytest.mark.parametrize("spec", [
    small_cnn_with_everything(),  # every layer type, a DAG: Add, Concatenate, BatchNormalization, ...
    mlp(),
    _chain("pool after tanh (not fused: tanh first)", (2, 8, 8),
           {"type": "Conv2D", "filters": 3, "kernel_size": 3, "padding": "same", "activation": "tanh"},
           {"type": "MaxPooling2D"}, {"type": "Flatten"}, {"type": "Dense", "units": 4, "activation": "softmax"}),
    _chain("valid padding, no bias, odd size (its pool not fused)", (3, 9, 9),
           {"type": "Conv2D", "filters": 4, "kernel_size": 3, "use_bias": False, "activation": "relu"},
           {"type": "MaxPooling2D", "padding": "same"},
           {"type": "Conv2D", "filters": 2, "kernel_size": [2, 3], "padding": 1},
           {"type": "Flatten"}, {"type": "Dropout", "rate": 0.5}, {"type": "Dense", "units": 3, "activation": "gelu"}),
    _chain("uneven 'same' pads (1 left, 2 right) and a wide input", (2, 10, 13),
           {"type": "Conv2D", "filters": 3, "kernel_size": [4, 4], "padding": "same", "activation": "relu"},
           {"type": "Conv2D", "filters": 2, "kernel_size": [3, 4], "padding": "same", "activation": "relu"},
           {"type": "Flatten"}, {"type": "Dense", "units": 2}),
    _chain("a strided convolution and a linear one pooled", (1, 12, 12),
           {"type": "Conv2D", "filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"},
           {"type": "Conv2D", "filters": 3, "kernel_size": 3, "padding": "same"},
           {"type": "MaxPooling2D"}, {"type": "Activation", "activation": "sigmoid"},
           {"type": "Flatten"}, {"type": "Dense", "units": 2, "use_bias": False}),
], ids=lambda spec: spec["name"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_networks_of_every_kind_agree_with_the_layer_by_layer_pass(spec, dtype):
    network = engine.build(spec, seed=1, dtype=dtype)
    for seed in range(2):
        x = _image(network, seed, network.dtype)
        np.testing.assert_allclose(network.forward(x), _layer_by_layer(network, x),
                                   rtol=1e-6 if dtype == "float32" else 1e-13, atol=1e-7, err_msg=spec["name"])


def test_each_result_is_a_fresh_array_and_weights_are_read_at_every_call():
    network = engine.build(seed_cnn(), seed=0)
    x = _image(network)
    first = network.forward(x)
    kept = first.copy()
    second = network.forward(_image(network, seed=1))
    np.testing.assert_array_equal(first, kept)  # the second call did not write into the first result
    assert not np.shares_memory(first, second)
    # Weights changed in place (an optimizer step) and replaced (a loaded state) are both seen by the next call.
    network.parameters()["conv2.kernel"].value[...] *= 0.5
    assert_same_reading(network.forward(x), _layer_by_layer(network, x))
    other = engine.build(seed_cnn(), seed=7)
    network.load_state_dict(other.state_dict())
    np.testing.assert_array_equal(network.forward(x), other.forward(x))


def test_only_one_image_in_inference_takes_the_plan(monkeypatch):
    network = engine.build(small_cnn_with_everything(), seed=0)
    runs = []
    run = OneImagePlan.run
    monkeypatch.setattr(OneImagePlan, "run", lambda plan, x: runs.append(len(x)) or run(plan, x))
    one, two = _image(network), np.concatenate([_image(network), _image(network, 1)])
    network.forward(one)
    network.forward(two)
    network.forward(one, training=True)
    network.forward(one, keep_for_backward=True)
    network.forward(one, return_all=True)
    network.forward(one, timings={})
    assert runs == [1]
