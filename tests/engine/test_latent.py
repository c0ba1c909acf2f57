"""The latent plane (engine.latent, issue 24): the bottleneck of an autoencoder, codes in and out of it, and
Network.forward_from refusing a design with a path around the node."""

import numpy as np
import pytest

import engine
from engine import latent
from tests.engine.task_specs import dense_autoencoder


def skip_around_the_code():
    """Input -> Flatten -> a (8) -> code (2) -> c (8); Add(a, c) -> out: the code is not on every path."""
    return {"loss": "mean_squared_error", "target": "input", "nodes": [
        {"id": "input", "type": "Input", "shape": [1, 4, 4]}, {"id": "flatten", "type": "Flatten"},
        {"id": "a", "type": "Dense", "units": 8, "activation": "relu"}, {"id": "code", "type": "Dense", "units": 2},
        {"id": "c", "type": "Dense", "units": 8}, {"id": "add", "type": "Add"},
        {"id": "out", "type": "Dense", "units": 16}],
        "edges": [["input", "flatten"], ["flatten", "a"], ["a", "code"], ["code", "c"], ["a", "add"], ["c", "add"],
                  ["add", "out"]]}


def test_the_bottleneck_is_the_narrowest_node_on_every_path():
    assert latent.find_bottleneck(engine.build(dense_autoencoder())) == "code"
    assert latent.find_bottleneck(engine.build(skip_around_the_code())) == "a"  # (code is skipped around)
    only_input_and_output = {"nodes": [{"id": "in", "type": "Input", "shape": [3]},
                                       {"id": "out", "type": "Dense", "units": 2}]}
    assert latent.find_bottleneck(engine.build(only_input_and_output)) is None


def test_decoding_the_codes_gives_the_network_s_outputs():
    net = engine.build(dense_autoencoder(hidden=16), seed=3)
    images = np.random.default_rng(0).uniform(size=(7, 1, 28, 28)).astype(np.float32)
    codes = latent.encode(net, images, "code", batch_size=3)
    assert codes.shape == (7, 2) and codes.dtype == np.float32
    hidden = np.maximum(images.reshape(7, -1) @ net.state_dict()["enc.kernel"] + net.state_dict()["enc.bias"], 0)
    np.testing.assert_allclose(codes, hidden @ net.state_dict()["code.kernel"] + net.state_dict()["code.bias"],
                               rtol=1e-4, atol=1e-5)
    decoded = latent.decode(net, codes, "code")
    assert decoded.shape == (7, 1, 28, 28)
    np.testing.assert_allclose(decoded, net.predict(images), rtol=1e-5, atol=1e-6)  # the sigmoid applied
    assert decoded.min() >= 0 and decoded.max() <= 1
    # After a training pass that stopped before the sigmoid (the fused loss), decoding still applies it.
    net.forward(images, training=True, pre_activation=True)
    np.testing.assert_allclose(latent.decode(net, codes[:2], "code"), decoded[:2], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="code: codes must be N x 2"):
        latent.decode(net, np.zeros((1, 3)), "code")


def test_forward_from_refuses_a_design_with_a_path_around_the_node():
    net = engine.build(skip_around_the_code())
    with pytest.raises(ValueError, match=r"code: add also reads a, which comes before code"):
        net.forward_from("code", np.zeros((1, 2), np.float32))
    with pytest.raises(ValueError, match="code"):
        latent.decode(net, np.zeros((1, 2), np.float32), "code")
    x = np.random.default_rng(1).normal(size=(2, 1, 4, 4)).astype(np.float32)
    values = net.forward(x, return_all=True)["a"]
    np.testing.assert_allclose(net.forward_from("a", values), net.predict(x), rtol=1e-6)
    with pytest.raises(ValueError, match="no node 'nope'"):
        net.forward_from("nope", values)
