"""The main window: its four areas, its menus, New/Open, and closing."""

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QKeySequence

import engine
from app import main_window as main_window_module
from app.canvas_view import DEFAULT_HINT, CanvasView
from app.inspector_dock import EMPTY_TEXT
from app.version import package_version


def test_window_has_title_and_icon(main_window):
    assert main_window.windowTitle() == "LayerLab"
    assert not main_window.windowIcon().isNull()


def test_four_areas_are_shown_where_the_design_puts_them(main_window):
    assert isinstance(main_window.centralWidget(), CanvasView)
    assert main_window.canvas.isVisible()
    areas = {
        main_window.palette_dock: Qt.DockWidgetArea.LeftDockWidgetArea,
        main_window.inspector_dock: Qt.DockWidgetArea.RightDockWidgetArea,
        main_window.training_dock: Qt.DockWidgetArea.BottomDockWidgetArea,
    }
    for dock, area in areas.items():
        assert dock.isVisible(), dock.objectName()
        assert main_window.dockWidgetArea(dock) == area, dock.objectName()
        assert dock.width() > 100 and dock.height() > 100, dock.objectName()

    def origin(widget):
        return widget.mapTo(main_window, QPoint(0, 0))

    canvas, palette, inspector, training = (
        origin(w) for w in (main_window.canvas, *main_window.docks())
    )
    assert palette.x() < canvas.x() < inspector.x()
    assert training.y() > canvas.y()


def test_file_menu_has_standard_shortcuts_and_save_says_why_it_is_off(main_window):
    assert main_window.new_action.shortcut() == QKeySequence(QKeySequence.StandardKey.New)
    assert main_window.open_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Open)
    assert main_window.save_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Save)
    assert main_window.quit_action.shortcut() == QKeySequence("Ctrl+Q")
    assert not main_window.save_action.isEnabled()
    assert "issue 6" in main_window.save_action.toolTip()
    menu_titles = [action.text() for action in main_window.menuBar().actions()]
    assert menu_titles == ["&File", "&View", "&Help"]


def test_about_names_version_and_licenses():
    text = main_window_module.about_text()
    assert package_version() in text
    assert "CC BY-SA 3.0" in text and "MIT" in text


def test_clicking_a_palette_layer_shows_it_in_the_inspector(main_window, qtbot):
    inspector = main_window.inspector_dock
    assert inspector.is_empty()
    assert inspector.empty_label.text() == EMPTY_TEXT

    tree = main_window.palette_dock.tree
    item = main_window.palette_dock._items["Conv2D"]
    tree.scrollToItem(item)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(item).center())

    conv = next(info for info in engine.layer_types() if info.type == "Conv2D")
    assert not inspector.is_empty()
    assert inspector.type_label.text() == "Conv2D"
    assert inspector.group_label.text() == "Convolution"
    assert inspector.description_label.text() == conv.description

    tree.clearSelection()
    assert inspector.is_empty()


def test_open_shows_the_network_name_and_new_resets_everything(main_window, network_file):
    main_window.palette_dock.search_box.setText("dense")
    main_window.palette_dock.select_layer_type("Dense")
    main_window.canvas.zoom_by(2)

    assert main_window.open_network(network_file)
    assert main_window.windowTitle() == "tiny-mlp — LayerLab"
    assert "tiny-mlp: 3 layers" in main_window.canvas.hint()

    main_window.new_action.trigger()
    assert main_window.windowTitle() == "LayerLab"
    assert main_window.network is None
    assert main_window.palette_dock.search_box.text() == ""
    assert len(main_window.palette_dock.visible_layer_types()) == len(engine.layer_types())
    assert main_window.inspector_dock.is_empty()
    assert main_window.canvas.hint() == DEFAULT_HINT
    assert main_window.canvas.zoom() == 1


def test_opening_a_bad_file_names_it_and_keeps_the_current_network(main_window, network_file, tmp_path, monkeypatch):
    warnings = []
    monkeypatch.setattr(
        main_window_module.QMessageBox, "warning", lambda parent, title, text: warnings.append((title, text))
    )
    main_window.open_network(network_file)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")

    assert not main_window.open_network(broken)
    [(title, text)] = warnings
    assert title == "Cannot open network"
    assert str(broken) in text and "not valid JSON" in text
    assert main_window.windowTitle() == "tiny-mlp — LayerLab"


def test_quit_closes_the_window(main_window):
    main_window.quit_action.trigger()
    assert not main_window.isVisible()
