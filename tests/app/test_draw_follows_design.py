"""The Draw pad reads with the design on the canvas: its trained weights when a run trained this very design,
otherwise the bundled model while the design reads drawings, otherwise nothing; the caption says which."""

from tests.app.draw_helpers import draw_stroke, seven_points, wait_for_reading
from tests.app.gui_helpers import choose_from_menu, click, click_node, open_workspace, type_into

TIMEOUT_MS = 120_000


def train(window, qtbot):
    controller = window.dashboard.controller
    open_workspace(window, "Train")
    with qtbot.waitSignal(controller.run_finished, timeout=TIMEOUT_MS):
        click(window.dashboard.training_panel.start_button)
    open_workspace(window, "Design")  # back to editing: the Draw pad is there too
    return controller.run


def test_the_pad_follows_the_design_from_template_to_template(main_window, qtbot):
    panel = main_window.draw_panel
    choose_from_menu(main_window, "File", "New from Template", "toy-mlp")
    assert not panel.pad.isEnabled()
    assert panel.note.text().startswith("Drawing is disabled: this network's input is 2")
    assert panel.note.text().endswith("(toy-mlp on the canvas).")
    train(main_window, qtbot)
    assert not panel.pad.isEnabled()  # trained, and still a design that reads points, not drawings
    assert panel.note.text().endswith("(toy-mlp on the canvas).")

    choose_from_menu(main_window, "File", "New from Template", "seed-cnn")  # no restart needed
    assert panel.pad.isEnabled() and panel.reads_bundled_model
    assert panel.note.text() == ("Read by the bundled seed CNN (trained on MNIST, 99.2% test accuracy): seed-cnn on "
                                 "the canvas has no trained weights yet; train it to read with it.")
    draw_stroke(panel.pad, seven_points())
    wait_for_reading(qtbot, panel)
    assert panel.class_names[int(panel.probabilities.argmax())] == "7"


def test_trained_weights_read_while_the_design_is_the_one_trained(main_window, qtbot):
    panel = main_window.draw_panel
    choose_from_menu(main_window, "File", "New from Template", "mlp-784-128-10")
    form = main_window.dashboard.training_panel.form
    open_workspace(main_window, "Train")
    type_into(form.train_limit, "2000")
    type_into(form.epochs, "1")
    run = train(main_window, qtbot)
    assert panel.weights is run.latest_snapshot.weights and not panel.reads_bundled_model
    caption = f"Read by mlp-784-128-10 on the canvas, with run 1's weights (step {run.latest_snapshot.step:,})."
    assert panel.note.text() == caption
    draw_stroke(panel.pad, seven_points())
    wait_for_reading(qtbot, panel)

    click_node(main_window, "hidden")  # the design changes: those weights no longer belong to it
    type_into(main_window.inspector_dock.field_editors["units"].box, "64")
    assert panel.reads_bundled_model
    assert panel.note.text().endswith("mlp-784-128-10 on the canvas has changed since run 1 trained it.")
    main_window.editor.undo_stack.undo()  # the design it trained, again
    assert panel.weights is run.latest_snapshot.weights and panel.note.text() == caption
