"""Training and evaluating networks that output values (issue 24): a dense autoencoder on real MNIST, a
denoising run whose targets stay clean, regression on toy:sine, ErrorEvaluation's figures, and the best epoch
chosen by the lowest validation loss."""

import numpy as np
import pytest

import engine
from engine.training import EpochEvent, FinishedEvent, StepEvent, Trainer, TrainingConfig, TrainingData
from tests.engine.task_specs import dense_autoencoder, sine_regressor


@pytest.fixture(scope="module")
def mnist_splits():
    return engine.datasets.prepare(engine.datasets.load("mnist"))


@pytest.fixture(scope="module")
def sine():
    data = engine.datasets.make_toy("sine", n=600, noise=0.05, seed=0)
    return data.points, data.labels


def test_toy_sine_is_a_regression_set():
    data = engine.datasets.make_toy("sine", n=50, noise=0.0, seed=3)
    assert data.points.shape == (50, 1) and data.labels.shape == (50, 1) and data.labels.dtype == np.float32
    assert data.num_classes == 0 and data.target_width == 1
    np.testing.assert_allclose(data.labels, np.sin(data.points), atol=1e-6)
    assert "sine" in engine.datasets.TOY_DATASETS and "sine" in engine.datasets.REGRESSION_TOY_DATASETS


def test_a_dense_autoencoder_learns_to_reconstruct_mnist(mnist_splits):
    images, labels = mnist_splits.train_images[:512], mnist_splits.train_labels[:512]
    data = TrainingData(images, labels, mnist_splits.val_images[:128], mnist_splits.val_labels[:128], "mnist")
    net = engine.build(dense_autoencoder(hidden=64), seed=0)
    before = engine.evaluate(net, mnist_splits.test_images[:500], mnist_splits.test_labels[:500])
    events = []
    config = TrainingConfig(epochs=4, batch_size=32, optimizer={"name": "adam", "lr": 3e-3})
    final = Trainer(net, data, config, callback=events.append).run()
    after = engine.evaluate(net, mnist_splits.test_images[:500], mnist_splits.test_labels[:500])
    assert isinstance(final, FinishedEvent) and final.reason == "completed"
    assert after.kind == "error" and after.accuracy is None
    assert after.loss < before.loss - 0.25 and after.mean_squared_error < 0.6 * before.mean_squared_error
    steps = [e for e in events if isinstance(e, StepEvent)]
    epochs = [e for e in events if isinstance(e, EpochEvent)]
    assert all(e.batch_accuracy is None and e.accuracy is None for e in steps)
    assert all(e.train_accuracy is None and e.val_accuracy is None and e.val_loss is not None for e in epochs)
    assert final.best_val_accuracy is None and final.best_val_loss == min(e.val_loss for e in epochs)
    assert np.mean([e.loss for e in steps[-16:]]) < np.mean([e.loss for e in steps[:4]]) - 0.2


def _identity_autoencoder(size: int = 784):
    """Input -> Flatten -> Dense 784 (its kernel the identity) -> Reshape: its output is exactly its input."""
    spec = {"loss": "mean_squared_error", "target": "input", "nodes": [
        {"id": "input", "type": "Input", "shape": [1, 28, 28]}, {"id": "flatten", "type": "Flatten"},
        {"id": "same", "type": "Dense", "units": size},
        {"id": "image", "type": "Reshape", "target_shape": [1, 28, 28]}]}
    net = engine.build(spec, dtype="float64")
    state = net.state_dict()
    state["same.kernel"] = np.eye(size)
    state["same.bias"] = np.zeros(size)
    net.load_state_dict(state)
    return net


def _first_loss(images, noise: float, seed: int = 0) -> float:
    net = _identity_autoencoder()
    losses = []
    config = TrainingConfig(epochs=1, batch_size=len(images), max_steps=1, input_noise=noise, seed=seed,
                            optimizer={"name": "sgd", "lr": 1e-9})
    Trainer(net, TrainingData(images, np.zeros(len(images), np.int64)), config,
            callback=lambda e: losses.append(e.loss) if isinstance(e, StepEvent) else None).run()
    return losses[0]


