"""The summary (bottom dock): per layer its output shape, parameters, activation memory and FLOPs, and
the totals — the memory/weights table of the classic courses, recomputed on every edit. The totals sit
in a line under the table, so they stay in sight however many layers scroll above them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.formatting import counted, format_bytes, format_count, format_flops, format_shape

COLUMNS = ("Layer", "Type", "Output shape", "Parameters", "Activation memory", "FLOPs")
NUMERIC_COLUMNS = {3, 4, 5}


class SummaryDock(QDockWidget):
    node_activated = Signal(str)  # a row was clicked: select that node

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Summary", parent)
        self.setObjectName("SummaryDock")
        self.document = None
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.cellClicked.connect(self._row_clicked)
        self.totals_label = QLabel()
        self.totals_label.setObjectName("SummaryTotals")
        self.totals_label.setWordWrap(True)  # unwrapped, a long line would squeeze the side docks
        self.totals_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 2)
        layout.setSpacing(2)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.totals_label)
        self.setWidget(body)

    def set_document(self, document) -> None:
        self.document = document
        document.analysis_changed.connect(self.show_report)
        self.show_report(document.report)

    def show_report(self, report) -> None:
        node_ids = self.document.node_ids()
        ordered = [n for n in report.order if n in node_ids] + [n for n in node_ids if n not in report.order]
        self.table.setRowCount(len(ordered))
        for row, node_id in enumerate(ordered):
            info = report.nodes.get(node_id)
            if info is None:
                cells = (node_id, self.document.node_type(node_id), "?", "—", "—", "—")
            else:
                cells = (node_id, info.type, format_shape(info.output_shape), format_count(info.params),
                         format_bytes(info.activation_bytes), format_flops(info.flops))
            self._set_row(row, cells, node_id)
        incomplete = " (so far: some layers' shapes are unknown)" if len(report.nodes) < len(ordered) else ""
        self.totals_label.setText(
            f"<b>Total{incomplete}:</b> {counted(len(ordered), 'layer')} · <b>{format_count(report.total_params)}</b> "
            f"parameter{'s' * (report.total_params != 1)} · {format_bytes(report.total_activation_bytes)} of "
            f"activations and {format_flops(report.total_flops)} per example")

    def _set_row(self, row: int, cells, node_id: str | None) -> None:
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, node_id)
            if column in NUMERIC_COLUMNS:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, column, item)

    def rows(self) -> list[list[str]]:
        """The table as text (tests and the clipboard read it)."""
        return [[self.table.item(r, c).text() for c in range(self.table.columnCount())]
                for r in range(self.table.rowCount())]

    def _row_clicked(self, row: int, _column: int) -> None:
        node_id = self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)
        if node_id:
            self.node_activated.emit(node_id)
