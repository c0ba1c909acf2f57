"""The main window's status bar: a temporary message longer than the room left of the permanent labels
(totals, backend) ends in "…" there instead of running into them; the whole message is its tooltip."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStatusBar, QWidget

GAP = 12  # between the message's last character and the first permanent label
LEFT_MARGIN = 6  # where QStatusBar starts drawing a message


class StatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._permanent: list[QWidget] = []
        self._full_message = ""

    def addPermanentWidget(self, widget: QWidget, stretch: int = 0) -> None:  # noqa: N802 (Qt's name)
        self._permanent.append(widget)
        super().addPermanentWidget(widget, stretch)

    def showMessage(self, text: str, timeout: int = 0) -> None:  # noqa: N802 (Qt's name)
        self._full_message = text
        shown = self.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, self.message_width())
        self.setToolTip(text if shown != text else "")
        super().showMessage(shown, timeout)

    def full_message(self) -> str:
        """The message as it was given, however it is shown; "" once it has gone."""
        return self._full_message if self.currentMessage() else ""

    def message_width(self) -> int:
        """The width a message may take: up to the first permanent label, less a gap."""
        visible = [widget.x() for widget in self._permanent if widget.isVisible()]
        right = min(visible) if visible else self.width()
        return max(right - LEFT_MARGIN - GAP, 0)
