"""The training dashboard: a short run through the panel's buttons, panels following snapshots, errors
shown in the GUI, and no thread left behind when the window closes."""

import json

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMainWindow

import engine
import resources
from app.dashboard import install_dashboard

TIMEOUT_MS = 60_000


def small_cnn():
    return {"name": "small-cnn", "nodes": [
        {"id": "input", "type": "Input", "shape": [1, 28, 28]},
        {"id": "conv", "type": "Conv2D", "filters": 4, "kernel_size": 3, "activation": "relu"},
        {"id": "pool", "type": "MaxPooling2D", "pool_size": 2},
        {"id": "flatten", "type": "Flatten"},
        {"id": "logits", "type": "Dense", "units": 10}]}


def mlp():
    return {"name": "mlp", "nodes": [
        {"id": "input", "type": "Input", "shape": [1, 28, 28]}, {"id": "flatten", "type": "Flatten"},
        {"id": "hidden", "type": "Dense", "units": 16, "activation": "relu"},
        {"id": "logits", "type": "Dense", "units": 10}]}


@pytest.fixture
def make_dashboard(qtbot):
    """A window with the dashboard installed; whatever a test does, no run is left when it ends.

    The windows are closed here, after ``shutdown`` (as the main window's closeEvent will do), rather than
    by qtbot, which would delete the training thread's owner first.
    """
    made = []

    def make(spec, examples=300, epochs=2, dataset="mnist"):
        window = QMainWindow()
        window.setCentralWidget(QLabel("canvas"))
        current = {"spec": spec}
        dashboard = install_dashboard(window, lambda: current["spec"], lambda: dataset)
        form = dashboard.training_panel.form
        form.train_limit.setValue(examples)
        form.epochs.setValue(epochs)
        form.batch_size.setValue(50)
        window.resize(1200, 800)
        window.show()
        made.append((window, dashboard))
        return window, dashboard

    yield make
    for window, dashboard in made:
        assert dashboard.shutdown(timeout_ms=20_000)
        window.close()
        window.deleteLater()


def click(qtbot, button):
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_a_short_run_finishes_and_every_panel_follows(qtbot, make_dashboard):
    window, dashboard = make_dashboard(small_cnn())
    panel, controller = dashboard.training_panel, dashboard.controller
    with qtbot.waitSignal(controller.run_finished, timeout=TIMEOUT_MS) as finished:
        click(qtbot, panel.start_button)
    assert finished.args[0].reason == "completed" and controller.state == "finished"
    assert not controller.session.running
    record = dashboard.curves.records[-1]
    assert record.steps == list(range(1, 13))  # 300 examples / 50, two epochs
    assert len(record.epochs) == 2 and record.epochs[-1].val_accuracy is not None
    assert "epoch 2/2" in panel.progress.format() and panel.progress.value() == 12
    run = controller.run
    assert run.latest_snapshot.step == 12  # the final weights are published once the run ends
    kernel = run.latest_snapshot.weights["conv.kernel"]
    np.testing.assert_array_equal(run.latest_network().parameters()["conv.kernel"].value, kernel)
    assert dashboard.filters.image.image is None  # a hidden tab does no work on snapshots...
    dashboard.views.setCurrentWidget(dashboard.filters)  # ...and catches up when shown
    assert dashboard.filters.image.image.shape == (2 * 3 + 1, 2 * 3 + 1)  # 4 kernels of 3x3, 2x2, 1-pixel gaps
    assert set(dashboard.activations._images) == set(run.inference_network.order)
    assert dashboard.histograms.histories[("gradients", "conv.kernel")].columns
    # the evaluation runs by itself after the run, on a background thread
    qtbot.waitUntil(lambda: dashboard.evaluation.result is not None, timeout=TIMEOUT_MS)
    assert dashboard.evaluation.matrix.rowCount() == 10
    assert dashboard.evaluation.gallery.count() > 0


def test_pause_step_resume_and_stop_through_the_buttons(qtbot, make_dashboard):
    _, dashboard = make_dashboard(mlp(), examples=2000, epochs=50)
    panel, controller = dashboard.training_panel, dashboard.controller
    with qtbot.waitSignal(controller.steps_reported, timeout=TIMEOUT_MS):
        click(qtbot, panel.start_button)
    click(qtbot, panel.pause_button)
    qtbot.waitUntil(lambda: controller.state == "paused", timeout=TIMEOUT_MS)
    assert panel.pause_button.text() == "Resume" and panel.step_button.isEnabled()
    steps = dashboard.curves.records[-1].steps
    at_pause = steps[-1]
    click(qtbot, panel.step_button)
    qtbot.waitUntil(lambda: steps[-1] == at_pause + 1, timeout=TIMEOUT_MS)
    click(qtbot, panel.pause_button)  # resume
    qtbot.waitUntil(lambda: steps[-1] > at_pause + 3, timeout=TIMEOUT_MS)
    rates = []
    controller.steps_reported.connect(lambda steps: rates.extend(step.learning_rate for step in steps))
    panel.form.learning_rate.setValue(0.0005)  # live: the next steps use it
    qtbot.waitUntil(lambda: bool(rates) and rates[-1] == pytest.approx(0.0005), timeout=TIMEOUT_MS)
    with qtbot.waitSignal(controller.run_finished, timeout=TIMEOUT_MS) as finished:
        click(qtbot, panel.stop_button)
    assert finished.args[0].reason == "stopped"
    assert panel.start_button.isEnabled() and not panel.stop_button.isEnabled()


