"""The training loop: real MNIST accuracy, events, stop/pause/step, exact resume, NaN handling, early stopping."""

import threading

import numpy as np
import pytest

import engine
from engine.training import (
    LAST_CHECKPOINT,
    EpochEvent,
    FailedEvent,
    FinishedEvent,
    PausedEvent,
    SnapshotEvent,
    StepEvent,
    Trainer,
    TrainingConfig,
    TrainingData,
)
from tests.engine.specs import mlp


@pytest.fixture(scope="module")
def mnist_splits():
    return engine.datasets.prepare(engine.datasets.load("mnist"))


def softmax_regression():
    return {"nodes": [{"id": "input", "type": "Input", "shape": [1, 28, 28]}, {"id": "flatten", "type": "Flatten"},
                      {"id": "logits", "type": "Dense", "units": 10, "kernel_initializer": "zeros"}]}


def small_data(splits, n=600, n_val=200):
    return TrainingData(splits.train_images[:n], splits.train_labels[:n], splits.val_images[:n_val],
                        splits.val_labels[:n_val], "mnist")


def mlp_with_dropout():
    spec = mlp(hidden=32)
    spec["nodes"].insert(3, {"id": "drop", "type": "Dropout", "rate": 0.3})
    return spec


def test_softmax_regression_reaches_the_tutorial_accuracy_on_real_mnist(xp, mnist_splits):
    """The classic: gradient descent 0.5, 1,000 steps of 100 -> about 0.92 on the MNIST test set."""
    net = engine.build(softmax_regression())
    config = TrainingConfig(epochs=5, batch_size=100, optimizer={"name": "sgd", "lr": 0.5}, max_steps=1000)
    final = Trainer(net, TrainingData.from_splits(mnist_splits), config).run()
    assert isinstance(final, FinishedEvent) and final.reason == "max_steps" and final.step == 1000
    accuracy = engine.evaluate(net, mnist_splits.test_images, mnist_splits.test_labels).accuracy
    assert accuracy >= 0.91


def test_events_and_snapshots(xp, mnist_splits):
    events = []
    data = small_data(mnist_splits)
    config = TrainingConfig(epochs=2, batch_size=100, optimizer={"name": "adam", "lr": 1e-3}, snapshot_every_steps=4)
    net = engine.build(mlp(hidden=16))
    final = Trainer(net, data, config, callback=events.append).run()
    steps = [e for e in events if isinstance(e, StepEvent)]
    epochs = [e for e in events if isinstance(e, EpochEvent)]
    snapshots = [e for e in events if isinstance(e, SnapshotEvent)]
    assert [e.step for e in steps] == list(range(1, 13))
    assert [e.epoch for e in steps] == [0] * 6 + [1] * 6
    assert [(e.epoch, e.step) for e in epochs] == [(0, 6), (1, 12)]
    assert all(e.val_accuracy is not None and 0 <= e.val_accuracy <= 1 for e in epochs)
    assert all(isinstance(e.loss, float) and e.samples_per_second > 0 and e.learning_rate == 1e-3 for e in steps)
    assert [s.step for s in snapshots] == [4, 8, 12]
    weights = snapshots[0].weights["hidden.kernel"]
    assert isinstance(weights, np.ndarray)
    assert not np.array_equal(weights, snapshots[-1].weights["hidden.kernel"])  # copies, not live views
    assert final.reason == "completed" and events[-1] is final


def test_stop_and_learning_rate_change_between_steps(xp, mnist_splits):
    trainer = None
    seen = []

    def on_event(event):
        if isinstance(event, StepEvent):
            seen.append(event)
            if event.step == 2:
                trainer.set_learning_rate(0.05)
            if event.step == 5:
                trainer.request_stop()

    trainer = Trainer(engine.build(mlp(hidden=8)), small_data(mnist_splits),
                      TrainingConfig(epochs=5, batch_size=50, optimizer={"name": "sgd", "lr": 0.1}), on_event)
    final = trainer.run()
    assert final.reason == "stopped" and final.step == 5
    assert [e.learning_rate for e in seen] == [0.1, 0.1, 0.05, 0.05, 0.05]
    assert [e.learning_rate_changed for e in seen] == [False, False, True, False, False]
    assert trainer.learning_rate_changes == [{"step": 3, "lr": 0.05}]  # the first step to use it


def test_learning_rate_changes_are_kept_with_the_run_and_its_checkpoints(xp, mnist_splits, tmp_path):
    trainer = None

    def on_event(event):
        if isinstance(event, StepEvent) and event.step in (2, 4):
            trainer.set_learning_rate({2: 0.05, 4: 0.02}[event.step])

    trainer = Trainer(engine.build(mlp(hidden=8)), small_data(mnist_splits),
                      TrainingConfig(epochs=1, batch_size=50, optimizer={"name": "sgd", "lr": 0.1}, max_steps=6),
                      on_event)
    trainer.run()
    changes = [{"step": 3, "lr": 0.05}, {"step": 5, "lr": 0.02}]
    assert trainer.state()["learning_rate_changes"] == changes
    trainer.save_checkpoint(tmp_path / "run.llmodel")
    metadata = engine.load_checkpoint(tmp_path / "run.llmodel").metadata
    assert metadata["trainer"]["learning_rate_changes"] == changes
    resumed = Trainer.from_checkpoint(tmp_path / "run.llmodel", small_data(mnist_splits),
                                      config_overrides={"max_steps": 8})
    assert resumed.learning_rate_changes == changes and resumed.optimizer.learning_rate == pytest.approx(0.02)


