"""A final softmax (or single sigmoid) with cross-entropy is fused (issue 18): the loss reads the pre-activation,
the probabilities shown are the layer's own output, and training matches the same network ending in logits."""

import copy

import numpy as np
import pytest

import engine
from engine import backend
from engine.training import StepEvent, Trainer, TrainingConfig, TrainingData
from tests.engine.gradcheck import ATOL, RTOL, numeric_gradient, sample_indices
from tests.engine.specs import mlp

STEPS = 20


@pytest.fixture(scope="module")
def mnist_splits():
    return engine.datasets.prepare(engine.datasets.load("mnist"))


def with_last_activation(spec, activation, units=None):
    """``spec`` with its last Dense's activation (and, if given, its units) replaced."""
    spec = copy.deepcopy(spec)
    spec["nodes"][-1]["activation"] = activation
    if units is not None:
        spec["nodes"][-1]["units"] = units
    return spec


def small_mlp(units=10, activation=None):
    return with_last_activation(mlp(hidden=16), activation, units)


def train(spec, data, steps=STEPS):
    """A float64 network trained ``steps`` Adam steps with seed 0; returns it and its step events."""
    net = engine.build(spec, seed=0, dtype="float64")
    events = []
    config = TrainingConfig(epochs=100, batch_size=32, max_steps=steps, optimizer={"name": "adam", "lr": 1e-2},
                            snapshot_every_steps=None)
    Trainer(net, data, config, callback=events.append).run()
    return net, [event for event in events if isinstance(event, StepEvent)]


def zeros_and_ones(splits, count=400):
    keep = np.flatnonzero(splits.train_labels < 2)[:count]
    return TrainingData(splits.train_images[keep], splits.train_labels[keep], name="mnist 0/1")


# -- which head a network has ---------------------------------------------------------------------------------

CONV_SOFTMAX = {"nodes": [{"id": "in", "type": "Input", "shape": [1, 4, 4]},
                          {"id": "out", "type": "Conv2D", "filters": 3, "kernel_size": 4, "activation": "softmax"}]}
ACTIVATION_SOFTMAX = {"nodes": [{"id": "in", "type": "Input", "shape": [5]}, {"id": "fc", "type": "Dense", "units": 4},
                                {"id": "out", "type": "Activation", "activation": "softmax"}]}


@pytest.mark.parametrize("spec, kind, classes", [
    (small_mlp(10, "softmax"), "softmax", 10),
    (small_mlp(10, None), "logits", 10),
    (small_mlp(10, "relu"), "logits", 10),
    (small_mlp(3, "sigmoid"), "logits", 3),
    (small_mlp(1, "sigmoid"), "sigmoid", 2),
    (small_mlp(1, None), "binary_logit", 2),
    (small_mlp(1, "tanh"), "binary_logit", 2),
    (ACTIVATION_SOFTMAX, "softmax", 4),
    (CONV_SOFTMAX, "softmax", 3),
], ids=["softmax", "logits", "relu", "sigmoid-over-3", "sigmoid-1", "logit-1", "tanh-1", "Activation-node", "conv"])
def test_the_head_is_read_from_the_last_node(spec, kind, classes):
    head = engine.build(spec).output_head
    assert (head.kind, head.classes, head.fused) == (kind, classes, kind in ("softmax", "sigmoid"))
    output_shape = engine.infer_shapes(spec).output_shape
    if len(output_shape) == 1:  # a data set's classes fit it as the head reads it
        assert engine.data_fit.outputs_fit_classes(output_shape, classes)


# -- training: a softmax output learns exactly what logits learn ------------------------------------------------

def train_both(logits_spec, fused_spec, data):
    """Both networks trained alike; asserts they end with the same weights, losses and accuracies."""
    logits_net, logits_steps = train(logits_spec, data)
    fused_net, fused_steps = train(fused_spec, data)
    for name, value in logits_net.state_dict().items():
        np.testing.assert_allclose(fused_net.state_dict()[name], value, rtol=1e-10, atol=1e-12, err_msg=name)
    assert [e.loss for e in fused_steps] == pytest.approx([e.loss for e in logits_steps], rel=1e-10)
    assert [e.batch_accuracy for e in fused_steps] == [e.batch_accuracy for e in logits_steps]
    assert logits_steps[-1].loss < logits_steps[0].loss  # they did learn
    return logits_net, fused_net, fused_steps


