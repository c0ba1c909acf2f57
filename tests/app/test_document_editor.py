"""The editor: every edit is one undo step, refused edits push nothing, ids are readable and unique."""

import json

import pytest

import resources
from app.document import errors
from app.document.clipboard import ClipboardError, payload_from_text, payload_to_text
from app.document.editor import DocumentEditor
from app.document.new_nodes import new_node, unique_id


@pytest.fixture
def editor(qapp):
    editor = DocumentEditor()
    editor.open_spec(json.loads(resources.examples()["seed-cnn"].read_text(encoding="utf-8")))
    return editor


def undo_all_and_redo_all(editor):
    """Undo back to the opened file and redo again; the spec and layout must come back exactly."""
    after = (editor.document.spec(), editor.document.positions())
    stack = editor.undo_stack
    while stack.canUndo():
        stack.undo()
    assert not editor.modified
    before = (editor.document.spec(), editor.document.positions())
    while stack.canRedo():
        stack.redo()
    assert (editor.document.spec(), editor.document.positions()) == after
    return before


def test_opening_lays_out_top_to_bottom_and_is_unmodified(editor):
    positions = editor.document.positions()
    ys = [positions[n][1] for n in editor.document.node_ids()]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)
    assert {positions[n][0] for n in positions} == {0.0}
    assert not editor.modified and editor.undo_stack.count() == 0


def test_ids_are_readable_and_unique():
    assert unique_id("conv", ["conv1", "conv3"]) == "conv2"
    assert unique_id("input", []) == "input"
    assert unique_id("input", ["input"]) == "input1"
    node = new_node("Conv2D", ["conv1"])
    assert node["id"] == "conv2" and node["filters"] == 32 and node["kernel_size"] == 3
    assert new_node("MaxPooling2D", [])["id"] == "pool1"
    assert new_node("Dense", ["dense1"])["id"] == "dense2"


def test_add_then_undo_and_redo(editor):
    before_spec = editor.document.spec()
    node_id = editor.add_node("Dense", (300, 0))
    assert node_id == "dense1" and editor.modified
    assert editor.undo_stack.undoText() == "Add dense1"
    editor.undo_stack.undo()
    assert editor.document.spec() == before_spec and not editor.modified
    editor.undo_stack.redo()
    assert editor.document.position("dense1") == (300.0, 0.0)


def test_connect_checks_first_and_pushes_nothing_when_refused(editor):
    dense = editor.add_node("Dense", (300, 0))
    count = editor.undo_stack.count()
    with pytest.raises(errors.IncompatibleConnectionError, match="Dense expects a flat input"):
        editor.connect("pool2", dense)
    with pytest.raises(errors.CycleError):
        editor.connect("logits", "conv1")
    assert editor.undo_stack.count() == count
    editor.connect("flatten", dense)
    assert ("flatten", dense) in editor.document.edges()
    undo_all_and_redo_all(editor)


def test_delete_nodes_and_edges_is_one_step_and_undo_restores_edge_order(qapp):
    editor = DocumentEditor()
    editor.open_spec({"name": "branches", "nodes": [
        {"id": "input", "type": "Input", "shape": [3, 8, 8]},
        {"id": "a", "type": "Conv2D", "filters": 4, "kernel_size": 1},
        {"id": "b", "type": "Conv2D", "filters": 5, "kernel_size": 1},
        {"id": "join", "type": "Concatenate"}],
        "edges": [["input", "a"], ["input", "b"], ["b", "join"], ["a", "join"]]})
    assert editor.document.report["join"].output_shape == (9, 8, 8)
    original = editor.document.spec()
    editor.delete(["a"], [("b", "join")])
    assert editor.document.edges() == [("input", "b")]
    assert editor.undo_stack.undoText() == "Delete 2 items"
    editor.undo_stack.undo()
    assert editor.document.spec() == original  # Concatenate's input order (b, then a) is back


