"""The task's losses (issue 24): mean squared error and binary cross-entropy fused with a final sigmoid, their
gradients against finite differences (float64) and PyTorch, the heads they make, and the design rules."""

import numpy as np
import pytest

import engine
from engine.losses import mean_squared_error, sigmoid_binary_cross_entropy
from engine.output_head import OutputHead
from tests.engine.gradcheck import numeric_gradient
from tests.engine.task_specs import dense_autoencoder, sine_regressor

torch = pytest.importorskip("torch")


def test_mean_squared_error_gradient_matches_finite_differences(rng):
    predictions, targets = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    loss, grad = mean_squared_error(predictions, targets)
    assert float(loss) == pytest.approx(((predictions - targets) ** 2).mean())
    numeric = numeric_gradient(lambda: float(mean_squared_error(predictions, targets)[0]), predictions,
                               range(predictions.size))
    np.testing.assert_allclose(grad.reshape(-1), numeric, rtol=1e-6, atol=1e-9)


def test_sigmoid_cross_entropy_gradient_matches_finite_differences(rng):
    logits, targets = rng.normal(size=(4, 6)) * 3, rng.uniform(size=(4, 6))
    loss, grad = sigmoid_binary_cross_entropy(logits, targets)
    numeric = numeric_gradient(lambda: float(sigmoid_binary_cross_entropy(logits, targets)[0]), logits,
                               range(logits.size))
    np.testing.assert_allclose(grad.reshape(-1), numeric, rtol=1e-6, atol=1e-9)
    p = 1 / (1 + np.exp(-logits))
    np.testing.assert_allclose(grad, (p - targets) / logits.size, rtol=1e-12)  # (p - t) / size, as promised


