"""The problems list (right dock, under the inspector): every message shape inference has about the
design, each naming its node; clicking one selects that node on the canvas.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDockWidget, QListWidget, QListWidgetItem, QWidget

VALID_TEXT = "No problems: every layer's shape works out."


class ProblemsDock(QDockWidget):
    node_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Problems", parent)
        self.setObjectName("ProblemsDock")
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.list.itemClicked.connect(self._item_clicked)
        self.list.itemActivated.connect(self._item_clicked)
        self.setWidget(self.list)

    def set_document(self, document) -> None:
        document.analysis_changed.connect(self.show_report)
        self.show_report(document.report)

    def show_report(self, report) -> None:
        self.list.clear()
        for error in report.errors:
            item = QListWidgetItem(f"⚠ {error}")
            item.setData(Qt.ItemDataRole.UserRole, error.node)
            item.setToolTip(str(error))
            self.list.addItem(item)
        if not report.errors:
            item = QListWidgetItem(VALID_TEXT)
            item.setFlags(Qt.ItemFlag.NoItemFlags)  # a statement, not something to click
            self.list.addItem(item)
        title = f"Problems ({len(report.errors)})" if report.errors else "Problems"
        self.setWindowTitle(title)

    def messages(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def _item_clicked(self, item: QListWidgetItem) -> None:
        node_id = item.data(Qt.ItemDataRole.UserRole)
        if node_id:
            self.node_activated.emit(node_id)
