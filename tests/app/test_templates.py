"""File > New from Template opens a network with the data set and settings that learn it, and whenever the
design cannot read the chosen data set, Problems says so in words and Start stays off with that reason."""

import time

import pytest

import engine
from app.dashboard.run_data import data_problem
from app.dashboard.training_panel import READY_TEXT
from app.problems_dock import VALID_TEXT
from app.templates import template_names, template_training
from tests.app.gui_helpers import choose_from_menu, choose_in_combo, click, click_node, open_workspace, type_into

TRAINING_TIMEOUT_MS = 120_000


def problems(window):
    return window.problems_dock.messages()


@pytest.mark.parametrize("name", template_names())
def test_every_template_opens_with_a_recipe_that_fits_its_data(main_window, name):
    choose_from_menu(main_window, "File", "New from Template", name)
    document, form = main_window.editor.document, main_window.dashboard.training_panel.form
    recipe = template_training(name)
    assert document.name == name and document.training_settings == recipe
    assert form.dataset.currentData() == recipe["dataset"]
    assert form.learning_rate.value() == pytest.approx(recipe["optimizer"]["lr"])
    assert (form.batch_size.value(), form.epochs.value()) == (recipe["batch_size"], recipe["epochs"])
    engine.training.TrainingConfig.from_dict({key: value for key, value in recipe.items() if key != "dataset"})
    assert data_problem(document.report, recipe["dataset"]) is None
    assert problems(main_window) == [VALID_TEXT]
    assert main_window.dashboard.training_panel.start_button.isEnabled()


def test_the_toy_mlp_template_learns_the_spiral_as_it_opens(main_window, qtbot):
    """File > New from Template > toy-mlp, then Start: no setting touched, the spiral is learnt (>95%)."""
    choose_from_menu(main_window, "File", "New from Template", "toy-mlp")
    dashboard = main_window.dashboard
    open_workspace(main_window, "Train")
    started = time.perf_counter()
    with qtbot.waitSignal(dashboard.controller.run_finished, timeout=TRAINING_TIMEOUT_MS) as finished:
        click(dashboard.training_panel.start_button)
    seconds = time.perf_counter() - started
    assert finished.args[0].reason == "completed"
    qtbot.waitUntil(lambda: dashboard.evaluation.result is not None, timeout=TRAINING_TIMEOUT_MS)
    accuracy = dashboard.evaluation.result.accuracy
    print(f"toy-mlp on the spiral in the app: test accuracy {accuracy:.3f} after {seconds:.1f} s")
    assert accuracy > 0.95
    assert dashboard.curves.run_list.item(0).text().startswith("run 1: toy-mlp, Adam lr=0.02, batch 32")


def test_a_design_that_does_not_fit_the_data_set_turns_start_off_and_says_why(main_window):
    choose_from_menu(main_window, "File", "New from Template", "toy-mlp")
    panel = main_window.dashboard.training_panel
    choose_in_combo(panel.form.dataset, "MNIST handwritten digits")
    expected = ("input: the network reads 2 values per example, but the examples of MNIST handwritten digits are "
                "1x28x28 images; set the Input's shape to [1, 28, 28] or choose a data set of 2 values")
    assert problems(main_window) == [f"⚠ {expected}"]
    assert main_window.problems_dock.windowTitle() == "Problems (1)"
    assert not panel.start_button.isEnabled()
    assert panel.start_button.toolTip() == f"Cannot start: {expected}"
    assert panel.status.text() == f"Cannot start: {expected}"
    assert "Error" not in panel.status.text() and "Traceback" not in panel.status.text()

    choose_in_combo(panel.form.dataset, "spiral (2-D toy)")  # back to the data set it reads
    assert problems(main_window) == [VALID_TEXT]
    assert panel.start_button.isEnabled() and panel.status.text() == READY_TEXT

    click_node(main_window, "logits")  # three outputs for two classes
    type_into(main_window.inspector_dock.field_editors["units"].box, "3")
    assert problems(main_window) == ["⚠ logits: the network ends in 3 values, but spiral (2-D toy) has 2 classes "
                                     "(one output per class); give its last layer 2 units"]
    assert not panel.start_button.isEnabled()
    main_window.editor.undo_stack.undo()
    assert panel.start_button.isEnabled()