def test_losses_match_torch(rng):
    outputs, targets = rng.normal(size=(5, 1, 4, 4)), rng.uniform(size=(5, 16))  # targets of another shape
    for ours, theirs in ((mean_squared_error, torch.nn.MSELoss()),
                         (sigmoid_binary_cross_entropy, torch.nn.BCEWithLogitsLoss())):
        loss, grad = ours(outputs, targets)
        scores = torch.tensor(outputs, requires_grad=True)
        reference = theirs(scores, torch.tensor(targets).reshape(scores.shape))
        reference.backward()
        assert float(loss) == pytest.approx(reference.item(), rel=1e-12)
        np.testing.assert_allclose(grad, scores.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_the_fused_cross_entropy_of_an_autoencoder_matches_torch_on_its_pre_activation():
    """The network's own loss and input gradient against BCEWithLogitsLoss on the final Dense's x @ W + b."""
    net = engine.build(dense_autoencoder(hidden=8), dtype="float64")
    head = net.output_head
    images = np.random.default_rng(0).uniform(size=(3, 1, 28, 28))
    scores = net.forward(images, training=True, pre_activation=head.fused)
    loss, dscores = head.loss(scores, head.targets(images, None))
    dx = net.backward(dscores)

    state = net.state_dict()
    x = torch.tensor(images, requires_grad=True)
    hidden = torch.relu(x.reshape(3, -1) @ torch.tensor(state["enc.kernel"]) + torch.tensor(state["enc.bias"]))
    code = hidden @ torch.tensor(state["code.kernel"]) + torch.tensor(state["code.bias"])
    hidden = torch.relu(code @ torch.tensor(state["dec.kernel"]) + torch.tensor(state["dec.bias"]))
    logits = hidden @ torch.tensor(state["pixels.kernel"]) + torch.tensor(state["pixels.bias"])
    reference = torch.nn.BCEWithLogitsLoss()(logits, x.detach().reshape(3, -1))
    reference.backward()
    assert float(loss) == pytest.approx(reference.item(), rel=1e-10)
    # (the target is x itself, detached: the gradient flows through the network only, as the trainer's does)
    np.testing.assert_allclose(dx, x.grad.numpy(), rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(head.outputs(scores), torch.sigmoid(logits).detach().numpy().reshape(3, 1, 28, 28),
                               rtol=1e-12)


@pytest.mark.parametrize("loss, kind, fused", [("mean_squared_error", "mse", False),
                                              ("binary_cross_entropy", "sigmoid_bce", True)])
def test_heads_of_networks_that_output_values(loss, kind, fused):
    net = engine.build(dense_autoencoder(loss=loss))
    head = net.output_head
    assert (head.kind, head.fused, head.classifier, head.reconstructs) == (kind, fused, False, True)
    assert head.loss_name == loss and head.target == "input" and head.node_id == "image"
    assert head.activation_node == ("pixels" if fused else "image")
    with pytest.raises(ValueError, match="for classifiers"):
        head.probabilities(np.zeros((1, 1, 28, 28), np.float32))
    with pytest.raises(ValueError, match="784 value"):
        head.loss(np.zeros((2, 1, 28, 28), np.float32), np.zeros((2, 10), np.float32))


def test_a_classifier_head_is_unchanged():
    head = OutputHead.for_node({"id": "out", "type": "Dense", "activation": "softmax"}, (10,))
    assert (head.kind, head.classifier, head.reconstructs, head.loss_name, head.target) == (
        "softmax", True, False, "cross_entropy", "labels")
    loss, grad = head.loss(np.zeros((2, 10), np.float32), np.array([1, 2]))
    assert float(loss) == pytest.approx(np.log(10), rel=1e-6)


def test_network_spec_carries_the_task_keys_and_model_files_keep_them(tmp_path):
    net = engine.build(sine_regressor())
    assert net.spec["loss"] == "mean_squared_error" and "target" not in net.spec
    assert "loss" not in engine.build({k: v for k, v in sine_regressor().items() if k != "loss"}).spec
    engine.save(engine.build(dense_autoencoder()), tmp_path / "ae.llmodel")
    loaded = engine.load(tmp_path / "ae.llmodel")
    assert (loaded.spec["loss"], loaded.spec["target"]) == ("binary_cross_entropy", "input")
    assert loaded.output_head.kind == "sigmoid_bce"


@pytest.mark.parametrize("key, value", [("loss", "hinge"), ("target", "labelz"), ("loss", 3)])
def test_unknown_task_values_are_refused_naming_the_key(key, value):
    spec = {**sine_regressor(), key: value}
    with pytest.raises(engine.SpecError, match=f"'{key}' must be one of") as caught:
        engine.infer_shapes(spec)
    assert caught.value.rule == key
    report = engine.infer_shapes(spec, collect_errors=True)  # the canvas: still shapes, and the problem
    assert [e.rule for e in report.errors] == [key] and report["y"].output_shape == (1,)


def _rules(spec):
    return [(e.node, e.rule) for e in engine.infer_shapes(spec, collect_errors=True).errors]


def test_design_problems_of_the_task_name_the_output_node():
    no_sigmoid = dense_autoencoder()
    no_sigmoid["nodes"][5]["activation"] = "relu"
    assert _rules(no_sigmoid) == [("image", "loss")]
    with pytest.raises(engine.SpecError, match="must end in a sigmoid"):
        engine.build(no_sigmoid)
    assert _rules({**dense_autoencoder(), "loss": "cross_entropy"}) == [("image", "loss")]
    wrong_size = dense_autoencoder()
    wrong_size["nodes"] = wrong_size["nodes"][:4] + [{"id": "out", "type": "Dense", "units": 10,
                                                      "activation": "sigmoid"}]
    assert _rules(wrong_size) == [("out", "target shape")]
    with pytest.raises(engine.SpecError, match="784 values"):
        engine.build(wrong_size)
    # A separate Activation sigmoid counts, and the output may be another shape of the same size.
    activation = dense_autoencoder(loss="binary_cross_entropy")
    activation["nodes"][5]["activation"] = "linear"
    activation["nodes"].insert(6, {"id": "sig", "type": "Activation", "activation": "sigmoid"})
    assert _rules(activation) == []
    assert engine.build(activation).output_head.activation_node == "sig"
    assert _rules(dense_autoencoder(loss="mean_squared_error")) == []


def test_data_fit_follows_the_task():
    mnist_like = ((1, 28, 28), 10, "MNIST")
    assert engine.data_fit_problem(engine.infer_shapes(dense_autoencoder()), *mnist_like) is None
    report = engine.infer_shapes(sine_regressor())
    assert engine.data_fit_problem(report, (1,), 0, "toy:sine", target_width=1) is None
    problem = engine.data_fit_problem(report, (1,), 0, "toy:sine", target_width=3)
    assert problem.node == "y" and "3 target values" in problem.message
    classifier = {k: v for k, v in sine_regressor().items() if k != "loss"}
    problem = engine.data_fit_problem(engine.infer_shapes(classifier), (1,), 0, "toy:sine", target_width=1)
    assert "no classes" in problem.message and "mean_squared_error" in problem.message
    assert engine.data_fit_problem(engine.infer_shapes(classifier), (1,), 2, "two classes") is None  # unchanged



def test_an_unknown_loss_is_the_one_problem_shown_not_what_the_default_loss_implies():
    spec = {"loss": "huber", "target": "input", "nodes": [{"id": "x", "type": "Input", "shape": [4]},
                                                          {"id": "y", "type": "Dense", "units": 4}]}
    report = engine.infer_shapes(spec, collect_errors=True)
    assert [(error.rule, error.node) for error in report.errors] == [("loss", None)]
    assert "'loss' must be one of" in str(report.errors[0]) and "huber" in str(report.errors[0])
