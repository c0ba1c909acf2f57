"""Data set > Manage Imported Sets…: every imported set with its shape, classes, counts, checksum and source,
and Remove (asked inside the dialog first; the stored copy is deleted, the files it came from are not).

    dialog = ManageImportedDialog(window)
    dialog.removed.connect(refresh_pickers)     # the removed set's name
    dialog.refresh()                            # re-read the store (after an import)
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

import engine
from app.data_import.confirm_bar import ConfirmBar
from app.tones import follow_tone

COLUMNS = ("Name", "Shape (C×H×W)", "Classes", "Training", "Test", "Checksum (SHA-256)", "Source", "Imported")


def _row(imported) -> tuple[str, ...]:
    channels, height, width = imported.shape
    return (imported.name, f"{channels}×{height}×{width}", f"{len(imported.class_names):,}",
            f"{imported.num_train:,}", f"{imported.num_test:,}", imported.sha256[:12], str(imported.source),
            str(imported.imported_at))


class ManageImportedDialog(QDialog):
    removed = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Imported Data Sets")
        self.where = QLabel()
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS.index("Source"), QHeaderView.ResizeMode.Stretch)
        self.message = QLabel()
        self.message.setWordWrap(True)
        follow_tone(self.message, "error")
        self.confirm = ConfirmBar("Remove", "Keep it")
        self.remove_button = QPushButton("Remove…")
        self.close_button = QPushButton("Close")
        buttons = QHBoxLayout()
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.where)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.confirm)
        layout.addLayout(buttons)
        self.remove_button.clicked.connect(self.ask_to_remove)
        self.close_button.clicked.connect(self.reject)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.resize(900, 360)
        self.refresh()

    def refresh(self) -> None:
        self.sets = engine.datasets.list_imported()
        # Folders whose manifest does not read: no picker lists them, so this is where they can be seen and removed.
        self.damaged = engine.datasets.damaged_imported()
        self.where.setText(f"Stored in {engine.datasets.imported_dir()}. Add one with Data set > Import…")
        self.table.setRowCount(len(self.sets) + len(self.damaged))
        for row, imported in enumerate(self.sets):
            for column, text in enumerate(_row(imported)):
                item = QTableWidgetItem(text)
                item.setToolTip(imported.sha256 if COLUMNS[column].startswith("Checksum") else text)
                self.table.setItem(row, column, item)
        error_colour = self.message.palette().color(self.message.foregroundRole())  # the "error" tone
        for row, (name, problem) in enumerate(self.damaged, start=len(self.sets)):
            texts = [name] + ["–"] * (len(COLUMNS) - 1)
            texts[COLUMNS.index("Source")] = f"damaged, not usable: {problem}"
            for column, text in enumerate(texts):
                item = QTableWidgetItem(text)
                item.setToolTip(problem)
                item.setForeground(error_colour)
                self.table.setItem(row, column, item)
        if not self.sets and not self.damaged:
            self.message.setText("No data set has been imported yet.")
        self._selection_changed()

    def selected_name(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        row = rows[0].row()
        return self.sets[row].name if row < len(self.sets) else self.damaged[row - len(self.sets)][0]

    def _selection_changed(self) -> None:
        self.remove_button.setEnabled(self.selected_name() is not None)
        self.confirm.dismiss()

    def ask_to_remove(self) -> None:
        name = self.selected_name()
        if name is None:
            return
        self.confirm.ask(f"Remove “{name}”? Its stored copy is deleted (the files it was imported from are not); "
                         f"projects that use it will ask for it to be imported again.", lambda: self.remove(name))

    def remove(self, name: str) -> None:
        try:
            engine.datasets.delete_imported(name)
        except (engine.datasets.DatasetError, OSError) as problem:
            self.message.setText(f"Could not remove “{name}”: {engine.describe_error(problem)}")
            return
        self.message.clear()
        self.refresh()
        self.removed.emit(name)