def test_add_after_the_selected_node_splices_it_into_the_chain(editor):
    node_id = editor.add_node_after("BatchNormalization", "conv1")
    document = editor.document
    assert node_id == "bn1"
    assert ("conv1", "bn1") in document.edges() and ("bn1", "pool1") in document.edges()
    assert ("conv1", "pool1") not in document.edges()
    assert document.position("bn1")[1] < document.position("pool1")[1]  # the rest moved down
    assert document.report["bn1"].output_shape == (32, 28, 28)
    assert editor.undo_stack.undoText() == "Add bn1 after conv1"
    undo_all_and_redo_all(editor)


def test_add_after_nothing_follows_the_network_output(editor):
    node_id = editor.add_node_after("Activation", None)
    assert ("logits", node_id) in editor.document.edges()


def test_insert_on_an_edge(editor):
    node_id = editor.insert_on_edge("Dropout", ("pool1", "conv2"), (50, 200))
    edges = editor.document.edges()
    assert ("pool1", node_id) in edges and (node_id, "conv2") in edges and ("pool1", "conv2") not in edges
    with pytest.raises(errors.InputTakesNoInputsError):
        editor.insert_on_edge("Input", ("conv1", "pool1"), (0, 0))
    undo_all_and_redo_all(editor)


def test_field_edits_merge_while_the_same_setting_changes(editor):
    for units in (1000, 1010, 1020):
        editor.set_fields("fc1", {"units": units})
    editor.set_fields("fc1", {"units": 1020})  # no change: nothing pushed
    assert editor.undo_stack.count() == 1
    assert editor.document.report["fc1"].params == 3136 * 1020 + 1020
    editor.undo_stack.undo()
    assert editor.document.node("fc1")["units"] == 1024


def test_consecutive_moves_merge_and_tidy_undoes(editor):
    editor.move_nodes({"conv1": (10, 90)})
    editor.move_nodes({"conv1": (20, 95)})
    assert editor.undo_stack.count() == 1
    editor.move_nodes({"conv1": (20, 95), "pool1": (0, 180)})  # unmoved nodes are left out: one node moved
    editor.tidy()
    assert editor.document.position("conv1") == (0.0, 80.0)
    assert editor.undo_stack.undoText() == "Tidy layout"
    editor.undo_stack.undo()
    assert editor.document.position("conv1") == (20.0, 95.0)


def test_rename_is_undoable_and_refuses_taken_ids(editor):
    editor.rename("fc1", "hidden")
    assert "hidden" in editor.document.node_ids()
    with pytest.raises(errors.DuplicateNodeIdError):
        editor.rename("hidden", "logits")
    editor.undo_stack.undo()
    assert "fc1" in editor.document.node_ids()


def test_copy_paste_and_duplicate_give_fresh_ids_and_keep_inner_edges(editor):
    payload = payload_from_text(payload_to_text(editor.copy(["conv2", "pool2"])))
    assert payload["edges"] == [["conv2", "pool2"]]
    pasted = editor.paste(payload, centre=(400, 0))
    assert pasted == ["conv3", "pool3"]
    assert ("conv3", "pool3") in editor.document.edges()
    x3, y3 = editor.document.position("conv3")
    x4, y4 = editor.document.position("pool3")
    assert (x3, (y3 + y4) / 2) == (400.0, 0.0)
    assert editor.duplicate(["fc1"]) == ["fc2"]
    assert editor.document.position("fc2") == tuple(a + 40 for a in editor.document.position("fc1"))
    assert editor.undo_stack.undoText() == "Paste fc2"
    undo_all_and_redo_all(editor)


DANGLING_EDGE = ('{"format": "layerlab-nodes", "version": 1, "nodes": [{"id": "a", "type": "Flatten"}],'
                 ' "edges": [["a", "b"]], "positions": {"a": [0, 0]}}')


@pytest.mark.parametrize("text", ["not json", '{"format": "other"}', DANGLING_EDGE])
def test_foreign_or_damaged_clipboards_are_refused(text):
    with pytest.raises(ClipboardError):
        payload_from_text(text)


def test_training_settings_start_on_mnist_and_changes_are_undoable(editor):
    settings = editor.document.training_settings
    assert settings["dataset"] == "mnist" and settings["batch_size"] == 50
    editor.set_training_settings(settings | {"dataset": "fashion-mnist"})
    assert editor.modified
    editor.undo_stack.undo()
    assert editor.document.training_settings["dataset"] == "mnist"
