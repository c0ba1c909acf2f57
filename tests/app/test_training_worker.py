"""The training worker thread: signals carry copies, steps are batched, pause/step/resume/stop, NaN, clean shutdown."""

import numpy as np
import pytest

import engine
from app.training.worker import TrainingSession
from engine.training import Trainer, TrainingConfig, TrainingData


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

    def make(**settings):
        config = TrainingConfig(**{"epochs": 2, "batch_size": 50, "optimizer": {"name": "adam", "lr": 1e-3},
                                   "snapshot_every_steps": 20, **settings})
        sessions.append(TrainingSession(Trainer(engine.build(mlp()), data, config)))
        return sessions[-1]

    yield make
    for session in sessions:
        assert session.shutdown(timeout_ms=10_000)


def test_a_short_run_reports_batched_steps_epochs_snapshots_and_finishes(qtbot, session_for):
    session = session_for()
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
    assert [s.step for s in snapshots] == [20, 40, 60, 80]
    assert isinstance(snapshots[0].weights["hidden.kernel"], np.ndarray)


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
    from app.training import worker

    def refuse():
        raise TypeError("as os.getpriority(None) once did")

    monkeypatch.setattr(worker, "lower_training_priority", refuse)
    session = session_for(epochs=1)
    with pytest.warns(RuntimeWarning, match="normal priority"):
        with qtbot.waitSignal(session.worker.training_finished, timeout=60_000) as finished:
            session.start()
        qtbot.waitUntil(lambda: not session.running, timeout=10_000)
    assert finished.args[0].reason == "completed"
