"""Reshape: shapes (with -1 inferred), the refusals naming node and rule, and its (trivial) gradient."""

import numpy as np
import pytest

import engine
from tests.engine.gradcheck import check_network_gradients


def _spec(input_shape, target_shape, then=()):
    nodes = [{"id": "input", "type": "Input", "shape": input_shape},
             {"id": "reshape", "type": "Reshape", "target_shape": target_shape}, *then]
    return {"format": "layerlab-network", "version": 1, "name": "reshape", "nodes": nodes}


@pytest.mark.parametrize("input_shape, target, expected", [
    ([1, 28, 28], [28, 28], (28, 28)),
    ([784], [1, 28, 28], (1, 28, 28)),
    ([1, 28, 28], [-1], (784,)),
    ([2, 4, 6], [4, -1], (4, 12)),
    ([12], [-1, 2, 3], (2, 2, 3)),
])
def test_output_shapes_with_and_without_an_inferred_axis(input_shape, target, expected):
    info = engine.infer_shapes(_spec(input_shape, target))
    assert info["reshape"].output_shape == expected
    assert info["reshape"].params == 0


@pytest.mark.parametrize("input_shape, target, words", [
    ([1, 28, 28], [28, 27], "1x28x28 (784 values) as 28x27 (756 values)"),
    ([1, 28, 28], [5, -1], "784 is not a multiple of 5"),
])
def test_a_size_that_does_not_match_names_node_and_rule(input_shape, target, words):
    with pytest.raises(engine.SpecError) as caught:
        engine.infer_shapes(_spec(input_shape, target))
    assert caught.value.node == "reshape" and caught.value.rule == "reshape size"
    assert words in str(caught.value)


@pytest.mark.parametrize("target", [[], [1, 2, 3, 4], [-1, -1], [0, 784], [28, 28.0], "28x28", [True, 784], None])
def test_bad_target_shapes_are_refused_naming_the_field(target):
    with pytest.raises(engine.SpecError) as caught:
        engine.infer_shapes(_spec([784], target))
    assert caught.value.node == "reshape" and "target_shape" in str(caught.value)


def test_values_keep_their_c_order_and_the_gradient_flows_back():
    net = engine.build(_spec([1, 2, 3], [3, 2]))
    x = np.arange(12, dtype=np.float32).reshape(2, 1, 2, 3)
    y = engine.backend.to_host(net.forward(x))
    np.testing.assert_array_equal(y, x.reshape(2, 3, 2))
    spec = _spec([2, 3, 2], [-1], then=[{"id": "dense", "type": "Dense", "units": 3, "activation": "tanh"},
                                        {"id": "back", "type": "Reshape", "target_shape": [3, 1, 1]}])
    check_network_gradients(spec, batch=3)
