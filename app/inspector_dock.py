"""The inspector (right dock): what the selected layer is; its editable settings join it with the node editor."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QLabel, QStackedWidget, QVBoxLayout, QWidget

from app.palette_dock import group_title

EMPTY_TEXT = "Select a layer to see its settings"


class InspectorDock(QDockWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__("Inspector", parent)
        self.setObjectName("InspectorDock")

        self.empty_label = QLabel(EMPTY_TEXT)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setEnabled(False)  # drawn greyed out: a hint, not content

        self.type_label = QLabel()
        font = self.type_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.type_label.setFont(font)
        self.group_label = QLabel()
        self.group_label.setEnabled(False)
        self.description_label = QLabel()
        self.description_label.setWordWrap(True)
        details = QWidget()
        details_layout = QVBoxLayout(details)
        details_layout.addWidget(self.type_label)
        details_layout.addWidget(self.group_label)
        details_layout.addSpacing(8)
        details_layout.addWidget(self.description_label)
        details_layout.addStretch(1)

        self.pages = QStackedWidget()
        self.pages.addWidget(self.empty_label)
        self.pages.addWidget(details)
        self.setWidget(self.pages)

    def show_layer_type(self, info) -> None:
        """Describe ``info`` (an entry of ``engine.layer_types()``); None shows the empty hint."""
        if info is None:
            self.pages.setCurrentWidget(self.empty_label)
            return
        self.type_label.setText(info.type)
        self.group_label.setText(group_title(info.group))
        self.description_label.setText(info.description)
        self.pages.setCurrentIndex(1)

    def is_empty(self) -> bool:
        return self.pages.currentWidget() is self.empty_label
