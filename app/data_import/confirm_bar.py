"""A question asked inside a dialog, not in a message box of its own: a line of text and two buttons.

    bar = ConfirmBar("Replace", "Keep it")
    bar.ask("A data set named 'digits' is already imported. Replace it?", on_yes=replace)

It never blocks (a message box's exec() would stop the event loop's caller and every test driving the
dialog), and it sits where the person is already looking.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from app.tones import follow_tone


class ConfirmBar(QFrame):
    def __init__(self, yes_text: str, no_text: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.question = QLabel()
        self.question.setWordWrap(True)
        follow_tone(self.question, "warning")
        self.yes_button = QPushButton(yes_text)
        self.no_button = QPushButton(no_text)
        layout = QHBoxLayout(self)
        layout.addWidget(self.question, 1)
        layout.addWidget(self.yes_button)
        layout.addWidget(self.no_button)
        self._on_yes: Callable[[], None] | None = None
        self.yes_button.clicked.connect(self._yes)
        self.no_button.clicked.connect(self.dismiss)
        self.hide()

    def ask(self, question: str, on_yes: Callable[[], None]) -> None:
        self.question.setText(question)
        self._on_yes = on_yes
        self.show()
        self.no_button.setFocus()  # Enter must not destroy anything by accident

    def dismiss(self) -> None:
        self._on_yes = None
        self.hide()

    def _yes(self) -> None:
        action, self._on_yes = self._on_yes, None
        self.hide()
        if action is not None:
            action()