def test_a_softmax_output_trains_to_the_weights_of_a_logits_output(xp, mnist_splits):
    data = TrainingData(mnist_splits.train_images[:640], mnist_splits.train_labels[:640], name="mnist")
    logits_net, softmax_net, _ = train_both(small_mlp(10, None), small_mlp(10, "softmax"), data)
    x = mnist_splits.test_images[:50]
    probabilities = backend.to_host(softmax_net.forward(x))
    np.testing.assert_allclose(probabilities, backend.to_host(engine.ops.softmax(logits_net.forward(x))),
                               rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-12)


def test_a_single_sigmoid_output_trains_to_the_weights_of_a_single_logit(xp, mnist_splits):
    data = zeros_and_ones(mnist_splits)
    logit_net, sigmoid_net, sigmoid_steps = train_both(small_mlp(1, None), small_mlp(1, "sigmoid"), data)
    assert sigmoid_steps[-1].batch_accuracy > 0.9  # 0 against 1 is easy: the accuracy reads p > 0.5 as class 1
    x = data.train_images[:50]
    chance = backend.to_host(sigmoid_net.forward(x))
    logit = backend.to_host(logit_net.forward(x))
    np.testing.assert_allclose(chance, 1 / (1 + np.exp(-logit)), rtol=1e-10, atol=1e-14)
    probabilities = sigmoid_net.output_head.probabilities(chance)
    np.testing.assert_array_equal(probabilities, np.concatenate([1 - chance, chance], axis=1))


# -- the fused loss's gradient: finite differences and PyTorch ---------------------------------------------------

FUSED_SPECS = {"softmax": small_mlp(4, "softmax"), "sigmoid": small_mlp(1, "sigmoid"),
               "Activation-node": ACTIVATION_SOFTMAX, "conv": CONV_SOFTMAX}


def fused_pass(net, x, labels):
    """(loss, d loss / d input) of the network's head, every parameter's grad set."""
    head = net.output_head
    scores = net.forward(x, training=True, pre_activation=head.fused)
    loss, dscores = head.loss(scores, labels)
    return float(loss), net.backward(dscores)


@pytest.mark.parametrize("name", FUSED_SPECS)
def test_the_fused_loss_gradient_matches_finite_differences(xp, name):
    net = engine.build(FUSED_SPECS[name], seed=3, dtype="float64")
    rng = np.random.default_rng(0)
    x = xp.asarray(rng.standard_normal((3,) + tuple(net.input_shape)))
    labels = rng.integers(0, net.output_head.classes, 3)
    _, dx = fused_pass(net, x, labels)
    checks = {"input": (x, dx)}
    checks.update({name: (p.value, p.grad.copy()) for name, p in net.parameters().items()})

    def loss():
        head = net.output_head
        return float(head.loss(net.forward(x, training=True, pre_activation=True), labels)[0])

    for key, (array, grad) in checks.items():
        indices = sample_indices(array.size, rng)
        numeric = numeric_gradient(loss, array, indices)
        np.testing.assert_allclose(backend.to_host(grad).reshape(-1)[indices], numeric, rtol=RTOL, atol=ATOL,
                                   err_msg=f"gradient of {key} in {name}")
    # The fused loss is the cross-entropy of the probabilities the layer outputs.
    probabilities = backend.to_host(net.output_head.probabilities(net.forward(x)))
    assert loss() == pytest.approx(-np.log(probabilities[np.arange(3), labels]).mean(), rel=1e-12)


@pytest.mark.parametrize("name", ["softmax", "sigmoid", "Activation-node"])
def test_the_fused_loss_matches_pytorch_cross_entropy_of_the_logits(name):
    torch = pytest.importorskip("torch")
    from tests.engine.torch_oracle import to_numpy, torch_forward, torch_parameters

    spec = FUSED_SPECS[name]
    net = engine.build(spec, seed=5, dtype="float64")
    logits_spec = copy.deepcopy(spec)  # the same network ending before its softmax / sigmoid
    if name == "Activation-node":
        logits_spec["nodes"] = logits_spec["nodes"][:-1]
    else:
        logits_spec["nodes"][-1]["activation"] = None
    logits_net = engine.build(logits_spec, dtype="float64")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4,) + tuple(net.input_shape))
    labels = rng.integers(0, net.output_head.classes, 4)
    loss, dx = fused_pass(net, x, labels)

    params = torch_parameters(net)
    x_t = torch.tensor(x, requires_grad=True)
    logits_t = torch_forward(logits_net, x_t, params)
    if name == "sigmoid":
        loss_t = torch.nn.functional.binary_cross_entropy_with_logits(logits_t[:, 0], torch.tensor(labels * 1.0))
        shown_t = torch.sigmoid(logits_t)
    else:
        loss_t = torch.nn.functional.cross_entropy(logits_t, torch.tensor(labels))
        shown_t = torch.softmax(logits_t, dim=1)
    loss_t.backward()
    assert loss == pytest.approx(loss_t.item(), rel=1e-12)
    np.testing.assert_allclose(backend.to_host(dx), to_numpy(x_t.grad), rtol=1e-9, atol=1e-13)
    for key, p in net.parameters().items():
        np.testing.assert_allclose(backend.to_host(p.grad), to_numpy(params[key].grad), rtol=1e-9, atol=1e-13,
                                   err_msg=key)
    np.testing.assert_allclose(backend.to_host(net.forward(x)), to_numpy(shown_t), rtol=1e-12, atol=1e-15)


