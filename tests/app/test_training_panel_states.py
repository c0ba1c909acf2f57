"""The training panel after a failed or stopped run: an error of any length takes one line (the rest on
demand, under Details) and leaves the settings form as it was; the progress bar says how the run ended."""

import dataclasses
import socket

import pytest
from PySide6.QtWidgets import QApplication

import engine
from tests.app.gui_helpers import choose_from_menu, choose_in_combo, click, open_workspace, type_into

TIMEOUT_MS = 60_000


@pytest.fixture
def fashion_mnist_unreachable(monkeypatch, tmp_path):
    """Fashion-MNIST as on a machine without it and without the internet: its mirror refuses connections."""
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    info = engine.datasets.REGISTRY["fashion-mnist"]
    offline = dataclasses.replace(info, mirrors=(f"http://127.0.0.1:{port}/",), system_folders=())
    monkeypatch.setitem(engine.datasets.REGISTRY, "fashion-mnist", offline)
    monkeypatch.setenv("LAYERLAB_DATA_DIR", str(tmp_path / "data"))


def test_a_long_failure_takes_one_line_and_leaves_the_form_and_bar_sane(main_window, qtbot,
                                                                         fashion_mnist_unreachable):
    open_workspace(main_window, "Train")
    panel = main_window.dashboard.training_panel
    form = panel.form
    window_height = main_window.height()
    form_height = form.parentWidget().height()  # the settings' scroll area
    choose_in_combo(form.dataset, form.dataset.itemText(form.dataset.findData("fashion-mnist")))
    with qtbot.waitSignal(main_window.dashboard.controller.run_failed, timeout=TIMEOUT_MS) as failed:
        click(panel.start_button)
    message = failed.args[0]
    assert message.startswith("Could not prepare the run: Could not download Fashion-MNIST")
    assert "To install it by hand" in message and message.count("\n") >= 4
    QApplication.processEvents()
    assert panel.status.text() == message
    line_height = panel.status.label.fontMetrics().lineSpacing()
    assert panel.status.label.height() < 2 * line_height  # one line...
    assert panel.status.label.text().endswith("…") and "\n" not in panel.status.label.text()
    assert panel.status.details_button.isVisible() and not panel.status.details.isVisible()
    assert form.parentWidget().height() == form_height and main_window.height() == window_height
    assert panel.progress.maximum() > 0 and panel.progress.format() == "not started"  # not left busy
    assert panel.start_button.isEnabled()

    click(panel.status.details_button)  # ...and all of it on demand
    assert panel.status.details.isVisible()
    assert panel.status.details.toPlainText() == message


def test_stop_leaves_the_bar_where_the_run_stopped(main_window, qtbot):
    choose_from_menu(main_window, "File", "New from Template", "mlp-784-128-10")
    panel, controller = main_window.dashboard.training_panel, main_window.dashboard.controller
    steps = []
    controller.steps_reported.connect(steps.extend)
    open_workspace(main_window, "Train")
    with qtbot.waitSignal(controller.steps_reported, timeout=TIMEOUT_MS):
        click(panel.start_button)
    assert " left" in panel.progress.format()
    with qtbot.waitSignal(controller.run_finished, timeout=TIMEOUT_MS) as finished:
        click(panel.stop_button)
    step = finished.args[0].step
    assert finished.args[0].reason == "stopped" and step >= steps[-1].step
    total = 8 * -(-54_000 // 128)  # 8 epochs of the 54,000 examples left after validation, in batches of 128
    assert panel.progress.format() == f"stopped · epoch 1/8 · step {step:,}/{total:,}"
    assert panel.progress.value() == step and "left" not in panel.progress.format()


def test_a_learning_rate_changed_mid_run_is_in_the_label_status_and_saved_settings(main_window, qtbot, tmp_path,
                                                                                   monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    choose_from_menu(main_window, "File", "New from Template", "mlp-784-128-10")
    panel, controller = main_window.dashboard.training_panel, main_window.dashboard.controller
    changed = []
    controller.steps_reported.connect(lambda steps: changed.extend(s for s in steps if s.learning_rate_changed))
    open_workspace(main_window, "Train")
    with qtbot.waitSignal(controller.steps_reported, timeout=TIMEOUT_MS):
        click(panel.start_button)
    type_into(panel.form.learning_rate, "0.0005")
    qtbot.waitUntil(lambda: bool(changed), timeout=TIMEOUT_MS)
    step = changed[0].step
    assert changed[0].learning_rate == pytest.approx(0.0005)
    label = f"run 1: mlp-784-128-10, Adam lr=0.001 → 0.0005 (step {step:,}), batch 128"
    assert controller.run.name == label and controller.run.learning_rate_changes == [{"step": step, "lr": 0.0005}]
    assert main_window.dashboard.curves.run_list.item(0).text() == label
    assert panel.status.text().startswith(f"Training {label} on 54,000 examples")
    with qtbot.waitSignal(controller.run_finished, timeout=TIMEOUT_MS):
        click(panel.stop_button)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: (str(tmp_path / "model.llmodel"), ""))
    click(panel.save_button)  # the person picks tmp_path/model.llmodel in the dialog
    metadata = engine.load_checkpoint(tmp_path / "model.llmodel").metadata
    assert metadata["learning_rate_changes"] == [{"step": step, "lr": 0.0005}]
    assert metadata["training"]["optimizer"]["lr"] == pytest.approx(0.001)  # the rate it started with
