"""A training run in its own process (or thread): signals carry copies, steps are batched, pause/step/resume/stop,
NaN, a dead process, clean shutdown."""

import numpy as np
import pytest

import engine
from app.training.worker import TrainingJob, TrainingSession
from engine.training import TrainingConfig, TrainingData


@pytest.fixture(scope="module")
def data():
    splits = engine.datasets.prepare(engine.datasets.load("mnist"))
    return TrainingData(splits.train_images[:2000], splits.train_labels[:2000], splits.val_images[:500],
                        splits.val_labels[:500], "mnist")


def mlp():
    return {"nodes": [{"id": "input", "type": "Input", "shape": [1, 28, 28]}, {"id": "flatten", "type": "Flatten"},
                      {"id": "hidden", "type": "Dense", "units": 32, "activation": "relu"},
                      {"id": "logits", "type": "Dense", "units": 10}]}


@pytest.fixture
def session_for(data):
    """Makes sessions, and makes sure none is left running when the test ends, whatever happened."""
    sessions = []

    def make(mode="process", spec=None, **settings):
        config = TrainingConfig(**{"epochs": 2, "batch_size": 50, "optimizer": {"name": "adam", "lr": 1e-3},
                                   "snapshot_every_steps": 20, **settings})
        sessions.append(TrainingSession(TrainingJob(spec or mlp(), 0, "numpy", config, data), mode=mode))
        return sessions[-1]

    yield make
    for session in sessions:
        assert session.shutdown(timeout_ms=10_000)


@pytest.mark.parametrize("mode", ["process", "thread"])
def test_a_short_run_reports_batched_steps_epochs_snapshots_and_finishes(qtbot, session_for, mode):
    session = session_for(mode)
    steps, epochs, snapshots = [], [], []
    session.worker.steps_reported.connect(steps.extend)
    session.worker.epoch_finished.connect(epochs.append)
    session.worker.snapshot_published.connect(snapshots.append)
    with qtbot.waitSignal(session.worker.training_finished, timeout=60_000) as finished:
        session.start()
    qtbot.waitUntil(lambda: not session.running, timeout=10_000)
    assert finished.args[0].reason == "completed"
    assert [s.step for s in steps] == list(range(1, 81))  # every step arrives, in order
    assert [e.epoch for e in epochs] == [0, 1] and all(e.val_accuracy > 0.5 for e in epochs)
    assert session.mode == mode
    # every 20 steps, and the final weights once more before the finish
    assert [s.step for s in snapshots] == [20, 40, 60, 80, 80]
    assert isinstance(snapshots[0].weights["hidden.kernel"], np.ndarray)
    assert snapshots[0].weights["hidden.kernel"].shape == (784, 32)
    assert set(snapshots[0].gradients) == {"hidden.kernel", "hidden.bias", "logits.kernel", "logits.bias"}
    assert not np.array_equal(snapshots[0].weights["hidden.kernel"], snapshots[-1].weights["hidden.kernel"])
    # the final snapshot holds the weights the run ended with: they score as the last epoch did
    network = engine.build(mlp())
    network.load_state_dict(snapshots[-1].weights)
    result = engine.metrics.evaluate(network, session.job.data.val_images, session.job.data.val_labels)
    assert result.accuracy == pytest.approx(epochs[-1].val_accuracy)


def test_pause_single_step_resume_and_stop(qtbot, session_for):
    session = session_for(epochs=50)
    steps = []
    session.worker.steps_reported.connect(steps.extend)
    with qtbot.waitSignal(session.worker.steps_reported, timeout=30_000):
        session.start()
    with qtbot.waitSignal(session.worker.paused, timeout=30_000) as paused:
        session.pause()
    at_pause = paused.args[0].step
    qtbot.wait(200)
    assert steps[-1].step == at_pause  # nothing runs while paused (and the buffered steps were flushed)
    with qtbot.waitSignal(session.worker.paused, timeout=10_000) as again:
        session.step_once()
    assert again.args[0].step == at_pause + 1 and steps[-1].step == at_pause + 1
    with qtbot.waitSignal(session.worker.training_finished, timeout=30_000) as finished:
        session.resume()
        qtbot.waitUntil(lambda: steps[-1].step > at_pause + 3, timeout=10_000)
        session.stop()
    assert finished.args[0].reason == "stopped"
    qtbot.waitUntil(lambda: not session.running, timeout=10_000)


def test_a_diverging_run_reports_failure(qtbot, session_for):
    session = session_for(optimizer={"name": "sgd", "lr": 1e9})
    with qtbot.waitSignal(session.worker.training_failed, timeout=30_000) as failed:
        session.start()
    assert "loss became" in failed.args[0].message
    qtbot.waitUntil(lambda: not session.running, timeout=10_000)


def test_shutdown_while_training_leaves_no_thread_running(qtbot, session_for):
    session = session_for(epochs=100)
    with qtbot.waitSignal(session.worker.steps_reported, timeout=30_000):
        session.start()
    assert session.shutdown(timeout_ms=10_000)
    assert not session.running


def test_a_failure_to_lower_the_priority_does_not_stop_the_run(qtbot, session_for, monkeypatch):
    from app.training import process

    def refuse():
        raise TypeError("as os.getpriority(None) once did")

    monkeypatch.setattr(process, "lower_training_priority", refuse)
    session = session_for("thread", epochs=1)  # a thread, so that the patch reaches it
    with pytest.warns(RuntimeWarning, match="normal priority"):
        with qtbot.waitSignal(session.worker.training_finished, timeout=60_000) as finished:
            session.start()
        qtbot.waitUntil(lambda: not session.running, timeout=10_000)
    assert finished.args[0].reason == "completed"


def test_a_training_process_that_dies_is_reported_as_a_failure(qtbot, session_for):
    session = session_for(epochs=100)
    with qtbot.waitSignal(session.worker.snapshot_published, timeout=60_000):
        session.start()
    with qtbot.waitSignal(session.worker.training_failed, timeout=30_000) as failed:
        session.link.worker.kill()
    assert "ended unexpectedly (exit code -9)" in failed.args[0].message
    assert failed.args[0].step >= 20
    qtbot.waitUntil(lambda: not session.running, timeout=10_000)


def test_a_job_the_engine_refuses_ends_with_a_failure_naming_why(qtbot, session_for):
    session = session_for(optimizer={"name": "no-such-optimizer"})
    with qtbot.waitSignal(session.worker.training_failed, timeout=60_000) as failed:
        session.start()
    assert failed.args[0].message.startswith("could not start training:")
    assert "no-such-optimizer" in failed.args[0].message
    qtbot.waitUntil(lambda: not session.running, timeout=10_000)


def test_the_core_limit_reaches_the_training_side(qtbot, session_for):
    from engine import parallel

    shared = parallel.cpu_workers()
    session = session_for("thread", epochs=100)  # a thread shares this process's engine, so it can be seen
    with qtbot.waitSignal(session.worker.steps_reported, timeout=60_000):
        session.start()
    try:
        session.set_core_limit(1)
        qtbot.waitUntil(lambda: parallel.cpu_workers() == 1, timeout=10_000)
        session.set_core_limit(None)
        qtbot.waitUntil(lambda: parallel.cpu_workers() == shared, timeout=10_000)
    finally:
        parallel.set_core_limit(None)
