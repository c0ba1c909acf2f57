"""The main window: its areas, menus and shortcuts, the seed CNN it opens on, and how the parts talk."""

import numpy
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest

import engine
import resources
from app import about
from app.canvas.view import CanvasView
from app.inspector_dock import EMPTY_TEXT
from app.version import package_version
from tests.app.gui_helpers import choose_from_menu, click_tab


def test_a_new_window_opens_on_the_seed_cnn_with_mnist_selected(main_window):
    assert main_window.windowTitle() == "seed-cnn[*] — LayerLab"
    assert not main_window.isWindowModified()
    assert not main_window.windowIcon().isNull()
    document = main_window.editor.document
    assert document.node_ids()[0] == "input" and len(document.node_ids()) == 9
    assert document.report.total_params == 3274634
    assert document.training_settings["dataset"] == "mnist"
    form = main_window.dashboard.training_panel.form
    assert form.dataset.currentData() == "mnist"
    assert (form.optimizer.currentText(), form.learning_rate.value(), form.batch_size.value()) == ("Adam", 1e-4, 50)
    assert len(main_window.scene.node_items) == 9 and len(main_window.scene.edge_items) == 8


def test_the_design_workspace_gives_the_canvas_the_centre(main_window):
    assert isinstance(main_window.centralWidget(), CanvasView)
    assert main_window.workspaces.current == "design"
    area = Qt.DockWidgetArea
    expected = {
        main_window.palette_dock: area.LeftDockWidgetArea,
        main_window.draw_dock: area.LeftDockWidgetArea,
        main_window.inspector_dock: area.RightDockWidgetArea,
        main_window.problems_dock: area.RightDockWidgetArea,
        main_window.summary_dock: area.RightDockWidgetArea,
    }
    for dock, dock_area in expected.items():
        assert main_window.dockWidgetArea(dock) == dock_area, dock.objectName()
    # The one tab group: problems and the summary share the space under the inspector.
    assert main_window.tabifiedDockWidgets(main_window.summary_dock) == [main_window.problems_dock]
    assert not main_window.training_dock.isVisible() and not main_window.overview_dock.isVisible()
    for dock in (main_window.palette_dock, main_window.draw_dock, main_window.inspector_dock):
        assert dock.isVisible() and dock.width() > 100 and dock.height() > 100, dock.objectName()

    def origin(widget):
        return widget.mapTo(main_window, QPoint(0, 0))

    canvas, palette, draw, inspector = (origin(w) for w in (main_window.canvas, main_window.palette_dock,
                                                            main_window.draw_dock, main_window.inspector_dock))
    assert palette.x() < canvas.x() < inspector.x()
    assert draw.x() == palette.x() and draw.y() > palette.y()  # the pad under the layer list
    # The canvas runs the window's full height: nothing sits under it.
    assert main_window.canvas.height() > main_window.height() - 120


def test_the_train_workspace_gives_the_dashboard_the_window_and_shows_the_design_small(main_window, qtbot):
    window = main_window
    click_tab(window.workspaces.tab_bar, "Train")
    qtbot.wait(20)
    assert window.workspaces.current == "train" and window.workspaces.actions["train"].isChecked()
    assert window.training_dock.isVisible() and window.draw_dock.isVisible() and window.overview_dock.isVisible()
    for hidden in (window.canvas, window.palette_dock, window.inspector_dock, window.problems_dock,
                   window.summary_dock):
        assert not hidden.isVisible()
    assert window.training_dock.width() > window.width() * 0.6
    # The overview shows the whole design: every node inside its viewport.
    overview = window.overview
    shown = overview.mapToScene(overview.viewport().rect()).boundingRect()
    assert shown.contains(window.scene.network_rect())
    # A double-click on it goes back to editing.
    QTest.mouseDClick(overview.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                      overview.viewport().rect().center())
    assert window.workspaces.current == "design" and window.canvas.isVisible()
    assert window.workspaces.tab_bar.currentIndex() == 0


def test_workspaces_switch_from_the_keyboard_and_keep_their_own_layouts(main_window, qtbot):
    window = main_window
    window.activateWindow()
    window.canvas.setFocus()
    QTest.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.workspaces.current == "train"
    window.resizeDocks([window.draw_dock], [380], Qt.Orientation.Horizontal)
    qtbot.wait(20)
    train_draw_width = window.draw_dock.width()
    QTest.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.workspaces.current == "design" and window.canvas.isVisible()
    design_draw_width = window.draw_dock.width()
    assert design_draw_width != train_draw_width
    window.summary_dock.close()  # closed in Design only
    QTest.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    qtbot.wait(20)
    assert abs(window.draw_dock.width() - train_draw_width) <= 2
    QTest.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    qtbot.wait(20)
    assert not window.summary_dock.isVisible() and window.problems_dock.isVisible()
    # View > Reset Workspace Layout brings this workspace's panels back.
    choose_from_menu(window, "View", "Reset Workspace Layout")
    qtbot.wait(20)
    assert window.summary_dock.isVisible() or window.tabifiedDockWidgets(window.summary_dock)
    assert not window.summary_dock.isHidden()