# -- evaluation, large logits, one image -------------------------------------------------------------------------

def test_evaluate_shows_the_layers_own_output_and_the_loss_of_its_logits(xp, mnist_splits):
    x, labels = mnist_splits.test_images[:300], mnist_splits.test_labels[:300]
    softmax_net = engine.build(small_mlp(10, "softmax"), seed=2)
    logits_net = engine.build(small_mlp(10, None), seed=2)
    result = engine.evaluate(softmax_net, x, labels, batch_size=128)
    np.testing.assert_allclose(result.probabilities, backend.to_host(softmax_net.forward(x)), rtol=1e-6, atol=1e-7)
    expected = engine.evaluate(logits_net, x, labels, batch_size=128)
    assert result.loss == pytest.approx(expected.loss, rel=1e-5)
    assert result.loss == pytest.approx(np.log(10), rel=0.2)  # untrained: about uniform, not log(10) of probabilities
    np.testing.assert_array_equal(result.predictions, expected.predictions)

    binary = engine.build(small_mlp(1, "sigmoid"), seed=2)
    result = engine.evaluate(binary, x, labels % 2)
    chance = backend.to_host(binary.forward(x))[:, 0]
    np.testing.assert_allclose(result.probabilities, np.stack([1 - chance, chance], axis=1), rtol=1e-6, atol=1e-7)
    assert result.confusion.shape == (2, 2)
    np.testing.assert_array_equal(result.predictions, (chance > 0.5).astype(int))


@pytest.mark.parametrize("activation, units", [("softmax", 2), (None, 2), ("sigmoid", 1)])
def test_logits_of_ten_thousand_keep_the_loss_finite(xp, activation, units):
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [2]},
                      {"id": "out", "type": "Dense", "units": units, "activation": activation, "use_bias": False}]}
    net = engine.build(spec, dtype="float64")
    kernel = [[1e4, -1e4], [-1e4, 1e4]] if units == 2 else [[1e4], [-1e4]]
    net.parameters()["out.kernel"].value[...] = xp.asarray(kernel)
    x = np.array([[1.0, 0.0], [0.0, 1.0]])  # scores +-1e4: for two units (1e4, -1e4) and (-1e4, 1e4)
    labels = np.array([1, 0]) if units == 2 else np.array([0, 1])  # both confidently wrong
    loss, dx = fused_pass(net, x, labels)
    expected = 2e4 if units == 2 else 1e4
    assert loss == pytest.approx(expected)
    assert np.isfinite(backend.to_host(dx)).all()
    assert all(np.isfinite(backend.to_host(p.grad)).all() for p in net.parameters().values())
    assert engine.evaluate(net, x, labels).loss == pytest.approx(expected)


def test_one_image_reads_the_layers_own_output_after_a_training_pass():
    for spec in (small_mlp(10, "softmax"), ACTIVATION_SOFTMAX):
        net = engine.build(spec, seed=1)
        batch = np.random.default_rng(0).standard_normal((4,) + tuple(net.input_shape)).astype(np.float32)
        fused_pass(net, batch, np.arange(4) % net.output_head.classes)  # leaves the last layer set to skip its softmax
        one = net.forward(batch[:1])  # the compiled one-image plan
        layered = net.forward(batch[:1], keep_for_backward=True)
        np.testing.assert_allclose(one, layered, rtol=1e-5, atol=1e-7)
        assert one.sum() == pytest.approx(1.0, rel=1e-5) and (one > 0).all()


def test_single_output_labels_must_be_zero_or_one():
    head = engine.build(small_mlp(1, "sigmoid")).output_head
    with pytest.raises(ValueError, match="labels must be 0 or 1; received values from 0 to 7"):
        head.loss(np.zeros((2, 1), dtype=np.float32), np.array([0, 7]))
