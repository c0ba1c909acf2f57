"""The inspector: a node's settings as widgets; edits change the spec, are undoable, and the widgets
follow undo, redo and renames."""

import pytest
from PySide6.QtWidgets import QApplication

from app.document.editor import DocumentEditor
from app.field_editors import (
    BoolEditor,
    ChoiceEditor,
    InitializerEditor,
    IntEditor,
    PaddingEditor,
    PairEditor,
    ShapeEditor,
    field_editor,
)
from app.inspector_dock import InspectorDock


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
