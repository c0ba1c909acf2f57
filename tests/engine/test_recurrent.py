"""SimpleRNN, LSTM and GRU: backpropagation through time against finite differences (float64), shapes and the
refusal of non-sequence inputs, the initial weights, the kept hidden states and a save/load round trip.
The cross-checks against PyTorch are in test_recurrent_torch.py."""

import numpy as np
import pytest

import engine
from engine.backend import to_host
from engine.layers import LAYER_CLASSES
from tests.engine.gradcheck import check_network_gradients

TYPES = ["SimpleRNN", "LSTM", "GRU"]


def _spec(layer_type, return_sequences=False, steps=4, features=3, units=3, then=(), **extra):
    return {"format": "layerlab-network", "version": 1, "name": f"{layer_type.lower()}-check", "nodes": [
        {"id": "input", "type": "Input", "shape": [1, steps, features]},
        {"id": "steps", "type": "Reshape", "target_shape": [steps, features]},
        {"id": "rnn", "type": layer_type, "units": units, "return_sequences": return_sequences,
         "bias_initializer": {"name": "random_normal", "stddev": 0.5}, **extra}, *then]}


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("layer_type", TYPES)
def test_every_parameter_and_the_input_match_finite_differences(layer_type, return_sequences):
    check_network_gradients(_spec(layer_type, return_sequences), batch=2, seed=4)


def test_gradients_through_a_stack_and_a_relu_rnn():
    """A sequence-returning layer feeding another (the gradient of every step flows back), then a classifier."""
    spec = _spec("GRU", True, then=[{"id": "rnn2", "type": "SimpleRNN", "units": 2, "activation": "relu"},
                                    {"id": "lstm", "type": "Reshape", "target_shape": [2, 1]},
                                    {"id": "rnn3", "type": "LSTM", "units": 2},
                                    {"id": "logits", "type": "Dense", "units": 2}])
    check_network_gradients(spec, batch=3, seed=1)


@pytest.mark.parametrize("layer_type, gates", [("SimpleRNN", 1), ("LSTM", 4), ("GRU", 3)])
def test_shapes_and_parameter_counts_follow_keras(layer_type, gates):
    last = engine.infer_shapes(_spec(layer_type, steps=28, features=28, units=128))
    every = engine.infer_shapes(_spec(layer_type, True, steps=28, features=28, units=128))
    assert last["rnn"].output_shape == (128,) and every["rnn"].output_shape == (28, 128)
    width = gates * 128
    recurrent_bias = width if layer_type == "GRU" else 0  # Keras's GRU(reset_after=True) has two biases
    assert last["rnn"].params == 28 * width + 128 * width + width + recurrent_bias
    assert last["rnn"].flops > 2 * 28 * 28 * width


@pytest.mark.parametrize("layer_type", TYPES)
@pytest.mark.parametrize("input_shape, fix", [([1, 28, 28], "add a Reshape to [28, 28] before it"),
                                              ([3, 8, 5], "add a Reshape to [24, 5] before it"),
                                              ([784], "add a Reshape to [steps, features] before it")])
def test_an_input_that_is_not_a_sequence_is_refused_naming_node_rule_and_fix(layer_type, input_shape, fix):
    spec = {"nodes": [{"id": "input", "type": "Input", "shape": input_shape},
                      {"id": "rnn", "type": layer_type, "units": 8}]}
    with pytest.raises(engine.SpecError) as caught:
        engine.infer_shapes(spec)
    error = caught.value
    assert error.node == "rnn" and error.rule == "input must be a sequence"
    received = "x".join(map(str, input_shape))
    assert str(error) == f"rnn: {layer_type} reads a sequence (steps x features); received {received}: {fix}"


@pytest.mark.parametrize("field, value", [("units", 0), ("return_sequences", 1), ("recurrent_initializer", "orth")])
def test_bad_settings_name_the_node_and_field(field, value):
    spec = _spec("LSTM", **{field: value})
    with pytest.raises(engine.SpecError) as caught:
        engine.infer_shapes(spec)
    assert caught.value.node == "rnn" and field in str(caught.value)