def test_a_diverging_run_shows_its_error_in_the_panel(qtbot, make_dashboard):
    # Every weight 1e6 (the largest an initializer takes) through six layers: the first forward pass
    # grows by about 1.6e7 a layer and overflows float32.
    spec = mlp()
    deeper = [{"id": f"hidden{depth}", "type": "Dense", "units": 16, "activation": "relu"} for depth in range(2, 6)]
    spec["nodes"][3:3] = deeper
    for node in spec["nodes"][2:]:
        node["kernel_initializer"] = {"name": "constant", "value": 1e6}
    _, dashboard = make_dashboard(spec)
    panel = dashboard.training_panel
    with qtbot.waitSignal(dashboard.controller.run_failed, timeout=TIMEOUT_MS) as failed:
        click(qtbot, panel.start_button)
    assert "NaN" in failed.args[0] or "infinite" in failed.args[0]
    assert panel.status.text() == failed.args[0]  # shown in the panel; no dialog to block anyone
    assert panel.start_button.isEnabled() and not panel.stop_button.isEnabled()
    assert panel.progress.format() == "failed · epoch 1/2 · step 0/12"  # not a countdown, not busy
    assert dashboard.curves.run_list.count() == 0 and dashboard.curves.records == []  # no step: no legend entry


def test_an_invalid_design_is_named_without_starting(qtbot, make_dashboard):
    spec = mlp()
    spec["nodes"][2]["units"] = 0
    _, dashboard = make_dashboard(spec)
    click(qtbot, dashboard.training_panel.start_button)
    assert "not valid" in dashboard.training_panel.status.text()
    assert dashboard.controller.session is None


def test_a_step_too_big_for_memory_is_refused_at_start_naming_the_node(qtbot, make_dashboard, monkeypatch):
    monkeypatch.setattr(engine.design_limits, "memory_limit_bytes", lambda: 500_000)  # a computer of 500 KB
    _, dashboard = make_dashboard(mlp())
    click(qtbot, dashboard.training_panel.start_button)
    status = dashboard.training_panel.status.text()
    assert status.startswith("The network does not fit in memory: one training step at batch size 50 needs")
    assert "the most at input" in status or "the most at flatten" in status
    assert dashboard.controller.session is None  # refused before any data was loaded or weights built


def test_shutdown_while_training_leaves_no_thread_running(qtbot, make_dashboard):
    window, dashboard = make_dashboard(mlp(), examples=2000, epochs=50)
    with qtbot.waitSignal(dashboard.controller.steps_reported, timeout=TIMEOUT_MS):
        dashboard.training_panel.start()
    dashboard.evaluation.evaluate_latest()  # a background task in flight too
    assert dashboard.shutdown(timeout_ms=20_000)
    assert not dashboard.controller.session.running
    assert not dashboard.controller.tasks.busy or dashboard.controller.tasks.pool.activeThreadCount() == 0
    window.close()


def test_toy_run_draws_its_decision_boundary_and_runs_overlay(qtbot, make_dashboard, tmp_path):
    toy = json.loads(resources.examples()["toy-mlp"].read_text())
    _, dashboard = make_dashboard(toy, examples=0, epochs=3, dataset="toy:spiral")
    assert dashboard.training_panel.form.dataset.currentData() == "toy:spiral"
    for _ in range(2):
        with qtbot.waitSignal(dashboard.controller.run_finished, timeout=TIMEOUT_MS):
            dashboard.training_panel.start()
    dashboard.views.setCurrentWidget(dashboard.boundary)
    image = dashboard.boundary.image.image
    assert image.shape == (100, 100) and np.all(np.abs(image) <= 1)
    assert len(dashboard.boundary.points.data) == 600 - 45  # train + test (validation points are not drawn)
    assert [r.name.split(":")[0] for r in dashboard.curves.records] == ["run 1", "run 2"]
    dashboard.curves.save_csv(tmp_path / "curves.csv")
    lines = (tmp_path / "curves.csv").read_text().splitlines()
    assert lines[0].startswith("run,kind,step") and sum(",epoch," in line for line in lines[1:]) == 6
    assert dashboard.curves.save_png(tmp_path / "curves.png") and (tmp_path / "curves.png").stat().st_size > 0


def test_profile_and_save_model(qtbot, make_dashboard, tmp_path):
    _, dashboard = make_dashboard(small_cnn(), examples=200, epochs=1)
    with qtbot.waitSignal(dashboard.controller.run_finished, timeout=TIMEOUT_MS):
        dashboard.training_panel.start()
    dashboard.profile.profile_latest()
    qtbot.waitUntil(lambda: bool(dashboard.profile.timings), timeout=TIMEOUT_MS)
    assert [t.id for t in dashboard.profile.timings] == ["input", "conv", "pool", "flatten", "logits"]
    saved = dashboard.controller.save_latest(tmp_path / "model.llmodel")
    net = engine.load(saved)
    np.testing.assert_array_equal(net.state_dict()["conv.kernel"],
                                  dashboard.controller.run.latest_snapshot.weights["conv.kernel"])
    best = dashboard.controller.save_best(tmp_path / "best.llmodel")
    assert engine.load(best).name == "small-cnn"


def test_show_example_takes_a_drawn_image(qtbot, make_dashboard):
    _, dashboard = make_dashboard(mlp(), examples=100, epochs=1)
    with qtbot.waitSignal(dashboard.controller.run_finished, timeout=TIMEOUT_MS):
        dashboard.training_panel.start()
    dashboard.views.setCurrentWidget(dashboard.activations)
    digit = np.zeros((28, 28), dtype=np.float32)
    digit[5:23, 13:15] = 1.0
    dashboard.activations.show_example(digit)
    qtbot.waitUntil(lambda: dashboard.activations.caption.text().startswith("the drawn image: predicted"),
                    timeout=TIMEOUT_MS)
    assert dashboard.activations._images["hidden"].image.shape == (1, 16)