def test_menus_have_standard_shortcuts(main_window):
    keys = QKeySequence.StandardKey
    window = main_window
    assert window.new_action.shortcut() == QKeySequence(keys.New)
    assert window.open_action.shortcut() == QKeySequence(keys.Open)
    assert window.save_action.shortcut() == QKeySequence(keys.Save)
    assert window.save_action.isEnabled()
    assert window.quit_action.shortcut() == QKeySequence("Ctrl+Q")
    assert window.undo_action.shortcut() == QKeySequence(keys.Undo)
    assert [s.toString() for s in window.redo_action.shortcuts()] == ["Ctrl+Shift+Z", "Ctrl+Y"]
    assert window.copy_action.shortcut() == QKeySequence(keys.Copy)
    assert window.paste_action.shortcut() == QKeySequence(keys.Paste)
    assert window.duplicate_action.shortcut() == QKeySequence("Ctrl+D")
    assert window.select_all_action.shortcut() == QKeySequence(keys.SelectAll)
    assert QKeySequence(keys.Delete) in window.delete_action.shortcuts()
    assert QKeySequence("Ctrl+=") in window.zoom_in_action.shortcuts()
    assert [a.text() for a in window.menuBar().actions()] == ["&File", "&Edit", "&View", "&Data set", "&Run",
                                                           "&Draw", "&Help"]
    assert window.templates_menu.actions()[0].text() == "seed-cnn"


def test_about_names_version_backend_libraries_and_licenses():
    text = about.about_text()
    assert f"LayerLab {package_version()}" in text
    assert f"**Engine backend:** {engine.backend.backend_name()}" in text
    for library, license_name in (("PySide6", "LGPLv3"), ("pyqtgraph", "MIT"), ("NumPy", "BSD"),
                                  ("platformdirs", "MIT"), ("Pillow", "MIT-CMU"), ("tqdm", "MPL-2.0"),
                                  ("threadpoolctl", "BSD"),
                                  ("CuPy", "MIT")):
        row = next(line for line in text.splitlines() if line.startswith("|") and library in line)
        assert license_name in row, row
    assert "NumPy " + numpy.__version__ in text  # the versions in use
    assert "MNIST" in text and "CC BY-SA 3.0" in text and "yann.lecun.com" in text


def test_about_lists_every_bundled_data_set_and_model():
    text = about.about_text()
    for folder in resources.path("datasets").iterdir():
        if folder.is_dir():
            assert f"`datasets/{folder.name}/`" in text
    for model in resources.path("models").glob("*.llmodel"):
        assert f"`models/{model.name}`" in text


def test_help_menu_opens_the_about_box_and_the_guide(main_window, monkeypatch):
    shown = []
    monkeypatch.setattr(about.AboutDialog, "exec", lambda dialog: shown.append(dialog.text.toPlainText()))
    main_window.about_action.trigger()
    assert shown and shown[0].startswith(f"LayerLab {package_version()}")
    assert not main_window.guide.isVisible()
    main_window.guide_action.trigger()
    assert main_window.guide.isVisible()


def test_clicking_a_palette_layer_describes_it_and_a_node_shows_its_settings(main_window, qtbot):
    inspector = main_window.inspector_dock
    assert inspector.is_empty() and inspector.empty_label.text() == EMPTY_TEXT
    tree = main_window.palette_dock.tree
    item = main_window.palette_dock._items["Conv2D"]
    tree.scrollToItem(item)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(item).center())
    conv = next(info for info in engine.layer_types() if info.type == "Conv2D")
    assert inspector.type_label.text() == "Conv2D"
    assert inspector.group_label.text() == "Convolution"
    assert inspector.description_label.text() == conv.description

    main_window.scene.select_nodes(["fc1"])
    assert inspector.node_id == "fc1"
    assert inspector.field_editors["units"].value() == 1024
    main_window.scene.select_nodes(["fc1", "logits"])
    assert inspector.several_label.text() == "2 nodes selected"
    main_window.scene.clearSelection()
    tree.clearSelection()
    assert inspector.is_empty()


