"""Merge layers (Add, Concatenate) are wired by dragging like any other layer: the first connection into a
merge is accepted (the merge waits for its next input in the Problems list), and only a connection that
makes a problem of its own (a shape that cannot match the inputs already there, a cycle) is refused.
A residual block is built by drags alone, then trained."""

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from tests.app.gui_helpers import (
    click,
    click_node,
    drag_between_ports,
    drag_layer_from_palette,
    open_workspace,
    type_into,
)

TRAINING_TIMEOUT_MS = 120_000


def new_design(window):
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)  # File > New
    assert window.editor.document.node_ids() == ["input"]
    # Move the Input to the top of the canvas, leaving the room below for the block.
    viewport = window.canvas.viewport()
    start = window.canvas.mapFromScene(window.scene.node_items["input"].scenePos()) + QPoint(-40, 0)
    end = QPoint(viewport.width() // 2 - 40, 40)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(viewport, (start + end) / 2)
    QTest.mouseMove(viewport, end)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)


def problems(window):
    return "\n".join(window.problems_dock.messages())


@pytest.mark.parametrize("merge", ["Add", "Concatenate"])
def test_the_first_connection_into_a_merge_is_accepted_and_waits_in_problems(main_window, merge):
    window = main_window
    new_design(window)
    centre = window.canvas.viewport().width() // 2
    conv = drag_layer_from_palette(window, "Conv2D", QPoint(centre, 120))
    drag_between_ports(window, "input", conv)
    node = drag_layer_from_palette(window, merge, QPoint(centre, 260))
    messages = []
    window.scene.status_message.connect(messages.append)
    drag_between_ports(window, conv, node)
    assert (conv, node) in window.editor.document.edges(), messages
    assert not any(message.startswith("Cannot connect") for message in messages)
    assert f"{node}: {merge} needs at least 2 inputs; received 1" in problems(window)
    drag_between_ports(window, "input", node)  # the second input: 1x28x28 beside conv's 32x28x28
    if merge == "Add":  # shapes that cannot be summed: this connection itself is the problem
        assert ("input", node) not in window.editor.document.edges()
        assert messages[-1].startswith(f"Cannot connect input → {node}: {node}: Add needs inputs of one shape")
    else:  # channels can be joined
        assert ("input", node) in window.editor.document.edges()
        assert window.editor.document.report[node].output_shape == (33, 28, 28)
        assert "needs at least 2 inputs" not in problems(window)


def test_a_residual_block_built_by_dragging_alone_trains(main_window, qtbot):
    window = main_window
    new_design(window)
    centre = window.canvas.viewport().width() // 2
    conv1 = drag_layer_from_palette(window, "Conv2D", QPoint(centre, 110))
    conv2 = drag_layer_from_palette(window, "Conv2D", QPoint(centre + 200, 185))
    add = drag_layer_from_palette(window, "Add", QPoint(centre, 260))
    flatten = drag_layer_from_palette(window, "Flatten", QPoint(centre, 335))
    dense = drag_layer_from_palette(window, "Dense", QPoint(centre, 410))
    for source, target in (("input", conv1), (conv1, conv2), (conv2, add), (conv1, add), (add, flatten),
                           (flatten, dense)):
        drag_between_ports(window, source, target)
    document = window.editor.document
    assert document.inputs_of(add) == [conv2, conv1]
    assert document.report[add].output_shape == (32, 28, 28)

    click_node(window, dense)  # ten classes: the inspector's units field, typed
    type_into(window.inspector_dock.field_editors["units"].box, "10")
    assert document.node(dense)["units"] == 10
    assert document.report.valid, problems(window)

    panel = window.dashboard.training_panel
    open_workspace(window, "Train")
    type_into(panel.form.train_limit, "1000")  # 1,000 examples in batches of 50: 20 steps
    type_into(panel.form.batch_size, "50")
    type_into(panel.form.epochs, "1")
    steps = []
    window.dashboard.controller.steps_reported.connect(steps.extend)
    with qtbot.waitSignal(window.dashboard.controller.run_finished, timeout=TRAINING_TIMEOUT_MS) as finished:
        click(panel.start_button)
    assert finished.args[0].step == 20
    assert [event.step for event in steps][-1] == 20
    assert all(event.loss == event.loss for event in steps)  # finite: NaN != NaN
    assert steps[-1].loss < steps[0].loss
