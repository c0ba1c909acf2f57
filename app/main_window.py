"""LayerLab's main window: palette and the draw-a-digit pad left, the network canvas in the centre, inspector
and problems right, summary and training (settings, controls and live views) below.

It wires the parts together and owns the menus: the document is edited through ``self.editor``, the
File menu's work is in ``ProjectController``, and each dock is its own module.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QAction, QCursor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMainWindow, QWidget

import engine
from app.about import AboutDialog
from app.application import app_icon
from app.canvas.scene import NetworkScene
from app.canvas.view import CanvasView
from app.dashboard.install import install_dashboard
from app.dashboard.run_data import TOY_PREFIX, data_problem
from app.data_import import DataSetMenu
from app.design_overview import DesignOverview
from app.document.clipboard import ClipboardError, payload_from_text, payload_to_text
from app.document.editor import DocumentEditor
from app.draw.install import install_draw_panel
from app.export_menu import ExportMenu
from app.first_run_guide import FirstRunGuide
from app.formatting import counted, format_flops
from app.inspector_dock import InspectorDock
from app.keyboard_shortcuts_dialog import KeyboardShortcutsDialog
from app.palette_dock import PaletteDock
from app.preferences import Preferences, check_settings_files
from app.problems_dock import ProblemsDock
from app.project_controller import ProjectController
from app.run_actions import RunActions
from app.status_bar import StatusBar
from app.summary_dock import SummaryDock
from app.templates import START_TEMPLATE, template_names, template_title
from app.theme import ThemeMenu, apply_saved_theme
from app.tones import tone_color
from app.window_geometry import fit_window_to_screen, open_at_default_size
from app.workspaces import DESIGN, TRAIN, WorkspaceDocks, Workspaces


class MainWindow(QMainWindow):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.setWindowIcon(app_icon())
        # Before anything makes a QSettings (which reads its file at once and would block on a FIFO).
        self.settings_notice = check_settings_files()  # None, or why this session runs on default settings
        self.preferences = Preferences()
        self._shown_once = False
        apply_saved_theme(QApplication.instance(), self.preferences)  # System, Light or Dark, as chosen last

        self.editor = DocumentEditor(self)
        self.scene = NetworkScene(self.editor, self)
        self.canvas = CanvasView(self.scene, self)
        self.setCentralWidget(self.canvas)
        self.palette_dock = PaletteDock(self)
        self.inspector_dock = InspectorDock(self)
        self.inspector_dock.set_editor(self.editor)
        self.problems_dock = ProblemsDock(self)
        self.problems_dock.set_document(self.editor.document)
        self.summary_dock = SummaryDock(self)
        self.summary_dock.set_document(self.editor.document)
        self._place_docks()
        self.project = ProjectController(self, self.scene)

        self._connect_parts()
        self._create_menus()
        self.setStatusBar(StatusBar(self))
        self.totals_label = QLabel()
        self.backend_label = QLabel(f"Backend: {engine.backend.backend_name()}")
        self.statusBar().addPermanentWidget(self.totals_label)
        self.statusBar().addPermanentWidget(self.backend_label)

        self.guide = FirstRunGuide(anchor=self.inspector_dock.widget(), parent=self)
        # The size the person left (kept on the screen the window opens on), else one that fits the screen.
        if not self.preferences.restore_window(self):
            open_at_default_size(self)
        self.workspaces.restore()  # each workspace's layout as left, and the one left open
        # A new window opens on the seed CNN with MNIST (or the image set last trained on), ready to train.
        self.project.open_template(START_TEMPLATE)
        self._select_last_dataset()
        self.statusBar().showMessage(self.settings_notice or "Ready")

    def _place_docks(self) -> None:
        """Make the docks; ``Workspaces`` puts each in its place (app/workspaces.py)."""
        document = self.editor.document
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.palette_dock)  # the Draw dock goes under it
        self.dashboard = install_dashboard(self, get_spec=document.spec,
                                           get_dataset_name=lambda: document.training_settings.get("dataset"))
        (self.training_dock,) = self.dashboard.docks
        # Draw a digit: it reads with the design on the canvas: a run's weights once that run trained it, the
        # bundled model until then. Its Layers button opens the Train workspace's Activations tab.
        self.draw_panel = install_draw_panel(self, self.dashboard, below=self.palette_dock, document=document,
                                             reveal_dashboard=lambda: self.workspaces.switch(TRAIN))
        self.draw_dock = self.draw_panel.dock
        self.overview = DesignOverview(self.scene)
        self.overview_dock = QDockWidget("Design Overview", self)
        self.overview_dock.setObjectName("DesignOverviewDock")
        self.overview_dock.setWidget(self.overview)
        self.overview.edit_requested.connect(lambda: self.workspaces.switch(DESIGN))
        self.workspaces = Workspaces(self, WorkspaceDocks(
            palette=self.palette_dock, draw=self.draw_dock, inspector=self.inspector_dock,
            problems=self.problems_dock, summary=self.summary_dock, training=self.training_dock,
            overview=self.overview_dock), self.preferences.settings)
        self.workspaces.changed.connect(self._workspace_changed)
        self.menuBar().setCornerWidget(self.workspaces.tab_bar, Qt.Corner.TopRightCorner)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            fit_window_to_screen(self)  # now that the window manager's frame is known
            self.workspaces.first_show()

    def _workspace_changed(self, name: str) -> None:
        if name != DESIGN:
            self.guide.hide()  # it sits on the inspector, which Train hides

    def docks(self):
        return [self.palette_dock, self.draw_dock, self.inspector_dock, self.problems_dock, self.summary_dock,
                self.training_dock, self.overview_dock]

    def _connect_parts(self) -> None:
        document = self.editor.document
        self.palette_dock.layer_type_selected.connect(self._palette_selection)
        self.palette_dock.layer_type_activated.connect(self.add_after_selection)
        self.scene.selectionChanged.connect(self._canvas_selection)
        self.scene.status_message.connect(self.show_status)
        self.summary_dock.node_activated.connect(self.focus_node)
        self.problems_dock.node_activated.connect(self.focus_node)
        document.training_settings_changed.connect(self._show_training_settings)
        document.reset.connect(self._document_reset)
        # Whether the design can train on the chosen data set: Problems says why not, and Start stays off.
        document.analysis_changed.connect(self._check_design_against_data)
        document.training_settings_changed.connect(self._check_design_against_data)
        # The pen-down policy (app/pen_down.py) was wired when the Draw panel met the dashboard (install_draw_panel).
        # Settings edited in the training form belong to the project: saved with it, undoable.
        self.dashboard.settings_edited.connect(self._training_settings_edited)
        # Loss and Target in the training form edit the design's task (spec keys): undoable, saved with the network.
        form = self.dashboard.training_panel.form
        form.task_edited.connect(self.editor.set_task)
        document.task_changed.connect(form.show_task)
        document.task_changed.connect(lambda task: self.dashboard.curves.follow_design(task["loss"] == "cross_entropy"))
        # A project's settings the form could not take are problems too: the Training dock may be hidden.
        self.dashboard.settings_refused.connect(self.problems_dock.show_settings_problems)
        # Start (its button, or F5 from the Design workspace) opens the Train workspace to watch the run.
        self.dashboard.controller.state_changed.connect(self._open_train_workspace_on_start)

    def _open_train_workspace_on_start(self, state: str) -> None:
        if state == "preparing":
            self.workspaces.switch(TRAIN)

    def _training_settings_edited(self, edited: dict) -> None:
        merged = {**self.editor.document.training_settings, **edited}
        # Settings the form leaves out when zero, off or not imported: gone from the project when left out.
        for optional in ("l2", "early_stopping_patience", "dataset_sha256", "augment", "input_noise"):
            if optional not in edited:
                merged.pop(optional, None)
        self.editor.set_training_settings(merged)

    def _show_training_settings(self, settings: dict) -> None:
        self.dashboard.load_training_settings(settings)

    def _document_reset(self) -> None:
        self._show_training_settings(self.editor.document.training_settings)
        self._check_design_against_data()

    def _check_design_against_data(self, *_changed) -> None:
        document = self.editor.document
        mismatch = data_problem(document.report, document.training_settings.get("dataset"))
        self.problems_dock.show_data_problem(mismatch)
        blocker = document.report.errors[0] if document.report.errors else mismatch  # the first problem listed
        self.dashboard.set_start_blocker(str(blocker) if blocker else None)
        self._show_totals(document.report)

    def show_status(self, text: str, timeout_ms: int = 8000) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    def fit_to_view(self) -> None:
        """Zoom the canvas to show the whole network."""
        self.canvas.fit_to_view()

    # -- menus --------------------------------------------------------------------------------------------

    def _action(self, text, shortcut=None, slot=None) -> QAction:
        action = QAction(text, self)
        if isinstance(shortcut, list):
            action.setShortcuts(shortcut)
        elif shortcut is not None:
            action.setShortcut(shortcut)
        if slot is not None:
            action.triggered.connect(slot)
        return action

    def _create_menus(self) -> None:
        keys, project = QKeySequence.StandardKey, self.project
        file_menu = self.menuBar().addMenu("&File")
        self.new_action = self._action("&New", keys.New, project.new_network)
        self.templates_menu = file_menu.addMenu("New from &Template")
        for name in template_names():
            action = self.templates_menu.addAction(name, lambda name=name: project.open_template(name))
            action.setStatusTip(template_title(name))
        self.open_action = self._action("&Open…", keys.Open, project.choose_file_to_open)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.save_action = self._action("&Save", keys.Save, project.save)
        self.save_as_action = self._action("Save &As…", keys.SaveAs, project.save_as)
        self.export_action = self._action("&Export Picture…", QKeySequence("Ctrl+E"), project.choose_picture_to_export)
        # QKeySequence.Quit is empty on Windows; Ctrl+Q is what people expect everywhere.
        self.quit_action = self._action("&Quit", QKeySequence("Ctrl+Q"), self.close)
        file_menu.insertAction(self.templates_menu.menuAction(), self.new_action)
        file_menu.insertAction(self.recent_menu.menuAction(), self.open_action)
        file_menu.addActions([self.save_action, self.save_as_action])
        file_menu.addSeparator()
        file_menu.addAction(self.export_action)
        # Export > ONNX…, PyTorch Code…, Keras Code…: the design with its weights (app/export_menu.py).
        self.export_menu = ExportMenu(self)
        file_menu.addMenu(self.export_menu.menu)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        edit_menu = self.menuBar().addMenu("&Edit")
        self.undo_action = self.editor.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcuts([QKeySequence(keys.Undo)])
        self.redo_action = self.editor.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.cut_action = self._action("Cu&t", keys.Cut, self.cut_selection)
        self.copy_action = self._action("&Copy", keys.Copy, self.copy_selection)
        self.paste_action = self._action("&Paste", keys.Paste, self.paste)
        self.duplicate_action = self._action("D&uplicate", QKeySequence("Ctrl+D"), self.duplicate_selection)
        self.delete_action = self._action("&Delete", [QKeySequence(keys.Delete), QKeySequence("Backspace")],
                                          self.delete_selection)
        self.select_all_action = self._action("Select &All", keys.SelectAll, self.scene.select_all)
        self.tidy_action = self._action("&Tidy Layout", QKeySequence("Ctrl+L"), self.editor.tidy)
        edit_menu.addActions([self.undo_action, self.redo_action])
        edit_menu.addSeparator()
        edit_menu.addActions([self.cut_action, self.copy_action, self.paste_action, self.duplicate_action,
                              self.delete_action])
        edit_menu.addSeparator()
        edit_menu.addActions([self.select_all_action, self.tidy_action])

        view_menu = self.menuBar().addMenu("&View")
        view_menu.addActions(list(self.workspaces.actions.values()))
        view_menu.addAction(self.workspaces.reset_action)
        view_menu.addSeparator()
        view_menu.addActions([dock.toggleViewAction() for dock in self.docks()])
        view_menu.addSeparator()
        canvas = self.canvas
        self.zoom_in_action = self._action("Zoom &In", [QKeySequence(keys.ZoomIn), QKeySequence("Ctrl+=")],
                                           lambda: canvas.zoom_by(1.25))
        self.zoom_out_action = self._action("Zoom &Out", keys.ZoomOut, lambda: canvas.zoom_by(0.8))
        self.reset_zoom_action = self._action("&Reset Zoom", QKeySequence("Ctrl+0"), canvas.reset_view)
        self.fit_action = self._action("&Fit to View", QKeySequence("Home"), canvas.fit_to_view)
        view_menu.addActions([self.zoom_in_action, self.zoom_out_action, self.reset_zoom_action, self.fit_action])
        view_menu.addSeparator()
        self.theme_menu = ThemeMenu(self.preferences, self)  # applied to the plots and the canvas too
        view_menu.addMenu(self.theme_menu)
        self.theme_menu.theme_chosen.connect(lambda _theme: self._show_totals(self.editor.document.report))

        # Import… and Manage Imported Sets… (app/data_import/); after either changes the store, the form lists
        # it anew and the project's data set is checked again.
        self.data_set_menu = DataSetMenu(self, self.dashboard.training_panel.form, after_change=self._document_reset)
        self.menuBar().addMenu(self.data_set_menu.menu)

        # Start, Pause/Resume, Step, Stop and the pad's Clear and Undo, from the keyboard in either workspace.
        self.run_actions = RunActions(self, self.dashboard.training_panel, self.draw_panel)
        self.menuBar().addMenu(self.run_actions.run_menu)
        self.menuBar().addMenu(self.run_actions.draw_menu)

        help_menu = self.menuBar().addMenu("&Help")
        self.guide_action = self._action("&Getting Started", keys.HelpContents, self.show_guide)
        self.shortcuts_action = self._action("&Keyboard Shortcuts", QKeySequence("Ctrl+/"), self.show_shortcuts)
        self.about_action = self._action("&About LayerLab", None, self.show_about)
        help_menu.addActions([self.guide_action, self.shortcuts_action, self.about_action])

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        paths = self.project.recent_paths()
        for path in paths:
            action = self.recent_menu.addAction(path.name, lambda path=path: self.project.open_file(path))
            action.setStatusTip(str(path))
        if not paths:
            self.recent_menu.addAction("No recent files").setEnabled(False)

    # -- selection and status -----------------------------------------------------------------------------

    def _palette_selection(self, info) -> None:
        # The canvas keeps its selection: a double-click adds the layer after the selected node.
        if info is not None:
            self.inspector_dock.show_layer_type(info)
        else:
            self.inspector_dock.show_nodes(self.scene.selected_node_ids())

    def _canvas_selection(self) -> None:
        self.inspector_dock.show_nodes(self.scene.selected_node_ids())

    def focus_node(self, node_id: str) -> None:
        """Select ``node_id`` and bring it into view (a click in the problems list or summary)."""
        self.scene.select_nodes([node_id])
        self.canvas.centerOn(self.scene.node_items[node_id])

    def _show_totals(self, report) -> None:
        problems = self.problems_dock.count()  # the design's own, whether it fits the data, refused settings
        layers = len(self.editor.document.node_ids())
        text = f"{counted(layers, 'layer')} · {counted(report.total_params, 'parameter')} · "
        text += f"{format_flops(report.total_flops)}"
        text += f" · <span style='color:{tone_color('error').name()}'>{counted(problems, 'problem')}</span>" \
            if problems else ""
        self.totals_label.setText(text)

    # -- edit actions -------------------------------------------------------------------------------------

    def add_after_selection(self, layer_type: str) -> None:
        selected = self.scene.selected_node_ids()
        centre = self.canvas.mapToScene(self.canvas.viewport().rect().center())
        node_id = self.editor.add_node_after(layer_type, selected[-1] if selected else None,
                                             (centre.x(), centre.y()))
        self.scene.select_nodes([node_id])
        self.canvas.ensureVisible(self.scene.node_items[node_id])
        self.statusBar().showMessage(f"Added {node_id}", 8000)

    def copy_selection(self) -> bool:
        node_ids = self.scene.selected_node_ids()
        if not node_ids:
            return False
        # Plain text (the payload names its own format): a QMimeData made in Python would be freed by Qt's
        # clipboard after Python has shut down, which crashes the process at exit on some platforms.
        QGuiApplication.clipboard().setText(payload_to_text(self.editor.copy(node_ids)))
        return True

    def cut_selection(self) -> None:
        if self.copy_selection():
            self.delete_selection()

    def paste(self) -> None:
        try:
            payload = payload_from_text(QGuiApplication.clipboard().text())
        except ClipboardError as error:
            self.statusBar().showMessage(f"Nothing to paste: {error}", 8000)
            return
        self.scene.select_nodes(self.editor.paste(payload, self._paste_centre()))

    def _paste_centre(self):
        """Where the pointer is on the canvas, or None (then the copies sit just beside the originals)."""
        viewport = self.canvas.viewport()
        pointer = viewport.mapFromGlobal(QCursor.pos())
        if not viewport.rect().contains(pointer):
            return None
        point: QPointF = self.canvas.mapToScene(pointer)
        return point.x(), point.y()

    def duplicate_selection(self) -> None:
        self.scene.select_nodes(self.editor.duplicate(self.scene.selected_node_ids()))

    def delete_selection(self) -> None:
        self.editor.delete(self.scene.selected_node_ids(), self.scene.selected_edges())

    # -- window -------------------------------------------------------------------------------------------

    def closeEvent(self, event) -> None:
        if self.project.maybe_save():
            self.project.discard_autosave()
            self.dashboard.shutdown()  # stop a run and wait for its thread: nothing may outlive the window
            self.data_set_menu.shutdown()  # and an import in progress
            self.export_menu.shutdown()  # and an export being written
            self.preferences.save_window(self)
            self.workspaces.save()
            self.preferences.last_dataset = self.editor.document.training_settings.get("dataset")
            event.accept()
        else:
            event.ignore()

    def _select_last_dataset(self) -> None:
        """Open the start network on the data set trained on last time, when it is one the network can read.

        The seed CNN reads 28x28 images: any registered image set fits, a 2-D toy set does not.
        """
        dataset = self.preferences.last_dataset
        settings = self.editor.document.training_settings
        if dataset and not dataset.startswith(TOY_PREFIX) and self.dashboard.offers_dataset(dataset):
            # Set on the document, not through the undo stack: the new window stays unmodified.
            self.editor.document.set_training_settings({**settings, "dataset": dataset})

    # -- help ---------------------------------------------------------------------------------------------

    def show_guide(self) -> None:
        self.guide.show()

    def show_guide_on_first_run(self) -> bool:
        """Show the getting-started guide if no earlier session has; True if it was shown now."""
        if self.preferences.guide_shown:
            return False
        self.guide.show()
        self.preferences.mark_guide_shown()  # seen once is enough: Help > Getting Started brings it back
        return True

    def show_shortcuts(self) -> None:
        """Every menu command that has a shortcut, read from the menus as they are now."""
        KeyboardShortcutsDialog(self).exec()

    def show_about(self) -> None:
        AboutDialog(self).exec()
