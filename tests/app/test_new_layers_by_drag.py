"""The issue's new layers on the canvas, built with the mouse and keyboard alone: a recurrent reader of the
image's rows (Input -> Reshape -> LSTM -> Dense) dragged from the palette and wired port to port, the Reshape's
target shape typed in the inspector, the shapes shown on the nodes; an LSTM wired straight after an image is
refused in the engine's words (the rule and the fix); UpSampling2D and Conv2DTranspose after a convolution."""

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from app.canvas.port_item import PortState
from app.canvas.style import GROUP_COLORS, UNKNOWN_GROUP_COLOR, group_color
from app.field_editors import ShapeEditor
from app.layer_icons import MARKS
from tests.app.gui_helpers import (
    LEFT,
    NO_MODIFIER,
    click_node,
    drag_between_ports,
    drag_layer_from_palette,
    hidden_part,
    port_position,
    type_into,
    wait_until_shown,
)

NEW_TYPES = ("Reshape", "SimpleRNN", "LSTM", "GRU", "UpSampling2D", "Conv2DTranspose")
SEQUENCE_RULE = "LSTM reads a sequence (steps x features); received 1x28x28: add a Reshape to [28, 28] before it"


def new_design(window):
    """File > New, its Input moved to the top of the canvas (the room below is for the layers)."""
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.editor.document.node_ids() == ["input"]
    viewport = window.canvas.viewport()
    start = window.canvas.mapFromScene(window.scene.node_items["input"].scenePos()) + QPoint(-40, 0)
    end = QPoint(viewport.width() // 2 - 40, 40)
    QTest.mousePress(viewport, LEFT, NO_MODIFIER, start)
    QTest.mouseMove(viewport, (start + end) / 2)
    QTest.mouseMove(viewport, end)
    QTest.mouseRelease(viewport, LEFT, NO_MODIFIER, end)


def shown_on(window, node_id: str) -> str:
    """The second line of the node on the canvas: its output shape and parameters, or its problem."""
    return window.scene.node_items[node_id].detail


def test_the_palette_shows_the_new_types_in_their_groups_with_marks_and_colours(main_window):
    tree = main_window.palette_dock.tree
    groups = {tree.topLevelItem(i).text(0): [tree.topLevelItem(i).child(j).text(0)
                                             for j in range(tree.topLevelItem(i).childCount())]
              for i in range(tree.topLevelItemCount())}
    assert groups["Recurrent"] == ["SimpleRNN", "LSTM", "GRU"]
    assert "Reshape" in groups["Core"]
    assert {"UpSampling2D", "Conv2DTranspose"} <= {name for names in groups.values() for name in names}
    assert all(name in MARKS for name in NEW_TYPES)
    assert "recurrent" in GROUP_COLORS and group_color("LSTM").name() == GROUP_COLORS["recurrent"]
    assert all(group_color(name).name() != UNKNOWN_GROUP_COLOR for name in NEW_TYPES)


def test_a_row_reading_lstm_is_built_by_dragging_and_typing(main_window):
    window = main_window
    new_design(window)
    centre = window.canvas.viewport().width() // 2
    reshape = drag_layer_from_palette(window, "Reshape", QPoint(centre, 120))
    drag_between_ports(window, "input", reshape)
    assert shown_on(window, reshape) == "784"  # a new Reshape puts every value in a row: [-1]

    click_node(window, reshape)
    editor = window.inspector_dock.field_editors["target_shape"]
    assert isinstance(editor, ShapeEditor)
    type_into(editor.line, "28, 28")
    assert window.editor.document.node(reshape)["target_shape"] == [28, 28]
    assert shown_on(window, reshape) == "28×28"  # a sequence: 28 steps of 28 values
    type_into(editor.line, "-1 x 28")  # -1: worked out from the input's size
    assert window.editor.document.node(reshape)["target_shape"] == [-1, 28]
    assert shown_on(window, reshape) == "28×28"

    lstm = drag_layer_from_palette(window, "LSTM", QPoint(centre, 200))
    dense = drag_layer_from_palette(window, "Dense", QPoint(centre, 280))
    drag_between_ports(window, reshape, lstm)
    drag_between_ports(window, lstm, dense)
    document = window.editor.document
    assert document.edges() == [("input", reshape), (reshape, lstm), (lstm, dense)]
    assert shown_on(window, lstm) == "128  ·  80.4k params"  # 4 gates x 128 x (28 + 128 + 1)
    assert document.report[lstm].params == 4 * 128 * (28 + 128 + 1)
    assert shown_on(window, dense).startswith("64  ·")
    assert document.report.valid

    click_node(window, lstm)  # every step's state: 28 steps of 128, which a Dense cannot read as it is
    box = window.inspector_dock.field_editors["return_sequences"].box
    wait_until_shown(box)  # the inspector's new form shows from the event loop
    assert hidden_part(box) is None, hidden_part(box)
    QTest.mouseClick(box, LEFT, NO_MODIFIER, QPoint(8, box.height() // 2))  # on the box itself
    assert document.node(lstm)["return_sequences"] is True
    assert shown_on(window, lstm).startswith("28×128  ·")
    assert window.scene.node_items[dense].is_invalid
    assert "Dense expects a flat input" in shown_on(window, dense)


def test_the_reshape_editor_takes_minus_one_and_the_input_keeps_its_own_rule(main_window):
    window = main_window
    new_design(window)
    reshape = drag_layer_from_palette(window, "Reshape", QPoint(window.canvas.viewport().width() // 2, 140))
    drag_between_ports(window, "input", reshape)
    document = window.editor.document
    click_node(window, reshape)
    line = window.inspector_dock.field_editors["target_shape"].line
    for refused in ("-1, -1", "0, 28", "1, 2, 3, 4", "28, twenty"):
        type_into(line, refused)
        assert document.node(reshape)["target_shape"] == [-1], refused
        assert "border" in line.styleSheet() and line.toolTip(), refused
    type_into(line, "7, 112")  # a shape of the wrong size is kept, and the engine says why
    assert document.node(reshape)["target_shape"] == [7, 112]
    type_into(line, "7, 7, 7")
    assert window.scene.node_items[reshape].is_invalid
    assert "the sizes must be equal" in shown_on(window, reshape)

    click_node(window, "input")
    line = window.inspector_dock.field_editors["shape"].line
    for refused in ("-1, 28", "28, 28", "0"):  # an Input is 1 number (features) or 3 (an image)
        type_into(line, refused)
        assert document.node("input")["shape"] == [1, 28, 28], refused
    type_into(line, "1, 7, 112")
    assert document.node("input")["shape"] == [1, 7, 112]


def test_an_lstm_wired_straight_after_an_image_is_refused_naming_the_rule_and_the_fix(main_window):
    window = main_window
    new_design(window)
    centre = window.canvas.viewport().width() // 2
    lstm = drag_layer_from_palette(window, "LSTM", QPoint(centre, 160))
    messages = []
    window.scene.status_message.connect(messages.append)

    # While the connection is dragged, the LSTM's port refuses it and says why.
    viewport = window.canvas.viewport()
    start, end = port_position(window, "input", output=True), port_position(window, lstm, output=False)
    QTest.mousePress(viewport, LEFT, NO_MODIFIER, start)
    QTest.mouseMove(viewport, (start + end) / 2)
    QTest.mouseMove(viewport, end)
    port = window.scene.node_items[lstm].input_port
    assert port.state == PortState.REFUSES and SEQUENCE_RULE in port.toolTip()
    QTest.mouseRelease(viewport, LEFT, NO_MODIFIER, end)
    assert ("input", lstm) not in window.editor.document.edges()
    assert messages[-1] == f"Cannot connect input → {lstm}: {lstm}: {SEQUENCE_RULE}"
    assert window.statusBar().currentMessage() == messages[-1]


def test_an_lstm_dropped_into_an_images_connection_is_marked_with_the_rule(main_window):
    window = main_window
    new_design(window)
    centre = window.canvas.viewport().width() // 2
    flatten = drag_layer_from_palette(window, "Flatten", QPoint(centre, 260))
    drag_between_ports(window, "input", flatten)
    edge = window.scene.edge_items[("input", flatten)]
    middle = window.canvas.mapFromScene(edge.path().pointAtPercent(0.5))
    lstm = drag_layer_from_palette(window, "LSTM", middle)  # dropped into the connection: inserted there
    assert set(window.editor.document.edges()) == {("input", lstm), (lstm, flatten)}
    item = window.scene.node_items[lstm]
    assert item.is_invalid and item.detail == f"⚠ {SEQUENCE_RULE}"
    assert f"⚠ {lstm}: {SEQUENCE_RULE}" in window.problems_dock.messages()


@pytest.mark.parametrize("layer, shape", [("UpSampling2D", "32×56×56"), ("Conv2DTranspose", "32×56×56")])
def test_decoder_layers_after_a_convolution_show_their_shapes(main_window, layer, shape):
    window = main_window
    new_design(window)
    centre = window.canvas.viewport().width() // 2
    conv = drag_layer_from_palette(window, "Conv2D", QPoint(centre, 120))
    node = drag_layer_from_palette(window, layer, QPoint(centre, 220))
    drag_between_ports(window, "input", conv)
    drag_between_ports(window, conv, node)
    assert shown_on(window, conv).startswith("32×28×28")
    assert shown_on(window, node).split("  ·")[0] == shape  # twice the height and width
    assert window.editor.document.report.valid
    if layer == "Conv2DTranspose":  # 3x3 stride 2 'same': in * 2; 'valid' would be (in - 1) * 2 + 3
        click_node(window, node)
        assert window.editor.document.report[node].params == 32 * 32 * 9 + 32
        type_into(window.inspector_dock.field_editors["filters"].box, "8")
        assert shown_on(window, node).startswith("8×56×56")
        type_into(window.inspector_dock.id_edit, "deconv1")  # the template's name: whole beside the long type
        title, layer_type = window.scene.node_items["deconv1"].header_texts()
        assert title == "deconv1" and layer_type.startswith("Conv2DTrans")
