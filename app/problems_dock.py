"""The problems list (right dock, under the inspector): every message shape inference has about the
design, each naming its node, whether the design fits the chosen data set, and the project's training
settings the form could not take; clicking a node's problem selects that node on the canvas.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDockWidget, QListWidget, QListWidgetItem, QWidget

VALID_TEXT = "No problems: every layer's shape works out, and the network fits the data set."


class SettingsProblem(str):
    """A refused training setting: a message of no node."""

    node = None


class ProblemsDock(QDockWidget):
    node_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Problems", parent)
        self.setObjectName("ProblemsDock")
        self._report = None
        self._data_problem = None
        self._settings_problems: list[str] = []
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
        self._report = report
        self._refresh()

    def show_data_problem(self, problem) -> None:
        """How the design does not fit the chosen data set (an ``engine.DataFitProblem``), or None."""
        self._data_problem = problem
        self._refresh()

    def show_settings_problems(self, messages: list[str]) -> None:
        """The project's training settings the form refused (each names its "training.<field>")."""
        self._settings_problems = [SettingsProblem(message) for message in messages]
        self._refresh()

    def _problems(self) -> list:
        problems = list(self._report.errors) if self._report is not None else []
        problems += [self._data_problem] if self._data_problem is not None else []
        return problems + self._settings_problems

    def _refresh(self) -> None:
        self.list.clear()
        problems = self._problems()
        for problem in problems:
            item = QListWidgetItem(f"⚠ {problem}")
            item.setData(Qt.ItemDataRole.UserRole, problem.node)
            item.setToolTip(str(problem))
            self.list.addItem(item)
        if not problems:
            item = QListWidgetItem(VALID_TEXT)
            item.setFlags(Qt.ItemFlag.NoItemFlags)  # a statement, not something to click
            self.list.addItem(item)
        self.setWindowTitle(f"Problems ({len(problems)})" if problems else "Problems")

    def count(self) -> int:
        """How many problems are listed."""
        return len(self._problems())

    def messages(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def _item_clicked(self, item: QListWidgetItem) -> None:
        node_id = item.data(Qt.ItemDataRole.UserRole)
        if node_id:
            self.node_activated.emit(node_id)
