"""File > Export: ONNX…, PyTorch Code…, Keras Code…, each opening its ExportDialog (app/export_dialog.py).

    menu = ExportMenu(window)        # window: the MainWindow (document, dashboard's run, project)
    file_menu.addMenu(menu.menu)
    menu.dialogs["onnx"]             # the dialog once opened (one per format, kept with what was typed)

The items stay enabled for an invalid design: the dialog then says why it cannot export, in the engine's
words, which a greyed-out item could not.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMenu

from app.export_dialog import ExportDialog
from app.export_formats import FORMATS
from app.export_source import ExportSource, export_source


class ExportMenu(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.dialogs: dict[str, ExportDialog] = {}
        self.menu = QMenu("E&xport", window)
        self.menu.setObjectName("ExportMenu")
        self.actions = {}
        for key, fmt in FORMATS.items():
            action = self.menu.addAction(fmt.menu_text, lambda key=key: self.open_dialog(key))
            action.setStatusTip(f"{fmt.title}: the design on the canvas with its weights")
            self.actions[key] = action

    def source(self) -> ExportSource:
        """The design on the canvas now, with the best weights the app has for it."""
        document = self.window.editor.document
        return export_source(document.spec(), document.report, self.window.dashboard.controller.run,
                             seed=int(document.training_settings.get("seed", 0) or 0),
                             imported=self.window.project.imported_model)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Wait (bounded) for the dialogs' background work: an export being written, torch counting the GPUs.
        The window is closing, and a pool thread still inside Python when the interpreter ends is reported by
        Qt as an exception it caught."""
        return all(dialog.tasks.wait_for_all(timeout_ms) for dialog in self.dialogs.values())

    def open_dialog(self, key: str) -> ExportDialog:
        dialog = self.dialogs.get(key)
        if dialog is None:
            project = self.window.project
            dialog = ExportDialog(key, self.source, lambda: self.window.editor.document.training_settings,
                                  lambda: project.path.parent if project.path else None, parent=self.window)
            document = self.window.editor.document
            # What the dialog says follows the design and the run while it is open.
            document.analysis_changed.connect(lambda _report: dialog.isVisible() and dialog.refresh())
            document.training_settings_changed.connect(lambda _settings: dialog.isVisible() and dialog.refresh())
            self.window.dashboard.controller.snapshot_arrived.connect(
                lambda _snapshot: dialog.isVisible() and dialog.refresh())
            self.dialogs[key] = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog
