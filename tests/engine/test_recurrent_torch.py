"""SimpleRNN, LSTM and GRU against torch.nn.RNN / LSTM / GRU with the same weights (float64): the outputs and
the gradients of every parameter and of the input. Keras's layout maps onto PyTorch's by transposing the
kernels; LSTM's gate order i, f, c, o is PyTorch's i, f, g, o, GRU's z, r, h is PyTorch's r, z, n reordered."""

import numpy as np
import pytest

import engine
from engine.backend import to_host

torch = pytest.importorskip("torch")

STEPS, FEATURES, UNITS, BATCH = 5, 3, 4, 6
GRU_TO_TORCH = [1, 0, 2]  # PyTorch's blocks r, z, n are our blocks 1, 0, 2


def _spec(layer_type, return_sequences, **extra):
    return {"format": "layerlab-network", "version": 1, "name": layer_type.lower(), "nodes": [
        {"id": "input", "type": "Input", "shape": [STEPS * FEATURES]},
        {"id": "steps", "type": "Reshape", "target_shape": [STEPS, FEATURES]},
        {"id": "rnn", "type": layer_type, "units": UNITS, "return_sequences": return_sequences,
         "bias_initializer": {"name": "random_normal", "stddev": 0.5}, **extra}]}


def _blocks(array, order):
    parts = np.split(array, len(order), axis=-1)
    return np.concatenate([parts[i] for i in order], axis=-1)


def _torch_twin(layer_type, params):
    """The PyTorch module holding our weights, and a function mapping its grads back to our names/layout."""
    kernel, recurrent, bias = (params[f"rnn.{n}"] for n in ("kernel", "recurrent_kernel", "bias"))
    cls = {"SimpleRNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}[layer_type]
    module = cls(FEATURES, UNITS, batch_first=True).double()
    order = GRU_TO_TORCH if layer_type == "GRU" else list(range(kernel.shape[1] // UNITS))
    recurrent_bias = params.get("rnn.recurrent_bias", np.zeros_like(bias))
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.from_numpy(_blocks(kernel, order).T.copy()))
        module.weight_hh_l0.copy_(torch.from_numpy(_blocks(recurrent, order).T.copy()))
        module.bias_ih_l0.copy_(torch.from_numpy(_blocks(bias, order)))
        module.bias_hh_l0.copy_(torch.from_numpy(_blocks(recurrent_bias, order)))
    back = np.argsort(order)

    def grads():
        g = {"rnn.kernel": _blocks(module.weight_ih_l0.grad.numpy().T, back),
             "rnn.recurrent_kernel": _blocks(module.weight_hh_l0.grad.numpy().T, back),
             "rnn.bias": _blocks(module.bias_ih_l0.grad.numpy(), back)}
        recurrent_bias_grad = _blocks(module.bias_hh_l0.grad.numpy(), back)
        if layer_type == "GRU":
            g["rnn.recurrent_bias"] = recurrent_bias_grad
        else:  # PyTorch's second bias is added to the first: the same gradient
            np.testing.assert_allclose(recurrent_bias_grad, g["rnn.bias"], rtol=1e-12)
        return g

    return module, grads


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("layer_type", ["SimpleRNN", "LSTM", "GRU"])
def test_outputs_and_every_gradient_match_pytorch(layer_type, return_sequences):
    rng = np.random.default_rng(7)
    net = engine.build(_spec(layer_type, return_sequences), seed=3, dtype="float64")
    params = {name: to_host(p.value).copy() for name, p in net.parameters().items()}
    x = rng.standard_normal((BATCH, STEPS * FEATURES))
    y = to_host(net.forward(x, training=True))
    upstream = rng.standard_normal(y.shape)
    dx = to_host(net.backward(upstream, input_grad=True))

    module, torch_grads = _torch_twin(layer_type, params)
    tx = torch.tensor(x.reshape(BATCH, STEPS, FEATURES), requires_grad=True)
    sequence, _ = module(tx)
    ty = sequence if return_sequences else sequence[:, -1]
    (ty * torch.from_numpy(upstream)).sum().backward()

    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, tx.grad.numpy().reshape(BATCH, -1), rtol=1e-9, atol=1e-12)
    expected = torch_grads()
    assert set(expected) == set(net.parameters())
    for name, grad in expected.items():
        np.testing.assert_allclose(to_host(net.parameters()[name].grad), grad, rtol=1e-9, atol=1e-12, err_msg=name)


def test_lstm_float32_training_pass_matches_pytorch():
    """The float32 pass that trains (the MNIST-rows shape, smaller) agrees with PyTorch's to float32 precision."""
    rng = np.random.default_rng(1)
    spec = _spec("LSTM", False)
    net = engine.build(spec, seed=5)
    params = {name: to_host(p.value).astype(np.float64) for name, p in net.parameters().items()}
    x = rng.standard_normal((BATCH, STEPS * FEATURES)).astype(np.float32)
    y = to_host(net.forward(x, training=True))
    upstream = rng.standard_normal(y.shape).astype(np.float32)
    net.backward(upstream, input_grad=False)
    assert y.dtype == np.float32 and net.parameters()["rnn.kernel"].grad.dtype == np.float32
    module, torch_grads = _torch_twin("LSTM", params)
    sequence, _ = module(torch.tensor(x.reshape(BATCH, STEPS, FEATURES), dtype=torch.float64))
    (sequence[:, -1] * torch.from_numpy(upstream.astype(np.float64))).sum().backward()
    np.testing.assert_allclose(y, sequence[:, -1].detach().numpy(), rtol=1e-4, atol=1e-5)
    for name, grad in torch_grads().items():
        np.testing.assert_allclose(to_host(net.parameters()[name].grad), grad, rtol=1e-3, atol=1e-5, err_msg=name)
