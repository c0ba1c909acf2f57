"""The inspector: a node's settings as widgets; edits change the spec, are undoable, and the widgets
follow undo, redo and renames."""

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

import engine
from app.document.editor import DocumentEditor
from app.field_editors import (
    BoolEditor,
    ChoiceEditor,
    FloatEditor,
    InitializerEditor,
    IntEditor,
    PaddingEditor,
    PairEditor,
    ShapeEditor,
    field_editor,
)
from app.inspector_dock import InspectorDock
from engine.layers import Layer
from engine.layers.fields import REQUIRED, Field
from tests.app.gui_helpers import choose_in_combo, click_node, drag_layer_from_palette, type_into


@pytest.fixture
def editor(qapp, seed_spec):
    editor = DocumentEditor()
    editor.open_spec(seed_spec)
    return editor


@pytest.fixture
def inspector(qtbot, editor):
    dock = InspectorDock()
    dock.set_editor(editor)
    qtbot.addWidget(dock)
    dock.show()
    return dock


def test_the_widgets_match_each_setting(inspector):
    inspector.show_nodes(["conv1"])
    editors = inspector.field_editors
    assert list(editors) == ["filters", "kernel_size", "strides", "padding", "activation", "use_bias",
                             "kernel_initializer", "bias_initializer"]
    assert isinstance(editors["filters"], IntEditor) and editors["filters"].box.minimum() == 1
    assert isinstance(editors["kernel_size"], PairEditor) and editors["kernel_size"].value() == 5
    assert isinstance(editors["padding"], PaddingEditor) and editors["padding"].value() == "same"
    assert isinstance(editors["activation"], ChoiceEditor) and editors["activation"].value() == "relu"
    assert isinstance(editors["use_bias"], BoolEditor) and editors["use_bias"].value() is True
    initializer = editors["kernel_initializer"]
    assert isinstance(initializer, InitializerEditor)
    assert initializer.value() == {"name": "truncated_normal", "mean": 0.0, "stddev": 0.1}
    assert "Output: <b>32×28×28</b>" in inspector.output_label.text()
    assert "Parameters: 832" in inspector.output_label.text()
    inspector.show_nodes(["input"])
    assert isinstance(inspector.field_editors["shape"], ShapeEditor)
    assert inspector.field_editors["shape"].line.text() == "1, 28, 28"


def test_editing_a_setting_changes_the_spec_and_undo_brings_it_back(inspector, editor):
    inspector.show_nodes(["fc1"])
    units = inspector.field_editors["units"]
    units.box.setValue(512)
    assert editor.document.node("fc1")["units"] == 512
    assert editor.document.report["fc1"].params == 3136 * 512 + 512
    assert "Parameters: 1,606,144" in inspector.output_label.text()
    editor.undo_stack.undo()
    assert editor.document.node("fc1")["units"] == 1024
    assert units.box.value() == 1024  # the widget follows the document
    editor.undo_stack.redo()
    assert units.box.value() == 512


def test_choices_pairs_and_padding_write_spec_values(inspector, editor):
    inspector.show_nodes(["conv2"])
    editors = inspector.field_editors
    editors["activation"].combo.setCurrentIndex(0)
    assert editor.document.node("conv2")["activation"] is None
    editors["kernel_size"].width.setValue(3)
    assert editor.document.node("conv2")["kernel_size"] == [5, 3]
    padding = editors["padding"]
    padding.mode.setCurrentIndex(2)
    assert padding.pixels.isVisibleTo(padding)
    assert editor.document.node("conv2")["padding"] == 0  # explicit pixels, starting from none
    padding.pixels.height.setValue(2)
    assert editor.document.node("conv2")["padding"] == [2, 0]
    editors["kernel_initializer"].combo.setCurrentText("he_normal")
    assert editor.document.node("conv2")["kernel_initializer"] == "he_normal"
    assert editor.document.report.valid


def test_an_edit_that_breaks_the_design_is_kept_and_explained(inspector, editor):
    inspector.show_nodes(["conv2"])
    inspector.field_editors["padding"].mode.setCurrentIndex(0)
    inspector.field_editors["kernel_size"].height.setValue(15)
    inspector.field_editors["kernel_size"].width.setValue(15)
    assert inspector.problems_label.isVisibleTo(inspector)
    assert inspector.problems_label.text() == "conv2: kernel 15x15 does not fit a 14x14 input with padding 'valid'"
    assert inspector.output_label.text() == "Output: unknown until the problems are fixed"


def test_pool_strides_can_follow_the_pool_size(inspector, editor):
    inspector.show_nodes(["pool1"])
    strides = inspector.field_editors["strides"]
    assert strides.value() == 2
    strides.none_box.setChecked(True)
    assert editor.document.node("pool1")["strides"] is None
    assert editor.document.report["pool1"].output_shape == (32, 14, 14)


