"""Layer-setting editors a person types into: a shape as numbers ('1, 28, 28'), and any other setting as JSON.

They share a way of working the spin-box editors do not: the text is parsed when the person presses Enter
or leaves the line, a text that is not taken gets a red frame and a tooltip saying why (in the engine's words
where the engine has a rule), and nothing is announced until the text is taken.
"""

from __future__ import annotations

import json

from PySide6.QtWidgets import QLineEdit

import engine
from app.field_editor_base import INVALID_STYLE, FieldEditor


class ShapeEditor(FieldEditor):
    """A shape typed as numbers, '1, 28, 28' or '28x28'.

    An Input's shape (the default) is one number (features) or three (channels, height, width), each >= 1.
    A declaration whose numbers may go below 1 (Reshape's target_shape: ``low=-1``) takes 1 to 3 numbers, one
    of which may be -1 (worked out from the input's size), and is held to the declaration's own check, so the
    rule and its words are the engine's.
    """

    INPUT_HINT = "Type one number (features) or three (channels, height, width)"
    INFERRED_HINT = "Type 1 to 3 numbers, e.g. 28, 28; one of them may be -1 (worked out from the input's size)"

    def __init__(self, declared=None):
        super().__init__()
        self.inferred_allowed = declared is not None and declared.low is not None and declared.low < 1
        self._check = declared.check if self.inferred_allowed else None
        self.line = QLineEdit()
        self.line.setPlaceholderText("e.g. 28, 28 — one may be -1" if self.inferred_allowed
                                     else "channels, height, width — or features")
        self._layout.addWidget(self.line)
        self.line.editingFinished.connect(self._commit)
        self._why_refused = ""

    def parse(self, text: str) -> list[int] | None:
        """The numbers in ``text`` if they make a shape this editor takes, else None (``_why_refused`` says why)."""
        parts = [p for p in text.replace("×", ",").replace("x", ",").replace(" ", ",").split(",") if p]
        numbers = [int(p) for p in parts if p.lstrip("-").isdigit() and len(p) - len(p.lstrip("-")) <= 1]
        if len(numbers) != len(parts):
            numbers = None
        elif not self.inferred_allowed:
            if len(numbers) not in (1, 3) or any(n <= 0 for n in numbers):
                numbers = None
        elif not 1 <= len(numbers) <= 3 or any(n == 0 or n < -1 for n in numbers) or numbers.count(-1) > 1:
            numbers = None
        elif self._check is not None:
            try:
                self._check(numbers, "target shape")
            except ValueError as refusal:  # the engine's own words
                self._why_refused = str(refusal)
                return None
        self._why_refused = "" if numbers else (self.INFERRED_HINT if self.inferred_allowed else self.INPUT_HINT)
        return numbers

    def _commit(self) -> None:
        shape = self.parse(self.line.text())
        self.line.setStyleSheet("" if shape else INVALID_STYLE)
        self.line.setToolTip("" if shape else self._why_refused)
        if shape is not None and not self._showing:
            self.value_edited.emit(shape)

    def _show(self, value):
        self.line.setStyleSheet("")
        self.line.setText(", ".join(str(v) for v in value) if isinstance(value, list) else json.dumps(value))

    def value(self):
        return self.parse(self.line.text())


class JsonEditor(FieldEditor):
    """Any other setting, as JSON text (a layer type added to the engine before it has a widget here)."""

    def __init__(self):
        super().__init__()
        self.line = QLineEdit()
        self._layout.addWidget(self.line)
        self.line.editingFinished.connect(self._commit)
        self._value = None  # the last value shown or accepted: what value() gives while the text is invalid

    def _commit(self) -> None:
        # Parsed as a file is (a depth limit, no giant integers): '[' * 100000 is refused, not a recursion.
        try:
            value = engine.user_files.parse_json(self.line.text())
        except engine.user_files.JsonError as error:
            self.line.setStyleSheet(INVALID_STYLE)
            self.line.setToolTip(f"Not used: this text {error}")
            return
        self.line.setStyleSheet("")
        self.line.setToolTip("")
        self._value = value
        if not self._showing:
            self.value_edited.emit(value)

    def _show(self, value):
        self._value = value
        self.line.setText(json.dumps(value))

    def value(self):
        return self._value