def test_initial_weights_as_keras_orthogonal_recurrent_kernel_and_forget_bias_one():
    spec = _spec("LSTM", units=5)
    spec["nodes"][2].pop("bias_initializer")
    params = {name: to_host(p.value) for name, p in engine.build(spec, seed=2).parameters().items()}
    recurrent = params["rnn.recurrent_kernel"].astype(np.float64)  # (5, 20): orthonormal rows
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(5), atol=1e-6)
    np.testing.assert_array_equal(params["rnn.bias"], np.r_[np.zeros(5), np.ones(5), np.zeros(10)])
    without = engine.build(_spec("LSTM", units=5, unit_forget_bias=False,
                                 bias_initializer="zeros"), seed=2).parameters()["rnn.bias"].value
    assert not to_host(without).any()
    assert [name for name, f in LAYER_CLASSES["GRU"].fields.items()] == [
        "units", "return_sequences", "kernel_initializer", "recurrent_initializer", "bias_initializer"]


def test_orthogonal_initializer_follows_keras():
    init = engine.initializers.get({"name": "orthogonal", "gain": 2.0})
    tall = init((12, 4), 12, 4, np.random.default_rng(0), np.float64)
    np.testing.assert_allclose(tall.T @ tall, 4 * np.eye(4), atol=1e-12)
    again = init((12, 4), 12, 4, np.random.default_rng(0), np.float64)
    np.testing.assert_array_equal(tall, again)  # seeded by the generator given
    assert init.get_config() == {"name": "orthogonal", "gain": 2.0}


@pytest.mark.parametrize("layer_type", TYPES)
def test_hidden_states_of_every_step_are_kept_for_the_activations_view(layer_type):
    net = engine.build(_spec(layer_type, steps=6, units=5, then=[{"id": "logits", "type": "Dense", "units": 2}]))
    assert net.hidden_states("rnn") is None  # before any pass
    x = np.random.default_rng(0).standard_normal((3, 1, 6, 3)).astype(np.float32)
    outputs = net.forward(x, return_all=True)
    states = net.hidden_states("rnn")
    assert isinstance(states, np.ndarray) and states.shape == (3, 6, 5)
    np.testing.assert_array_equal(states[:, -1], to_host(outputs["rnn"]))  # the last step is the output
    assert net.hidden_states("logits") is None and net.hidden_states("steps") is None
    net.predict(x[:1])  # a one-image inference pass keeps them too
    assert net.hidden_states("rnn").shape == (1, 6, 5)


def test_a_model_with_an_lstm_survives_save_and_load(tmp_path):
    spec = _spec("LSTM", then=[{"id": "logits", "type": "Dense", "units": 2}])
    net = engine.build(spec, seed=9)
    x = np.random.default_rng(0).standard_normal((4, 1, 4, 3)).astype(np.float32)
    path = engine.save(net, tmp_path / "lstm.layerlab")
    loaded = engine.load(path)
    assert loaded.spec["nodes"][2] == net.spec["nodes"][2]
    assert loaded.spec["nodes"][2]["unit_forget_bias"] is True
    np.testing.assert_array_equal(to_host(loaded.predict(x)), to_host(net.predict(x)))


@pytest.fixture(params=["whole", "halves", "overlap"])
def lstm_batch_path(request, monkeypatch):
    """Runs the fast LSTM on the whole batch, cut in two halves on two threads, or whole with backward's
    sequence products on a second thread beside the step loop, whatever the machine."""
    from engine.ops import dispatch

    monkeypatch.setitem(dispatch.RULES, "lstm batch", (dispatch.Rule(request.param, dispatch.always),))
    return request.param


