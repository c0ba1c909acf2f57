"""What every layer-setting editor shares: the ``FieldEditor`` base and the small widgets the editors are built from.

``FieldEditor`` is the contract the inspector relies on: ``set_value`` shows a value without announcing it,
``value_edited`` announces a person's change, ``value()`` reads the current one. It lives apart from the
editors themselves (app/field_editors.py, app/typed_field_editors.py, app/initializer_editor.py) so that the
editors in modules of their own need not import app/field_editors.py, which imports them to pick among them.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QSizePolicy, QSpinBox, QWidget

INVALID_STYLE = "border: 1px solid #d32f2f;"  # a red frame round text the editor does not take


class FieldEditor(QWidget):
    value_edited = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._showing = False  # set while set_value runs, so showing a value is not taken for an edit

    def set_value(self, value) -> None:
        self._showing = True
        try:
            self._show(value)
        finally:
            self._showing = False

    def _show(self, value) -> None:
        raise NotImplementedError

    def _edited(self, *_args) -> None:
        if not self._showing:
            self.value_edited.emit(self.value())

    def value(self):
        raise NotImplementedError


def combo_box() -> QComboBox:
    # Sized by a few characters, not the longest entry, so the inspector stays narrow.
    combo = QComboBox()
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(6)
    combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return combo


def spin_box(minimum: int, maximum: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(minimum, maximum)
    box.setKeyboardTracking(False)
    box.setAccelerated(True)
    return box