def test_pause_single_step_and_resume_from_another_thread(xp, mnist_splits):
    steps = []
    pauses = []
    paused_at_three = threading.Event()
    trainer = None

    def on_event(event):
        if isinstance(event, PausedEvent):
            pauses.append(event.step)
        if isinstance(event, StepEvent):
            steps.append(event.step)
            if event.step == 3:
                trainer.request_pause()
                paused_at_three.set()

    trainer = Trainer(engine.build(mlp(hidden=8)), small_data(mnist_splits),
                      TrainingConfig(epochs=1, batch_size=100, optimizer={"name": "sgd", "lr": 0.1}), on_event)
    worker = threading.Thread(target=trainer.run)
    worker.start()
    assert paused_at_three.wait(10)
    worker.join(0.3)
    assert worker.is_alive() and steps == [1, 2, 3]  # paused: no further steps
    trainer.request_single_step()
    for _ in range(100):
        if len(steps) == 4:
            break
        threading.Event().wait(0.02)
    worker.join(0.2)
    assert steps == [1, 2, 3, 4] and trainer.paused
    trainer.resume()
    worker.join(10)
    assert not worker.is_alive() and steps == [1, 2, 3, 4, 5, 6]
    assert pauses == [3, 4]  # the pause took effect after step 3, and again after the single step


def test_resume_from_a_checkpoint_continues_exactly(xp, mnist_splits, tmp_path):
    """Weights, optimizer moments, schedule position, data order and dropout masks all continue exactly."""
    data = small_data(mnist_splits)
    optimizer = {"name": "adam", "lr": {"name": "exponential", "initial_learning_rate": 1e-2, "decay_steps": 5,
                                        "decay_rate": 0.5}}
    config = TrainingConfig(epochs=2, batch_size=64, optimizer=optimizer, seed=3)
    straight = engine.build(mlp_with_dropout(), seed=1)
    Trainer(straight, data, config).run()

    first_half = engine.build(mlp_with_dropout(), seed=1)
    interrupted = Trainer(first_half, data, TrainingConfig(**{**config.to_dict(), "max_steps": 7}))
    assert interrupted.run().reason == "max_steps"  # mid-epoch: 7 of 10 batches
    interrupted.save_checkpoint(tmp_path / "half.llmodel")
    resumed = Trainer.from_checkpoint(tmp_path / "half.llmodel", data, config_overrides={"max_steps": None})
    final = resumed.run()
    assert final.reason == "completed" and final.step == 20
    for name, value in straight.state_dict().items():
        np.testing.assert_array_equal(resumed.network.state_dict()[name], value, err_msg=name)


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_weights(xp, mnist_splits):
    events = []
    net = engine.build(mlp(hidden=16))
    config = TrainingConfig(epochs=3, batch_size=100, optimizer={"name": "sgd", "lr": 1e8})
    final = Trainer(net, small_data(mnist_splits), config, callback=events.append).run()
    assert isinstance(final, FailedEvent)
    assert "loss became" in final.message and "were kept" in final.message and "lower learning rate" in final.message
    good_steps = [e for e in events if isinstance(e, StepEvent)]
    assert final.step == len(good_steps)
    assert all(np.isfinite(v).all() for v in net.state_dict().values())


def test_early_stopping_keeps_the_best_weights_and_writes_checkpoints(xp, mnist_splits, tmp_path):
    events = []
    trainer = None

    def on_event(event):
        events.append(event)
        if isinstance(event, EpochEvent) and event.epoch == 0:
            trainer.set_learning_rate(1e-12)  # nothing more to learn: validation accuracy stalls

    net = engine.build(mlp(hidden=16))
    config = TrainingConfig(epochs=10, batch_size=100, optimizer={"name": "sgd", "lr": 0.1},
                            early_stopping_patience=2)
    trainer = Trainer(net, small_data(mnist_splits), config, on_event, checkpoint_dir=tmp_path)
    final = trainer.run()
    assert final.reason == "early_stopping" and final.epoch == 2
    assert "kept the best weights" in final.message
    assert [e.improved for e in events if isinstance(e, EpochEvent)] == [True, False, False]
    assert (tmp_path / "best.llmodel").exists() and (tmp_path / LAST_CHECKPOINT).exists()
    best = engine.load(tmp_path / "best.llmodel")
    for name, value in best.state_dict().items():
        np.testing.assert_array_equal(net.state_dict()[name], value)


def test_config_errors_name_the_field():
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1; received batch_size=0"):
        TrainingConfig(batch_size=0)
    with pytest.raises(ValueError, match="unknown training setting 'epoch'"):
        TrainingConfig.from_dict({"epoch": 3})
    assert TrainingConfig.from_dict(TrainingConfig(epochs=3).to_dict()) == TrainingConfig(epochs=3)


def test_profile_step_times_every_node(xp, mnist_splits):
    from tests.engine.specs import seed_cnn

    net = engine.build(seed_cnn())
    rows = engine.profile_step(net, mnist_splits.train_images[:16], mnist_splits.train_labels[:16], repeats=1)
    assert [r.id for r in rows] == net.order
    by_id = {r.id: r for r in rows}
    assert by_id["conv2"].forward_ms > 0 and by_id["conv2"].backward_ms > 0
    assert by_id["input"].backward_ms == 0  # nothing flows back into the data
    assert by_id["conv2"].total_ms > by_id["flatten"].total_ms


def test_an_unexpected_error_ends_the_run_in_words(xp, mnist_splits):
    data = small_data(mnist_splits)
    data.train_labels = np.full_like(data.train_labels, 12)  # no such class for a 10-way output
    final = Trainer(engine.build(mlp(hidden=8)), data, TrainingConfig(epochs=1, batch_size=50)).run()
    assert isinstance(final, FailedEvent)
    assert final.message == ("an unexpected error stopped training: labels must lie in [0, 9]; received values "
                             "from 12 to 12")