def test_the_overlap_path_hands_backwards_products_to_a_second_thread(monkeypatch):
    """With the "overlap" rule, backward runs the step loop and the chunks' products as two pieces side by side
    (engine.parallel.run_pieces), and the chunks cover every step once: the result is the reference's."""
    from engine.ops import dispatch, recurrent, recurrent_fast

    monkeypatch.setitem(dispatch.RULES, "lstm batch", (dispatch.Rule("overlap", dispatch.always),))
    handed = []
    real_run_pieces = recurrent_fast.run_pieces

    def recording_run_pieces(work, pieces):
        handed.append(list(pieces))
        real_run_pieces(work, pieces)

    monkeypatch.setattr(recurrent_fast, "run_pieces", recording_run_pieces)
    rng = np.random.default_rng(4)
    steps = 2 * recurrent_fast.OVERLAP_CHUNK_STEPS  # whole chunks only (the test above has a partial one)
    x = rng.standard_normal((3, steps, 2))
    kernel, recurrent_kernel, bias = rng.standard_normal((2, 8)), rng.standard_normal((2, 8)), rng.standard_normal(8)
    hs, saved = recurrent.lstm_forward(x, kernel, recurrent_kernel, bias)
    _, fast_saved = recurrent_fast.lstm_forward(x, kernel, recurrent_kernel, bias)
    dhs = rng.standard_normal(hs.shape)
    dx, grads = recurrent.lstm_backward(dhs, saved)
    fast_dx, fast_grads = recurrent_fast.lstm_backward(dhs, fast_saved)
    assert ["loop", "products"] in handed
    np.testing.assert_allclose(fast_dx, dx, rtol=1e-12, atol=1e-12)
    for name, grad in grads.items():
        np.testing.assert_allclose(fast_grads[name], grad, rtol=1e-12, atol=1e-11, err_msg=name)


@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_the_fast_lstm_the_layer_runs_matches_the_reference(dtype, tolerance, return_sequences, lstm_batch_path):
    """Gate-major, one tanh for the four gates, the halves' gradients summed, kept buffers reused on a second
    pass with other data: every output and gradient as the reference's (engine.ops.recurrent)."""
    from engine.ops import recurrent, recurrent_fast
    from engine.ops.workspace import Workspace

    rng = np.random.default_rng(3)
    workspace = Workspace()
    for _ in range(2):
        x = rng.standard_normal((5, 7, 3)).astype(dtype)
        kernel = rng.standard_normal((3, 16)).astype(dtype)
        recurrent_kernel = rng.standard_normal((4, 16)).astype(dtype)
        bias = rng.standard_normal(16).astype(dtype)
        hs, saved = recurrent.lstm_forward(x, kernel, recurrent_kernel, bias)
        fast_hs, fast_saved = recurrent_fast.lstm_forward(x, kernel, recurrent_kernel, bias, workspace)
        assert len(fast_saved) == (2 if lstm_batch_path == "halves" else 1)
        np.testing.assert_allclose(fast_hs, hs, rtol=tolerance, atol=tolerance)
        dhs = rng.standard_normal(hs.shape).astype(dtype)
        if not return_sequences:
            dhs[:-1] = 0
        dx, grads = recurrent.lstm_backward(dhs, saved)
        fast_dx, fast_grads = recurrent_fast.lstm_backward(dhs if return_sequences else dhs[-1], fast_saved)
        assert fast_dx.dtype == dtype and fast_dx.shape == x.shape
        np.testing.assert_allclose(fast_dx, dx, rtol=tolerance, atol=tolerance)
        for name, grad in grads.items():
            np.testing.assert_allclose(fast_grads[name], grad, rtol=tolerance, atol=tolerance * 10, err_msg=name)


@pytest.mark.parametrize("return_sequences", [False, True])
def test_the_lstm_layer_in_halves_matches_finite_differences(return_sequences, lstm_batch_path):
    check_network_gradients(_spec("LSTM", return_sequences), batch=4, seed=5)
