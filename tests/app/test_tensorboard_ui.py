"""The training form's "TensorBoard log" check box: a run started with it ticked writes TensorBoard event files in a
new folder under the user data folder, written on the training thread (never the GUI thread), and shows that folder
with a Copy button; the project keeps the choice; without tensorboardX the box is disabled, names the extra, and
Start still trains."""

from __future__ import annotations

import json
import sys
import threading

import pytest
from PySide6.QtGui import QGuiApplication

from app.document.project_file import write_project
from app.training import tensorboard_logs
from tests.app.gui_helpers import choose_from_menu, click, open_workspace, type_into

TIMEOUT_MS = 60_000
INSTALL_WORDS = ("TensorBoard logging needs the tensorboardX package, part of LayerLab's 'export' extra: "
                 "pip install 'layerlab[export]'")


def click_check_box(box, qtbot) -> None:
    from PySide6.QtCore import QPoint, Qt

    assert box.isVisible() and box.isEnabled(), box.toolTip()
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))  # on the box itself


def short_run_settings(window, template: str | None = "mlp-784-128-10") -> None:
    """The Train workspace, 200 examples for one epoch (4 steps of 50) of ``template`` (None: the design open)."""
    if template:
        choose_from_menu(window, "File", "New from Template", template)
    open_workspace(window, "Train")
    form = window.dashboard.training_panel.form
    type_into(form.train_limit, "200")
    type_into(form.epochs, "1")
    type_into(form.batch_size, "50")
    window.dashboard.training_panel.settings_scroll.ensureWidgetVisible(form.tensorboard)


def test_a_ticked_box_logs_the_run_on_the_training_thread(main_window, qtbot, tmp_path, monkeypatch):
    pytest.importorskip("tensorboardX")
    from engine.export import tensorboard_log
    from tests.engine.export import tensorboard_events as tb

    log_dir = tmp_path / "user data" / "tensorboard"
    monkeypatch.setattr(tensorboard_logs, "default_log_dir", lambda: log_dir)
    threads = []  # the thread of each call into the logger: made, fed, closed

    class RecordingLogger(tensorboard_log.TensorBoardLogger):
        def __init__(self, *args, **kwargs):
            threads.append(threading.get_ident())
            super().__init__(*args, **kwargs)

        def __call__(self, event):
            threads.append(threading.get_ident())
            super().__call__(event)

        def close(self):
            threads.append(threading.get_ident())
            super().close()

    monkeypatch.setattr(tensorboard_log, "TensorBoardLogger", RecordingLogger)
    short_run_settings(main_window)
    panel, controller = main_window.dashboard.training_panel, main_window.dashboard.controller
    option = panel.form.tensorboard
    assert not option.folder_row.isVisible()
    click_check_box(option.check, qtbot)
    assert main_window.editor.document.training_settings["tensorboard"] is True  # the project keeps it
    with qtbot.waitSignal(controller.run_finished, timeout=TIMEOUT_MS):
        click(panel.start_button)

    qtbot.waitUntil(option.folder_row.isVisible, timeout=TIMEOUT_MS)
    (run_dir,) = log_dir.iterdir()
    assert option.folder.text() == str(run_dir) and run_dir.name.endswith(" run 1 mlp-784-128-10, Adam lr=0.001, "
                                                                           "batch 50")
    click(option.copy_button)
    assert QGuiApplication.clipboard().text() == str(run_dir)

    events = tb.read_run(run_dir)
    scalars = tb.scalars(events)
    assert [step for step, _ in scalars["train/loss"]] == [1, 2, 3, 4]
    assert [step for step, _ in scalars["epoch/val_accuracy"]] == [4]
    network = controller.run.latest_network()
    assert {f"weights/{name}" for name in network.state_dict()} <= set(tb.histograms(events))
    assert [node.name for node in tb.graph(events).node] == network.order
    assert json.loads(tb.texts(events)["run/settings/text_summary"][0][1])["batch_size"] == 50

    gui_thread = threading.get_ident()
    assert len(threads) >= 4 and gui_thread not in threads  # every write on the training thread
    assert len(set(threads)) == 1