def test_input_noise_reaches_the_inputs_only(mnist_splits):
    """A network whose output is its input: with clean targets its loss is the noise that reached the input;
    were the noise added to the targets as well, the loss would be 0, as it is without noise."""
    images = mnist_splits.train_images[:64]
    assert _first_loss(images, 0.0) == pytest.approx(0.0, abs=1e-20)
    noisy = _first_loss(images, 0.3)
    # Gaussian noise of 0.3 clipped to [0, 1] on mostly-black pixels: about half of 0.09 survives.
    assert 0.02 < noisy < 0.09
    assert _first_loss(images, 0.3) == noisy  # seeded by the run...
    assert _first_loss(images, 0.3, seed=1) != noisy  # ...and by its seed


def test_a_denoising_autoencoder_is_validated_on_noisy_inputs_against_clean_targets(mnist_splits):
    """Validated on clean images, a denoising run's validation loss rose while its training loss fell (it learns
    the noisy images' statistics); the validation images get noise as the training ones do, the same each epoch."""
    images, validation = mnist_splits.train_images[:64], mnist_splits.val_images[:64]
    epochs = []
    config = TrainingConfig(epochs=2, batch_size=64, input_noise=0.3, optimizer={"name": "sgd", "lr": 1e-9})
    Trainer(_identity_autoencoder(), TrainingData(images, np.zeros(64, np.int64), validation, np.zeros(64, np.int64)),
            config, callback=lambda e: epochs.append(e) if isinstance(e, EpochEvent) else None).run()
    first, second = (event.val_loss for event in epochs)
    assert 0.02 < first < 0.09  # the noise that reached the inputs (an identity network: clean would give 0)
    assert second == pytest.approx(first, rel=1e-6)  # the same noisy images each epoch
    clean = engine.evaluate(_identity_autoencoder(), validation, None)
    assert clean.loss == pytest.approx(0.0, abs=1e-20)  # evaluate itself reads clean images unless told


def test_a_denoising_run_resumes_exactly(mnist_splits, tmp_path):
    data = TrainingData(mnist_splits.train_images[:96], mnist_splits.train_labels[:96])
    config = TrainingConfig(epochs=2, batch_size=32, input_noise=0.2, seed=5)
    straight = engine.build(dense_autoencoder(hidden=16), seed=1)
    Trainer(straight, data, config).run()
    first = Trainer(engine.build(dense_autoencoder(hidden=16), seed=1), data, TrainingConfig(
        epochs=1, batch_size=32, input_noise=0.2, seed=5))
    first.run()
    first.save_checkpoint(tmp_path / "half.llmodel")
    resumed = Trainer.from_checkpoint(tmp_path / "half.llmodel", data, config_overrides={"epochs": 2})
    resumed.run()
    for name, value in straight.state_dict().items():
        np.testing.assert_array_equal(resumed.network.state_dict()[name], value, err_msg=name)


def test_input_noise_is_checked():
    with pytest.raises(ValueError, match="input_noise must be a number >= 0"):
        TrainingConfig(input_noise=-0.1)
    assert TrainingConfig.from_dict(TrainingConfig(input_noise=0.5).to_dict()).input_noise == 0.5


def test_regression_on_toy_sine_and_its_evaluation(sine):
    points, targets = sine
    net = engine.build(sine_regressor(), seed=0)
    config = TrainingConfig(epochs=40, batch_size=32, optimizer={"name": "adam", "lr": 1e-2})
    final = Trainer(net, TrainingData(points[:450], targets[:450]), config).run()
    assert final.reason == "completed"
    result = engine.evaluate(net, points[450:], targets[450:])
    assert isinstance(result, engine.ErrorEvaluation) and result.kind == "error" and result.accuracy is None
    assert result.mean_squared_error < 0.01  # the noise alone is 0.0025
    # The figures, by hand.
    outputs = net.predict(points[450:]).astype(np.float64)
    error = outputs - targets[450:]
    assert result.mean_squared_error == pytest.approx((error ** 2).mean(), rel=1e-5)
    assert result.loss == pytest.approx((error ** 2).mean(), rel=1e-5)  # the training loss: the MSE itself
    assert result.mean_absolute_error == pytest.approx(np.abs(error).mean(), rel=1e-5)
    np.testing.assert_allclose(result.example_errors(), (error ** 2).mean(axis=1), rtol=1e-5)
    assert list(result.worst(3)) == list(np.argsort(-(error ** 2)[:, 0])[:3])
    assert result.summary() == {"loss": result.loss, "mean_squared_error": result.mean_squared_error,
                                "mean_absolute_error": result.mean_absolute_error, "examples": 150}
    assert result.outputs.shape == result.targets.shape == (150, 1) and result.labels.shape == (150, 1)


