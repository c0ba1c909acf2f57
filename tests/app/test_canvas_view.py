"""The canvas view: zoom within limits, fit to view, palette drops (onto empty space and onto an edge),
the empty-canvas hint, and exporting the design as PNG and SVG."""

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from app.canvas.export import ExportError, export_png, export_svg
from app.canvas.scene import NetworkScene
from app.canvas.view import CanvasView
from app.document.editor import DocumentEditor
from app.palette_dock import layer_type_mime_data


@pytest.fixture
def view(qtbot, seed_spec):
    editor = DocumentEditor()
    editor.open_spec(seed_spec)
    scene = NetworkScene(editor)
    view = CanvasView(scene)
    view.kept_alive = (editor, scene)  # Python owns both; the view only points at the scene
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_zoom_stays_within_limits_and_resets(view):
    view.reset_view()
    view.zoom_by(2)
    assert view.zoom() == pytest.approx(2)
    view.zoom_by(100)
    assert view.zoom() == pytest.approx(CanvasView.MAX_ZOOM)
    view.zoom_by(1e-6)
    assert view.zoom() == pytest.approx(CanvasView.MIN_ZOOM)
    view.reset_view()
    assert view.zoom() == 1


def test_wheel_zooms_in_and_out(view):
    view.reset_view()

    def wheel(steps):
        centre = QPointF(view.viewport().rect().center())
        event = QWheelEvent(
            centre, view.viewport().mapToGlobal(centre), QPoint(0, 0), QPoint(0, 120 * steps),
            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
        )
        QApplication.sendEvent(view.viewport(), event)

    wheel(1)
    assert view.zoom() > 1
    wheel(-2)
    assert view.zoom() < 1


def test_fit_to_view_shows_every_node_and_keeps_fitting_until_zoomed(view, qtbot):
    view.fit_to_view()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(view.scene().network_rect())
    view.resize(700, 300)
    qtbot.wait(10)
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(view.scene().network_rect())
    view.zoom_by(2)
    zoom = view.zoom()
    view.resize(700, 500)
    assert view.zoom() == zoom


def drop(view, layer_type, scene_pos):
    """Drag a palette entry over the view and drop it, as Qt delivers it."""
    mime = layer_type_mime_data(layer_type)
    pos = QPointF(view.mapFromScene(scene_pos))
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), enter)
    assert enter.isAccepted()
    move = QDragMoveEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                          Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), move)
    assert move.isAccepted()
    event = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), event)
    return event


def test_a_palette_drop_on_empty_canvas_adds_a_node_there(view):
    editor = view.scene().editor
    event = drop(view, "Conv2D", QPointF(400, 100))
    assert event.isAccepted()
    assert "conv3" in editor.document.node_ids()
    x, y = editor.document.position("conv3")
    assert (x, y) == pytest.approx((400, 100), abs=2)
    assert editor.document.inputs_of("conv3") == []
    assert view.scene().selected_node_ids() == ["conv3"]
    editor.undo_stack.undo()
    assert "conv3" not in view.scene().node_items


def test_a_palette_drop_on_an_edge_inserts_the_node(view):
    editor = view.scene().editor
    edge_item = view.scene().edge_items[("fc1", "dropout")]
    drop(view, "BatchNormalization", edge_item.path().pointAtPercent(0.5))
    edges = editor.document.edges()
    assert ("fc1", "bn1") in edges and ("bn1", "dropout") in edges and ("fc1", "dropout") not in edges
    assert editor.document.report["bn1"].output_shape == (1024,)


def test_the_empty_canvas_shows_a_hint(view):
    editor = view.scene().editor
    editor.delete(editor.document.node_ids())
    assert view.scene().node_items == {}
    assert view.grab().toImage().pixelColor(view.viewport().rect().center()) is not None  # paints without error


def test_export_png_and_svg(view, tmp_path):
    scene = view.scene()
    scene.select_nodes(["conv1"])
    png = export_png(scene, tmp_path / "design.png")
    with Image.open(png) as image:
        assert image.format == "PNG"
        width, height = image.size
        assert height > width  # a column of nodes
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 20)) > 20
    svg = export_svg(scene, tmp_path / "design.svg")
    text = svg.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<?xml") and "<svg" in text and "conv1" in text
    assert scene.selected_node_ids() == ["conv1"]  # selection restored after the picture
    assert sorted(p.name for p in tmp_path.iterdir()) == ["design.png", "design.svg"]
    scene.editor.delete(scene.editor.document.node_ids())
    with pytest.raises(ExportError, match="nothing to export"):
        export_png(scene, tmp_path / "empty.png")


def test_a_drop_of_an_unknown_layer_type_is_refused_with_a_message(view):
    messages = []
    view.scene().status_message.connect(messages.append)
    assert view.drop_layer_type("Conv3D", QPointF(400, 100)) is None
    assert messages == ["Cannot add Conv3D there: unknown layer type 'Conv3D'; expected one of: Input, Dense, "
                        "Flatten, Conv2D, MaxPooling2D, AveragePooling2D, BatchNormalization, Dropout, Activation, "
                        "Add, Concatenate, Reshape, SimpleRNN, LSTM, GRU, UpSampling2D, Conv2DTranspose"]
    assert view.scene().editor.undo_stack.count() == 0


def test_middle_button_drag_pans(view, qtbot):
    view.reset_view()
    viewport = view.viewport()
    centre = viewport.rect().center()
    before = view.mapToScene(centre)
    qtbot.mousePress(viewport, Qt.MouseButton.MiddleButton, pos=centre)
    qtbot.mouseMove(viewport, pos=centre + QPoint(60, 40))
    qtbot.mouseRelease(viewport, Qt.MouseButton.MiddleButton, pos=centre + QPoint(60, 40))
    after = view.mapToScene(centre)
    assert (before.x() - after.x(), before.y() - after.y()) == pytest.approx((60, 40), abs=1)