def test_the_input_shape_is_typed_and_checked(inspector, editor, qtbot):
    inspector.show_nodes(["input"])
    line = inspector.field_editors["shape"].line
    line.setText("3, 32")
    line.editingFinished.emit()
    assert editor.document.node("input")["shape"] == [1, 28, 28]  # refused: two numbers
    assert "border" in line.styleSheet()
    line.setText("3 x 32 x 32")
    line.editingFinished.emit()
    assert editor.document.node("input")["shape"] == [3, 32, 32]
    assert editor.document.report["conv1"].output_shape == (32, 32, 32)


def test_renaming_through_the_id_box(inspector, editor):
    inspector.show_nodes(["fc1"])
    inspector.id_edit.setText("hidden")
    inspector.id_edit.editingFinished.emit()
    assert "hidden" in editor.document.node_ids() and inspector.node_id == "hidden"
    inspector.id_edit.setText("logits")
    inspector.id_edit.editingFinished.emit()
    assert inspector.id_edit.text() == "hidden"
    assert "already exists" in inspector.id_error.text()
    editor.undo_stack.undo()
    assert inspector.id_edit.text() == "fc1"


def test_removing_the_shown_node_empties_the_inspector(inspector, editor):
    inspector.show_nodes(["dropout"])
    editor.delete(["dropout"])
    assert inspector.is_empty()
    QApplication.processEvents()


def test_unknown_settings_fall_back_to_json():
    editor = field_editor("Future", "mystery")
    editor.set_value({"a": 1})
    assert editor.value() == {"a": 1}


# -- a layer type the app has never heard of is edited from the engine's declarations alone ------------------

class _Echo(Layer):
    """A test-only layer: passes its input through; its four settings are one of each plain kind."""

    type_name = "Echo"
    fields = {
        "repeats": Field("int", REQUIRED, low=2, high=8, help="How many times to echo."),
        "gain": Field("float", 0.5, low=0.0, high=2.0, step=0.1, help="How loud each echo is."),
        "mode": Field("choice", "soft", choices=("soft", "hard"), help="How echoes fade."),
        "enabled": Field("bool", True, help="Whether the echo is on."),
    }


@pytest.fixture
def echo_layer_type():
    engine.register_layer_type(_Echo, "core", "Repeats its input (a layer type only the tests know).")
    yield "Echo"
    engine.unregister_layer_type("Echo")


def test_a_new_layer_type_is_edited_on_the_canvas_with_no_app_code(echo_layer_type, main_window):
    window, editor = main_window, main_window.editor
    node_id = drag_layer_from_palette(window, "Echo", QPoint(60, 60))
    assert editor.document.node(node_id) == {"id": node_id, "type": "Echo", "repeats": 2}  # the smallest allowed
    window.scene.clearSelection()
    click_node(window, node_id)
    inspector = window.inspector_dock
    assert inspector.node_id == node_id
    editors = inspector.field_editors
    assert list(editors) == ["repeats", "gain", "mode", "enabled"]

    repeats, gain, mode, enabled = (editors[f] for f in ("repeats", "gain", "mode", "enabled"))
    assert isinstance(repeats, IntEditor) and (repeats.box.minimum(), repeats.box.maximum()) == (2, 8)
    assert repeats.value() == 2 and repeats.toolTip() == "How many times to echo."
    assert isinstance(gain, FloatEditor) and (gain.box.minimum(), gain.box.maximum()) == (0.0, 2.0)
    assert gain.value() == 0.5 and gain.box.singleStep() == pytest.approx(0.1)
    assert isinstance(mode, ChoiceEditor) and [mode.combo.itemText(i) for i in range(2)] == ["soft", "hard"]
    assert mode.value() == "soft" and mode.toolTip() == "How echoes fade."
    assert isinstance(enabled, BoolEditor) and enabled.value() is True

    type_into(repeats.box, "5")
    assert editor.document.node(node_id)["repeats"] == 5
    type_into(gain.box, "1.5")
    assert editor.document.node(node_id)["gain"] == 1.5
    choose_in_combo(mode.combo, "hard")
    assert editor.document.node(node_id)["mode"] == "hard"
    QTest.keyClick(enabled.box, Qt.Key.Key_Space)  # a check box with no text: toggled from the keyboard
    assert editor.document.node(node_id)["enabled"] is False
    assert editor.document.problems_of(node_id) == [f"{node_id}: Echo needs an input; received 0"]  # settings fine

    editor.undo_stack.undo()  # each edit is one undoable step, and the widgets follow the document
    assert "enabled" not in editor.document.node(node_id) and enabled.value() is True  # the default again
    editor.undo_stack.undo()
    assert "mode" not in editor.document.node(node_id) and mode.value() == "soft"
    editor.undo_stack.redo()
    assert editor.document.node(node_id)["mode"] == "hard" and mode.value() == "hard"


def test_spin_box_ranges_are_the_engines(inspector):
    inspector.show_nodes(["fc1"])
    assert inspector.field_editors["units"].box.maximum() == engine.layer_schema("Dense").limits["units"][1]
    inspector.show_nodes(["dropout"])
    rate = inspector.field_editors["rate"].box
    assert rate.minimum() == 0.0 and rate.maximum() == pytest.approx(0.999)  # the engine refuses 1 itself
