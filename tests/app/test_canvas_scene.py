"""The scene reflects the document (items follow its signals, never rebuilt on an edit), and mouse work
on it becomes undoable edits: a port-to-port drag connects, refused ports say why, a drag moves."""

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from app.canvas.port_item import PortState
from app.canvas.scene import NetworkScene
from app.canvas.view import CanvasView
from app.document.editor import DocumentEditor


@pytest.fixture
def editor(qapp, seed_spec):
    editor = DocumentEditor()
    editor.open_spec(seed_spec)
    return editor


@pytest.fixture
def scene(editor):
    return NetworkScene(editor)


@pytest.fixture
def view(qtbot, scene):
    view = CanvasView(scene)
    qtbot.addWidget(view)
    view.resize(800, 900)
    view.show()
    qtbot.waitExposed(view)
    view.reset_view()
    view.centerOn(QPointF(0, 320))
    return view


def test_items_are_made_for_every_node_and_edge_with_their_shapes(scene):
    assert list(scene.node_items) == scene.document.node_ids()
    conv1 = scene.node_items["conv1"]
    assert conv1.detail == "32×28×28  ·  832 params"
    assert conv1.input_port is not None and scene.node_items["input"].input_port is None
    assert scene.edge_items[("pool2", "flatten")].label.text() == "64×7×7"
    assert conv1.pos() == QPointF(*scene.document.position("conv1"))


def test_items_follow_edits_undo_and_redo_without_being_rebuilt(scene, editor):
    kept = dict(scene.node_items)
    node_id = editor.add_node_after("BatchNormalization", "conv1")
    assert scene.node_items[node_id].detail == "32×28×28  ·  64 params"
    assert ("conv1", node_id) in scene.edge_items and ("conv1", "pool1") not in scene.edge_items
    assert all(scene.node_items[n] is item for n, item in kept.items())  # same objects: nothing rebuilt
    editor.undo_stack.undo()
    assert node_id not in scene.node_items and ("conv1", "pool1") in scene.edge_items
    assert all(scene.node_items[n] is item for n, item in kept.items())
    editor.rename("fc1", "hidden")
    assert scene.node_items["hidden"] is kept["fc1"] and ("flatten", "hidden") in scene.edge_items


def test_invalid_nodes_get_the_error_style_and_the_engine_message(scene, editor):
    editor.set_fields("conv2", {"kernel_size": 20, "padding": "valid"})
    conv2 = scene.node_items["conv2"]
    assert conv2.is_invalid
    assert "conv2: kernel 20x20 does not fit a 14x14 input with padding 'valid'" in conv2.toolTip()
    assert conv2.detail.startswith("⚠ kernel 20x20 does not fit")
    assert scene.node_items["pool2"].detail == "shape unknown (fix the nodes above)"
    assert scene.edge_items[("conv2", "pool2")].label.text() == "?"
    editor.undo_stack.undo()
    assert not conv2.is_invalid and scene.edge_items[("conv2", "pool2")].label.text() == "64×14×14"


def test_dragging_from_an_output_marks_ports_that_refuse_and_why(scene, editor):
    dense = editor.add_node("Dense", (300, 0))
    drag = scene.start_connection(scene.node_items["pool2"].output_port)
    refused = scene.node_items[dense].input_port
    assert refused.state is PortState.REFUSES
    assert "Dense expects a flat input; received shape 64x7x7" in refused.toolTip()
    assert scene.node_items["conv1"].input_port.state is PortState.REFUSES  # a cycle
    assert "would form a cycle" in scene.node_items["conv1"].input_port.toolTip()
    assert scene.node_items["flatten"].input_port.state is PortState.REFUSES  # already connected
    messages = []
    scene.status_message.connect(messages.append)
    assert "Dense expects a flat input" in drag.move_to(refused.scenePos())
    scene.finish_connection(refused.scenePos())
    assert messages[-1].startswith(f"Cannot connect pool2 → {dense}: {dense}: Dense expects a flat input")
    assert ("pool2", dense) not in editor.document.edges()
    assert all(port.state is PortState.IDLE for item in scene.node_items.values() for port in item.ports())


def test_a_drop_on_an_accepting_port_connects(scene, editor):
    dense = editor.add_node("Dense", (300, 0))
    scene.start_connection(scene.node_items["flatten"].output_port)
    target = scene.node_items[dense].input_port
    assert target.state is PortState.ACCEPTS
    scene.connection_drag.move_to(target.scenePos())
    assert target.state is PortState.TARGETED
    scene.finish_connection(target.scenePos())
    assert ("flatten", dense) in scene.edge_items
    assert scene.edge_items[("flatten", dense)].label.text() == "3136"
    editor.undo_stack.undo()
    assert ("flatten", dense) not in scene.edge_items


def test_dragging_backwards_from_an_input_port_works_too(scene, editor):
    dense = editor.add_node("Dense", (300, 0))
    scene.start_connection(scene.node_items[dense].input_port)
    assert scene.node_items["pool1"].output_port.state is PortState.REFUSES
    assert scene.node_items["fc1"].output_port.state is PortState.ACCEPTS
    scene.finish_connection(scene.node_items["fc1"].scenePos())  # over the node's body: its output port
    assert ("fc1", dense) in editor.document.edges()


def test_mouse_drag_between_ports_in_the_view_connects(view, scene, editor, qtbot):
    dense = editor.add_node("Dense", (300, 560))
    start = view.mapFromScene(scene.node_items["flatten"].output_port.scenePos())
    end = view.mapFromScene(scene.node_items[dense].input_port.scenePos())
    viewport = view.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(viewport, pos=(start + end) / 2)
    qtbot.mouseMove(viewport, pos=end)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    assert ("flatten", dense) in editor.document.edges()


def test_moving_a_node_with_the_mouse_is_one_undo_step(view, scene, editor, qtbot):
    item = scene.node_items["fc1"]
    start = view.mapFromScene(item.scenePos() + QPointF(-40, 0))  # on the body, away from the ports
    viewport = view.viewport()
    before = editor.document.position("fc1")
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 6):
        qtbot.mouseMove(viewport, pos=start + QPoint(20 * step, 4 * step))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=start + QPoint(100, 20))
    after = editor.document.position("fc1")
    assert after != before and editor.undo_stack.count() == 1
    assert scene.edge_items[("flatten", "fc1")].path().pointAtPercent(1).x() == pytest.approx(after[0])
    editor.undo_stack.undo()
    assert item.pos() == QPointF(*before)


def test_dropping_a_loose_node_onto_an_edge_inserts_it(view, scene, editor, qtbot):
    node_id = editor.add_node("Dropout", (300, 300))
    count = editor.undo_stack.count()
    item = scene.node_items[node_id]
    target = scene.edge_items[("conv2", "pool2")].path().pointAtPercent(0.5)
    grab = QPointF(-40, 0)  # on the body, away from the ports
    start = view.mapFromScene(item.scenePos() + grab)
    end = view.mapFromScene(target + grab)
    viewport = view.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(viewport, pos=(start + end) / 2)
    qtbot.mouseMove(viewport, pos=end)
    assert scene.edge_items[("conv2", "pool2")].highlighted
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    edges = editor.document.edges()
    assert ("conv2", node_id) in edges and (node_id, "pool2") in edges and ("conv2", "pool2") not in edges
    assert editor.undo_stack.count() == count + 1
    editor.undo_stack.undo()
    assert ("conv2", "pool2") in editor.document.edges() and editor.document.position(node_id) == (300.0, 300.0)