def test_an_autoencoder_evaluation_by_hand(mnist_splits):
    net = engine.build(dense_autoencoder(hidden=16), seed=2)
    images, labels = mnist_splits.test_images[:300], mnist_splits.test_labels[:300]
    result = engine.evaluate(net, images, labels, batch_size=128)
    p = net.predict(images).astype(np.float64)  # the sigmoid's outputs, 1x28x28
    t = images.astype(np.float64)
    bce = -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean()
    assert result.loss == pytest.approx(bce, rel=1e-4)
    assert result.mean_squared_error == pytest.approx(((p - t) ** 2).mean(), rel=1e-5)
    assert result.mean_absolute_error == pytest.approx(np.abs(p - t).mean(), rel=1e-5)
    np.testing.assert_allclose(result.outputs, p, rtol=1e-5)
    np.testing.assert_array_equal(result.targets, images)
    assert result.labels is labels or np.array_equal(result.labels, labels)
    assert engine.evaluate(net, images[:10], None).labels is None  # an autoencoder needs no labels
    with pytest.raises(ValueError, match="labels are needed"):
        engine.evaluate(engine.build(sine_regressor()), np.zeros((3, 1), np.float32), None)


def test_the_best_epoch_of_a_regression_is_its_lowest_validation_loss(sine, tmp_path):
    points, targets = sine
    data = TrainingData(points[:300], targets[:300], points[300:400], targets[300:400])
    events = []
    # A rate too high for the last epochs: the validation loss goes up and down.
    config = TrainingConfig(epochs=12, batch_size=50, optimizer={"name": "sgd", "lr": 0.3},
                            early_stopping_patience=3)
    net = engine.build(sine_regressor(hidden=8), seed=0)
    final = Trainer(net, data, config, callback=events.append, checkpoint_dir=tmp_path).run()
    epochs = [e for e in events if isinstance(e, EpochEvent)]
    losses = [e.val_loss for e in epochs]
    improved = [losses[i] < min(losses[:i], default=np.inf) for i in range(len(losses))]
    assert [e.improved for e in epochs] == improved
    assert final.best_val_loss == min(losses) and final.best_val_accuracy is None
    if final.reason == "early_stopping":
        assert "lower validation loss" in final.message and "validation loss" in final.message.split(";")[-1]
    # The network keeps the best weights (early stopping is on), and best.llmodel holds them.
    assert engine.evaluate(net, points[300:400], targets[300:400]).loss == pytest.approx(min(losses), rel=1e-5)
    best = engine.load(tmp_path / "best.llmodel")
    assert engine.evaluate(best, points[300:400], targets[300:400]).loss == pytest.approx(min(losses), rel=1e-5)


def test_the_tensorboard_log_of_a_regression_has_losses_and_no_accuracy(sine, tmp_path):
    pytest.importorskip("tensorboardX")
    from engine.export.tensorboard_log import TensorBoardLogger
    from tests.engine.export import tensorboard_events as tb

    points, targets = sine
    net = engine.build(sine_regressor(hidden=8))
    logger = TensorBoardLogger(tmp_path, net, settings={"dataset": "toy:sine"})
    config = TrainingConfig(epochs=2, batch_size=50, snapshot_every_steps=None)
    final = Trainer(net, TrainingData(points[:100], targets[:100], points[100:150], targets[100:150]), config,
                    callback=logger).run()
    assert final.reason == "completed"
    found = tb.scalars(tb.read_run(logger.run_dir))
    assert len(found["train/loss"]) == 4 and len(found["epoch/val_loss"]) == 2
    assert not [tag for tag in found if "accuracy" in tag]
