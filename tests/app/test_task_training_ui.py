"""The Train workspace follows the task (issue 24): the form's Loss and Target edit the design (undoable with
Ctrl+Z, saved with the project), Input noise is a training setting that applies to autoencoders, and after a
run the curves, status and evaluation show what the network was trained to do: loss without accuracy and the
worst reconstructions for an autoencoder, predicted against true values for a regression, accuracy and the
confusion matrix for a classifier, as before."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

import engine
from app.dashboard.run_history import RunRecord, csv_text
from tests.app.gui_helpers import (
    choose_from_menu,
    choose_in_combo,
    click,
    click_node,
    click_tab,
    open_workspace,
    type_into,
)

TIMEOUT_MS = 60_000
CTRL = Qt.KeyboardModifier.ControlModifier
AUTOENCODER = "The input (autoencoder)"
BCE = "Binary cross-entropy"


def undo(widget) -> None:
    QTest.keyClick(widget, Qt.Key.Key_Z, CTRL)


def design_keys(window) -> dict:
    spec = window.editor.document.spec()
    return {key: spec[key] for key in ("loss", "target") if key in spec}


def problem_rules(window) -> set[str]:
    return {error.rule for error in window.editor.document.report.errors}


def shown_words(window) -> str:
    """Every text the training panel and its views show after a run, for words that must not be there."""
    dashboard = window.dashboard
    panel = dashboard.training_panel
    texts = [panel.status.text(), panel.progress.format(), panel.progress.toolTip(), dashboard.curves.key.text(),
             dashboard.evaluation.summary.text(), dashboard.evaluation.error_view.title.text()]
    texts += [dashboard.curves.run_list.item(i).text() for i in range(dashboard.curves.run_list.count())]
    gallery = dashboard.evaluation.error_view.gallery
    texts += [gallery.item(i).text() for i in range(gallery.count())]
    return "\n".join(texts)


def set_quick_run(form, examples: int = 200, epochs: int = 1, batch: int = 50) -> None:
    type_into(form.train_limit, str(examples))
    type_into(form.epochs, str(epochs))
    type_into(form.batch_size, str(batch))


def run_to_the_end_and_evaluation(window, qtbot):
    panel, dashboard = window.dashboard.training_panel, window.dashboard
    with qtbot.waitSignal(dashboard.controller.run_finished, timeout=TIMEOUT_MS) as finished:
        click(panel.start_button)
    qtbot.waitUntil(lambda: dashboard.evaluation.result is not None, timeout=TIMEOUT_MS)  # runs by itself at the end
    QApplication.processEvents()
    return finished.args[0]


@pytest.fixture
def window(main_window):
    main_window.activateWindow()  # Ctrl+Z is the window's shortcut: it needs the window active
    return main_window


def test_loss_target_and_noise_are_chosen_in_the_form_undone_with_ctrl_z_and_kept_in_the_project(window, tmp_path):
    choose_from_menu(window, "File", "New from Template", "mlp-784-128-10")
    open_workspace(window, "Train")
    panel = window.dashboard.training_panel
    task = panel.form.task
    assert task.loss.currentText() == "Cross-entropy — classify" and task.target.currentText() == "The labels"
    assert not task.input_noise.isEnabled() and "denoising autoencoder" in task.input_noise.toolTip()
    assert panel.start_button.isEnabled()

    choose_in_combo(task.target, AUTOENCODER)
    assert design_keys(window) == {"target": "input"}
    # The design cannot be an autoencoder yet: cross-entropy reads classes, and 10 outputs are not 784 pixels.
    # Problems lists both, and Start refuses in the engine's words, naming the output node.
    assert {"loss", "target shape"} <= problem_rules(window)
    first = str(window.editor.document.report.errors[0])
    assert not panel.start_button.isEnabled() and panel.start_button.toolTip() == f"Cannot start: {first}"
    assert first.startswith("logits:") and "cross-entropy" in first
    assert any(first in text for text in window.problems_dock.messages())
    assert task.input_noise.isEnabled() and "denoising autoencoder" in task.input_noise.toolTip()

    type_into(task.input_noise, "0.25")
    assert window.editor.document.training_settings["input_noise"] == 0.25
    choose_in_combo(task.loss, BCE)
    assert design_keys(window) == {"loss": "binary_cross_entropy", "target": "input"}
    assert window.undo_action.text().endswith("Change the loss to binary cross-entropy")  # Edit > Undo says so
    assert "loss" in problem_rules(window)  # binary cross-entropy reads probabilities: no sigmoid at the end

    path = tmp_path / "autoencoder.layerlab"
    assert window.project.save_to(path)
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["network"]["loss"] == "binary_cross_entropy" and saved["network"]["target"] == "input"
    assert saved["training"]["input_noise"] == 0.25

    undo(task.loss)  # the loss
    assert design_keys(window) == {"target": "input"} and task.loss.currentText() == "Cross-entropy — classify"
    undo(task.loss)  # the noise
    assert "input_noise" not in window.editor.document.training_settings and task.input_noise.text() == "off"
    undo(task.loss)  # the target: a classifier again, as the template made it
    assert design_keys(window) == {} and task.target.currentText() == "The labels"
    assert not task.input_noise.isEnabled() and panel.start_button.isEnabled()
    assert not {"loss", "target shape"} & problem_rules(window)

    assert window.project.open_file(path)  # the project brings its task back into the form
    assert task.loss.currentText() == BCE and task.target.currentText() == AUTOENCODER
    assert task.input_noise.value() == 0.25 and task.input_noise.isEnabled()


def test_the_dense_autoencoder_template_opens_with_its_task_in_the_form(window):
    choose_from_menu(window, "File", "New from Template", "dense-autoencoder")
    open_workspace(window, "Train")
    panel = window.dashboard.training_panel
    task = panel.form.task
    assert task.loss.currentText() == BCE and task.target.currentText() == AUTOENCODER
    assert task.input_noise.isEnabled() and panel.start_button.isEnabled()
    assert not window.dashboard.curves.accuracy_shown  # before any run, the curves follow the design: no accuracy
    choose_from_menu(window, "File", "New from Template", "mlp-784-128-10")
    assert window.dashboard.curves.accuracy_shown


def test_an_autoencoder_run_shows_loss_without_accuracy_and_its_worst_reconstructions(window, qtbot):
    choose_from_menu(window, "File", "New from Template", "mlp-784-128-10")
    # Design: the last layer gives back 784 values in [0, 1], one per pixel.
    click_node(window, "logits")
    editors = window.inspector_dock.field_editors
    type_into(editors["units"].box, "784")
    choose_in_combo(window.inspector_dock.field_editors["activation"].combo, "sigmoid")
    open_workspace(window, "Train")
    form = window.dashboard.training_panel.form
    choose_in_combo(form.task.target, AUTOENCODER)
    choose_in_combo(form.task.loss, BCE)
    type_into(form.task.input_noise, "0.2")  # a denoising autoencoder
    set_quick_run(form)
    assert window.dashboard.training_panel.start_button.isEnabled(), window.dashboard.training_panel.status.text()

    finished = run_to_the_end_and_evaluation(window, qtbot)
    assert finished.reason == "completed" and finished.best_val_accuracy is None
    assert window.dashboard.controller.run.settings.config.input_noise == 0.2
    curves = window.dashboard.curves
    record = curves.records[-1]
    assert not record.classifier and record.steps == [1, 2, 3, 4]  # 200 examples in batches of 50
    assert np.all(np.isfinite(record.losses)) and np.all(np.isnan(record.batch_accuracies))
    assert len(record.epoch_series("val_loss")[1]) == 1  # validation loss at the epoch's end
    assert not curves.accuracy_shown and curves.accuracy_plot.scene() is None  # no Accuracy plot at all
    assert "Accuracy" not in curves.key.text()
    assert "None" not in csv_text(curves.records) and "nan" not in csv_text(curves.records)  # empty cells instead

    dashboard = window.dashboard
    click_tab(dashboard.views.tabBar(), "Evaluation")
    result = dashboard.evaluation.result
    assert isinstance(result, engine.ErrorEvaluation)
    summary = dashboard.evaluation.summary.text()
    assert f"test loss {result.loss:.4f}" in summary
    assert f"mean squared error {result.mean_squared_error:.4f}" in summary
    assert "mean absolute error" in summary and "10,000 examples" in summary
    view = dashboard.evaluation.error_view
    assert view.gallery.isVisible() and not view.scatter.isVisible() and not dashboard.evaluation.matrix.isVisible()
    assert view.gallery.count() == 24
    # Worst first: the first pair is the test image with the largest error, original beside reconstruction.
    errors = result.example_errors()
    assert view.shown_indices[0] == int(np.argmax(errors))
    icon = view.gallery.item(0).icon().pixmap(view.gallery.iconSize())
    assert icon.width() > 1.8 * icon.height()
    words = shown_words(window)
    for wrong in ("accuracy", "None", "nan", "%"):
        assert wrong not in words, f"{wrong!r} shown after an autoencoder run:\n{words}"


def test_a_classifier_run_still_shows_accuracy_and_the_confusion_matrix(window, qtbot):
    choose_from_menu(window, "File", "New from Template", "mlp-784-128-10")
    open_workspace(window, "Train")
    set_quick_run(window.dashboard.training_panel.form)
    finished = run_to_the_end_and_evaluation(window, qtbot)
    assert finished.best_val_accuracy is not None
    curves = window.dashboard.curves
    assert curves.records[-1].classifier and curves.accuracy_shown and curves.accuracy_plot.scene() is not None
    assert 0 <= curves.records[-1].batch_accuracies[-1] <= 1 and "Accuracy" in curves.key.text()
    evaluation = window.dashboard.evaluation
    click_tab(window.dashboard.views.tabBar(), "Evaluation")
    assert isinstance(evaluation.result, engine.Evaluation) and evaluation.matrix.isVisible()
    assert "test accuracy" in evaluation.summary.text() and evaluation.matrix.rowCount() == 10


def test_a_regression_on_toy_sine_shows_predicted_against_true(window, qtbot):
    spec = {"format": "layerlab-network", "version": 1, "name": "sine-mlp", "loss": "mean_squared_error",
            "nodes": [{"id": "x", "type": "Input", "shape": [1]},
                      {"id": "hidden", "type": "Dense", "units": 16, "activation": "tanh"},
                      {"id": "y", "type": "Dense", "units": 2}]}
    window.editor.open_spec(spec, training_settings={"dataset": "toy:sine", "epochs": 3, "batch_size": 32,
                                                     "optimizer": {"name": "adam", "lr": 0.01}, "seed": 0})
    open_workspace(window, "Train")
    panel = window.dashboard.training_panel
    assert panel.form.task.loss.currentText() == "Mean squared error"
    # Two outputs for one target value: the data-fit check follows the loss, and Start says why it is off.
    assert not panel.start_button.isEnabled() and "y:" in panel.start_button.toolTip()
    click_node_in_design_and_set_units(window, "y", "1")
    open_workspace(window, "Train")
    assert panel.start_button.isEnabled(), panel.start_button.toolTip()

    run_to_the_end_and_evaluation(window, qtbot)
    assert not window.dashboard.curves.accuracy_shown
    result = window.dashboard.evaluation.result
    assert isinstance(result, engine.ErrorEvaluation)
    click_tab(window.dashboard.views.tabBar(), "Evaluation")
    view = window.dashboard.evaluation.error_view
    assert view.scatter.isVisible() and not view.gallery.isVisible()
    true, predicted = view.points.getData()
    assert np.allclose(true, result.targets.ravel()) and np.allclose(predicted, result.outputs.ravel())
    assert "Predicted against true" in view.title.text()


def click_node_in_design_and_set_units(window, node_id: str, units: str) -> None:
    open_workspace(window, "Design")
    click_node(window, node_id)
    type_into(window.inspector_dock.field_editors["units"].box, units)


def test_a_run_record_without_accuracy_writes_empty_cells():
    step = engine.training.StepEvent(step=1, epoch=0, loss=0.5, batch_accuracy=None, learning_rate=0.1,
                                     samples_per_second=10.0, elapsed=0.1)
    epoch = engine.training.EpochEvent(epoch=0, step=1, train_loss=0.5, train_accuracy=None, val_loss=0.4,
                                       val_accuracy=None, improved=True, elapsed=0.2)
    record = RunRecord("run 1: autoencoder", "#000000", classifier=False)
    record.add_steps([step])
    record.add_epoch(epoch)
    rows = csv_text([record]).splitlines()
    assert rows[1] == "run 1: autoencoder,step,1,,0.5,0.5,,,"
    assert rows[2] == "run 1: autoencoder,epoch,1,1,0.5,,,0.4,"


def test_a_project_input_noise_the_form_cannot_show_is_refused_in_words(qtbot):
    from app.dashboard.training_settings import TrainingSettingsForm

    form = TrainingSettingsForm()
    qtbot.addWidget(form)
    with qtbot.waitSignal(form.settings_refused) as refused:
        form.load_settings({"dataset": "mnist", "input_noise": 5})
    assert refused.args[0] == ["training.input_noise: 5 is beyond the largest, 1; the form shows the default, 0"]
    with qtbot.waitSignal(form.settings_refused) as refused:
        form.load_settings({"dataset": "mnist", "input_noise": "lots"})
    assert refused.args[0] == ['training.input_noise: "lots" is not a number; the form shows the default, 0']
    assert form.task.input_noise.value() == 0
