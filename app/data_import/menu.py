"""The main window's Data set menu: Import… and Manage Imported Sets…, and what follows a change to the store.

    data_sets = DataSetMenu(window, form, after_change=window_refresh)
    window.menuBar().addMenu(data_sets.menu)

After an import or a removal every picker must list the store as it is: the shape cache that the design
checks read (run_data.dataset_shape) is cleared, the training form re-reads its list, and
``after_change`` lets the window check the project's data set again (a set it names may have come or gone).
The dialogs are opened with show(), never exec(): they leave the window usable (and tests can drive them).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMenu, QWidget

from app.dashboard.run_data import clear_dataset_shapes
from app.data_import.import_dialog import ImportDialog
from app.data_import.manage_dialog import ManageImportedDialog


class DataSetMenu(QObject):
    def __init__(self, window: QWidget, form, after_change: Callable[[], None] | None = None):
        super().__init__(window)
        self.window = window
        self.form = form  # the training form (app/dashboard/training_settings.py)
        self.after_change = after_change
        self.menu = QMenu("&Data set", window)
        self.import_action = self.menu.addAction("&Import…", self.show_import)
        self.import_action.setStatusTip("Import a folder of images, a CSV, NumPy or IDX file as a data set")
        self.manage_action = self.menu.addAction("&Manage Imported Sets…", self.show_manage)
        self.manage_action.setStatusTip("See and remove the data sets you imported")
        self.import_dialog: ImportDialog | None = None
        self.manage_dialog: ManageImportedDialog | None = None

    def show_import(self) -> ImportDialog:
        if self.import_dialog is None:
            self.import_dialog = ImportDialog(self.window)
            self.import_dialog.stored.connect(self.store_changed)
            self.import_dialog.use_requested.connect(self.form.choose_dataset)
        return _raise(self.import_dialog)

    def show_manage(self) -> ManageImportedDialog:
        if self.manage_dialog is None:
            self.manage_dialog = ManageImportedDialog(self.window)
            self.manage_dialog.removed.connect(self.store_changed)
        else:
            self.manage_dialog.refresh()
        return _raise(self.manage_dialog)

    def store_changed(self, *_what) -> None:
        clear_dataset_shapes()  # a name may now be a set of another shape, or none
        self.form.refresh_datasets()
        if self.manage_dialog is not None:
            self.manage_dialog.refresh()
        if self.after_change is not None:
            self.after_change()

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Cancel an import in progress and wait (bounded) for its thread: the window is closing."""
        if self.import_dialog is None:
            return True
        self.import_dialog.jobs.cancel(quietly=True)
        return self.import_dialog.jobs.wait(timeout_ms)


def _raise(dialog):
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog
