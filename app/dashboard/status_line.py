"""One line of status under the run controls: a long message is cut to the line with "…", and Details
shows all of it below, on demand.

A multi-line error used to grow the panel until the settings form collapsed to two rows; now a message
of any length takes one line, and the person chooses to read the rest.

    line = StatusLine("Choose a data set and press Start.")
    line.setText(long_error)      # one line, elided; Details appears
    line.text()                   # the whole message
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QSizePolicy, QToolButton, QVBoxLayout, QWidget

DETAILS_LINES = 6  # the details box's height; a longer message scrolls inside it


class _ElidedLabel(QLabel):
    """A one-line label that shows as much of its text as fits, ending in "…"; it never asks for more width."""

    def __init__(self, resized):
        super().__init__()
        self._full = ""
        self._resized = resized  # the line decides whether Details is needed at the new width
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setTextFormat(Qt.TextFormat.PlainText)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(text if self.is_cut() else "")
        self._elide()

    def is_cut(self) -> bool:
        one_line = " ".join(self._full.split())
        return one_line != self._full.strip() or self.fontMetrics().horizontalAdvance(one_line) > self.width()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()
        self.setToolTip(self._full if self.is_cut() else "")
        self._resized()

    def _elide(self) -> None:
        one_line = " ".join(self._full.split())
        super().setText(self.fontMetrics().elidedText(one_line, Qt.TextElideMode.ElideRight, max(self.width(), 1)))


class StatusLine(QWidget):
    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.label = _ElidedLabel(resized=self._show_details_button)
        self.details_button = QToolButton()
        self.details_button.setText("Details")
        self.details_button.setCheckable(True)
        self.details_button.setToolTip("Show the whole message")
        # The button keeps its place while hidden, so a message coming and going does not make the line jump.
        policy = self.details_button.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.details_button.setSizePolicy(policy)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setFixedHeight(self.fontMetrics().lineSpacing() * DETAILS_LINES + 8)
        self.details.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.details_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.details)
        self.details_button.toggled.connect(self.details.setVisible)
        self.setText(text)

    def text(self) -> str:
        return self.details.toPlainText()

    def setText(self, text: str) -> None:  # noqa: N802 (QLabel's name, so it connects like a label)
        self.details.setPlainText(text)
        self.label.set_full_text(text)
        self.details_button.setChecked(False)
        self._show_details_button()

    def _show_details_button(self) -> None:
        # Only a message that does not fit the line needs Details.
        cut = self.label.is_cut()
        self.details_button.setVisible(cut)
        if not cut:
            self.details_button.setChecked(False)