def test_an_unticked_box_writes_nothing(main_window, qtbot, tmp_path, monkeypatch):
    log_dir = tmp_path / "tensorboard"
    monkeypatch.setattr(tensorboard_logs, "default_log_dir", lambda: log_dir)
    short_run_settings(main_window)
    panel, controller = main_window.dashboard.training_panel, main_window.dashboard.controller
    with qtbot.waitSignal(controller.run_finished, timeout=TIMEOUT_MS):
        click(panel.start_button)
    assert not log_dir.exists() and not panel.form.tensorboard.folder_row.isVisible()
    assert main_window.editor.document.training_settings.get("tensorboard", False) is False


@pytest.fixture
def window_without_tensorboardx(monkeypatch, request):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # as if the 'export' extra were not installed
    return request.getfixturevalue("main_window")


def test_without_tensorboardx_the_box_names_the_extra_and_start_still_trains(window_without_tensorboardx, qtbot,
                                                                          tmp_path, monkeypatch, seed_spec):
    window = window_without_tensorboardx
    log_dir = tmp_path / "tensorboard"
    monkeypatch.setattr(tensorboard_logs, "default_log_dir", lambda: log_dir)
    path = tmp_path / "wants logs.layerlab"
    layout = {node["id"]: (0.0, 80.0 * i) for i, node in enumerate(seed_spec["nodes"])}
    write_project(path, seed_spec, layout, {"dataset": "mnist", "tensorboard": True})
    assert window.project.open_file(path)
    short_run_settings(window, template=None)
    panel, controller = window.dashboard.training_panel, window.dashboard.controller
    box = panel.form.tensorboard.check
    assert box.isVisible() and not box.isEnabled() and not box.isChecked()
    assert box.toolTip() == INSTALL_WORDS
    with qtbot.waitSignal(controller.run_finished, timeout=TIMEOUT_MS):
        click(panel.start_button)
    assert not box.isEnabled() and not log_dir.exists()
    # The project's wish is kept for a computer that has the extra.
    assert window.editor.document.training_settings["tensorboard"] is True


def test_a_project_value_that_is_not_true_or_false_is_refused_in_words(main_window, tmp_path, seed_spec):
    path = tmp_path / "odd.layerlab"
    layout = {node["id"]: (0.0, 80.0 * i) for i, node in enumerate(seed_spec["nodes"])}
    write_project(path, seed_spec, layout, {"dataset": "mnist", "tensorboard": "yes"})
    assert main_window.project.open_file(path)
    form = main_window.dashboard.training_panel.form
    assert ('training.tensorboard: "yes" is neither true nor false; the form shows the default, off'
            in form.refusals.text())
    assert not form.tensorboard.check.isChecked()


def test_a_log_that_stops_being_written_says_why_and_the_run_goes_on(main_window, qtbot, tmp_path, monkeypatch):
    pytest.importorskip("tensorboardX")
    import errno

    from engine.export import tensorboard_log

    monkeypatch.setattr(tensorboard_logs, "default_log_dir", lambda: tmp_path / "tensorboard")

    class FullDiskLogger(tensorboard_log.TensorBoardLogger):
        def __call__(self, event):
            if event.step >= 2:
                raise OSError(errno.ENOSPC, "No space left on device")
            super().__call__(event)

    monkeypatch.setattr(tensorboard_log, "TensorBoardLogger", FullDiskLogger)
    short_run_settings(main_window)
    panel, controller = main_window.dashboard.training_panel, main_window.dashboard.controller
    option = panel.form.tensorboard
    click_check_box(option.check, qtbot)
    with qtbot.waitSignal(controller.run_finished, timeout=TIMEOUT_MS) as finished:
        click(panel.start_button)
    assert finished.args[0].reason == "completed" and finished.args[0].step == 4  # trained to the end regardless
    qtbot.waitUntil(option.problem.isVisible, timeout=TIMEOUT_MS)
    assert option.problem.text() == "the TensorBoard log stopped at step 2: no space left on device"
