"""A training run on its QThread (app/training/worker.py): signals carry copies, steps are batched,
pause/step/resume/stop, NaN, a run that ends unexpectedly, clean shutdown, the GUI thread never waits."""

import threading

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

    def make(spec=None, **settings):
        config = TrainingConfig(**{"epochs": 2, "batch_size": 50, "optimizer": {"name": "adam", "lr": 1e-3},
                                   "snapshot_every_steps": 20, **settings})
        sessions.append(TrainingSession(TrainingJob(spec or mlp(), 0, "numpy", config, data)))
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


def test_a_run_that_ends_unexpectedly_is_reported_as_a_failure(qtbot, session_for, monkeypatch):
    """What was a training process killed mid-run: an error that escapes the trainer's own reporting (here
    from its snapshot, after 20 steps) still ends the run with a failure in words and the run's end."""
    original = engine.training.Trainer.snapshot

    def snapshot_then_crash(trainer, epoch=None):
        event = original(trainer, epoch)
        if trainer.step >= 40:
            raise SystemError("as a crash in native code might")
        return event

    monkeypatch.setattr(engine.training.Trainer, "snapshot", snapshot_then_crash)
    session = session_for(epochs=100)
    snapshots = []
    session.worker.snapshot_published.connect(snapshots.append)
    with qtbot.waitSignal(session.worker.training_failed, timeout=60_000) as failed:
        session.start()
    assert "ended unexpectedly (as a crash in native code might)" in failed.args[0].message
    assert failed.args[0].step >= 20
    assert [s.step for s in snapshots] == [20]  # the last good weights the GUI holds
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
    session = session_for(epochs=100)  # the thread shares this process's engine, so it can be seen
    with qtbot.waitSignal(session.worker.steps_reported, timeout=60_000):
        session.start()
    try:
        session.set_core_limit(1)
        qtbot.waitUntil(lambda: parallel.cpu_workers() == 1, timeout=10_000)
        session.set_core_limit(None)
        qtbot.waitUntil(lambda: parallel.cpu_workers() == shared, timeout=10_000)
    finally:
        parallel.set_core_limit(None)


@pytest.fixture
def held_build(monkeypatch):
    """The training thread waits before it builds its network until the test lets it (``held_build.set()``)."""
    from app.training import worker

    let_go = threading.Event()
    let_go.built_on = []  # the threads the network was built on
    real_network = engine.Network

    def network_when_let_go(*args, **kwargs):
        assert let_go.wait(30)
        let_go.built_on.append(threading.get_ident())
        return real_network(*args, **kwargs)

    monkeypatch.setattr(worker.engine, "Network", network_when_let_go)
    yield let_go
    let_go.set()


def test_the_training_runs_on_its_own_thread_and_commands_never_wait_for_it(qtbot, session_for, held_build):
    """The network is built and trained off the GUI thread; a command given before the trainer exists is kept
    for it (here a stop: the run ends having trained no step)."""
    session = session_for(epochs=100)
    with qtbot.waitSignal(session.worker.training_finished, timeout=60_000) as finished:
        session.start()
        session.stop()  # returns at once, though the thread is still building its network
        held_build.set()
    assert finished.args[0].reason == "stopped" and finished.args[0].step == 0
    assert held_build.built_on and held_build.built_on[0] != threading.get_ident()
    qtbot.waitUntil(lambda: not session.running, timeout=10_000)


def test_pausing_before_the_trainer_exists_pauses_it_at_once(qtbot, session_for, held_build):
    session = session_for(epochs=100)
    with qtbot.waitSignal(session.worker.paused, timeout=60_000) as paused:
        session.start()
        session.pause()
        held_build.set()
    assert paused.args[0].step == 0
    with qtbot.waitSignal(session.worker.training_finished, timeout=30_000):
        session.stop()