def test_double_clicking_a_palette_layer_adds_it_after_the_selected_node(main_window, qtbot):
    main_window.scene.select_nodes(["flatten"])
    tree = main_window.palette_dock.tree
    item = main_window.palette_dock._items["Dropout"]
    tree.scrollToItem(item)
    centre = tree.visualItemRect(item).center()
    # A real double-click: press and release, then the double-click event (item views need the press).
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    document = main_window.editor.document
    assert ("flatten", "dropout1") in document.edges() and ("dropout1", "fc1") in document.edges()
    assert main_window.scene.selected_node_ids() == ["dropout1"]
    assert main_window.isWindowModified()
    main_window.undo_action.trigger()
    assert "dropout1" not in document.node_ids() and not main_window.isWindowModified()
    main_window.redo_action.trigger()
    assert "dropout1" in main_window.scene.node_items


def test_edit_actions_act_on_the_canvas_selection(main_window):
    document = main_window.editor.document
    main_window.scene.select_nodes(["conv2", "pool2"])
    main_window.copy_action.trigger()
    main_window.paste_action.trigger()
    assert {"conv3", "pool3"} <= set(document.node_ids())
    assert ("conv3", "pool3") in document.edges()
    assert main_window.scene.selected_node_ids() == ["conv3", "pool3"]
    main_window.delete_action.trigger()
    assert "conv3" not in document.node_ids()
    main_window.scene.select_nodes(["dropout"])
    main_window.duplicate_action.trigger()
    assert "dropout1" in document.node_ids()
    main_window.select_all_action.trigger()
    assert len(main_window.scene.selected_node_ids()) == 10 and len(main_window.scene.selected_edges()) == 8
    main_window.delete_action.trigger()
    assert document.node_ids() == []
    assert [str(e) for e in document.report.errors] == ["a network spec needs a non-empty list 'nodes'"]
    main_window.undo_action.trigger()
    assert len(document.node_ids()) == 10


def test_pasting_text_that_is_not_nodes_says_so(main_window):
    from PySide6.QtGui import QGuiApplication

    QGuiApplication.clipboard().setText("hello")
    main_window.paste_action.trigger()
    assert main_window.statusBar().currentMessage() == "Nothing to paste: the clipboard holds no LayerLab nodes"
    assert main_window.editor.undo_stack.count() == 0


def test_problems_and_summary_rows_select_their_node(main_window):
    main_window.editor.set_fields("conv2", {"kernel_size": 20, "padding": "valid"})
    problems = main_window.problems_dock
    assert problems.messages() == ["⚠ conv2: kernel 20x20 does not fit a 14x14 input with padding 'valid'"]
    assert problems.windowTitle() == "Problems (1)"
    assert main_window.scene.node_items["conv2"].is_invalid
    assert "1 problem" in main_window.totals_label.text()
    problems.list.itemClicked.emit(problems.list.item(0))
    assert main_window.scene.selected_node_ids() == ["conv2"]
    summary = main_window.summary_dock
    row = [r[0] for r in summary.rows()].index("fc1")
    summary.table.cellClicked.emit(row, 2)
    assert main_window.scene.selected_node_ids() == ["fc1"]
    assert summary.rows()[row][2] == "?"  # downstream of the invalid conv2


def test_quit_closes_the_window(main_window):
    main_window.quit_action.trigger()
    assert not main_window.isVisible()


def test_closing_with_changes_asks_and_cancel_keeps_the_window(main_window):
    from PySide6.QtWidgets import QMessageBox

    main_window.editor.add_node("Flatten", (300, 0))
    asked = []
    main_window.project.ask_to_save_changes = lambda: asked.append(1) or QMessageBox.StandardButton.Cancel
    main_window.close()
    assert asked and main_window.isVisible()
    main_window.project.ask_to_save_changes = lambda: QMessageBox.StandardButton.Discard


def test_training_form_edits_are_project_settings_and_undoable(main_window):
    form = main_window.dashboard.training_panel.form
    document = main_window.editor.document
    form.epochs.setValue(7)
    form.optimizer.setCurrentText("SGD")
    assert document.training_settings["epochs"] == 7
    assert document.training_settings["optimizer"]["name"] == "sgd"
    assert main_window.isWindowModified()
    main_window.editor.undo_stack.undo()  # the optimizer change
    main_window.editor.undo_stack.undo()  # the epochs change
    assert document.training_settings["epochs"] == 20 and form.epochs.value() == 20  # the seed CNN recipe's
    assert document.training_settings["optimizer"]["name"] == "adam" and form.optimizer.currentText() == "Adam"
