"""One widget per layer setting, built from the setting's declaration in the engine's layer schema.

The engine declares each setting's kind, range, choices, default and help (``engine.layer_schema``);
this module only maps a kind to a widget, so a new layer type needs no code here to be edited.
Every editor shows a value with ``set_value`` (without announcing it) and announces a person's change
with ``value_edited``; the inspector turns that into an undoable edit. Spin boxes commit on Enter or
when focus leaves (not on every keystroke), so an edit is one step, not one per digit.

The editors made of spin boxes, check boxes and lists (numbers, pairs, padding, choices) are here with
``editor_for``, which picks one per kind. The rest live beside this module and are re-exported from it:
the ``FieldEditor`` base in app/field_editor_base.py, the editors typed as text (shapes, JSON) in
app/typed_field_editors.py, and the initializer editor, whose widgets change with its value, in
app/initializer_editor.py.

    editor = editor_for(engine.layer_schema("Conv2D").fields["kernel_size"])
    editor.set_value(5)
    editor.value_edited.connect(print)      # 3, or [3, 5] when height and width differ
"""

from __future__ import annotations

import math

from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QLabel

import engine
from app.field_editor_base import INVALID_STYLE, FieldEditor, combo_box, spin_box
from app.initializer_editor import InitializerEditor
from app.typed_field_editors import JsonEditor, ShapeEditor

# Importers read every editor from here; the typed and initializer editors live in modules of their own.
__all__ = [
    "INVALID_STYLE",
    "BoolEditor",
    "ChoiceEditor",
    "FieldEditor",
    "FloatEditor",
    "InitializerEditor",
    "IntEditor",
    "JsonEditor",
    "PaddingEditor",
    "PairEditor",
    "ShapeEditor",
    "editor_for",
    "field_editor",
]

PADDING_CHOICES = ("valid", "same", "explicit")


class IntEditor(FieldEditor):
    def __init__(self, minimum: int, maximum: int):
        super().__init__()
        self.box = spin_box(minimum, maximum)
        self._layout.addWidget(self.box)
        self.box.valueChanged.connect(self._edited)

    def _show(self, value):
        self.box.setValue(int(value) if isinstance(value, int) else self.box.minimum())

    def value(self):
        return self.box.value()


class FloatEditor(FieldEditor):
    def __init__(self, minimum: float, maximum: float, step: float, decimals: int):
        super().__init__()
        self.box = QDoubleSpinBox()
        self.box.setRange(minimum, maximum)
        self.box.setSingleStep(step)
        self.box.setDecimals(decimals)
        self.box.setKeyboardTracking(False)
        self._layout.addWidget(self.box)
        self.box.valueChanged.connect(self._edited)

    def _show(self, value):
        self.box.setValue(float(value) if isinstance(value, (int, float)) else self.box.minimum())

    def value(self):
        return self.box.value()


class BoolEditor(FieldEditor):
    def __init__(self):
        super().__init__()
        self.box = QCheckBox()
        self._layout.addWidget(self.box)
        self.box.toggled.connect(self._edited)

    def _show(self, value):
        self.box.setChecked(bool(value))

    def value(self):
        return self.box.isChecked()


class ChoiceEditor(FieldEditor):
    """A fixed list of values; ``labels`` maps a value to the text shown for it."""

    def __init__(self, values: list, labels: dict | None = None):
        super().__init__()
        self.values = list(values)
        self.combo = combo_box()
        for value in self.values:
            self.combo.addItem((labels or {}).get(value, str(value)))
        self._layout.addWidget(self.combo)
        self.combo.currentIndexChanged.connect(self._edited)

    def _show(self, value):
        if value not in self.values:  # e.g. a typo in a hand-written file: show it, the engine explains
            self.values.append(value)
            self.combo.addItem(str(value))
        self.combo.setCurrentIndex(self.values.index(value))

    def value(self):
        return self.values[self.combo.currentIndex()]


class PairEditor(FieldEditor):
    """Height × width; one number when they are equal (as the spec writes a square kernel).

    With ``none_label`` a check box offers None (pooling strides: "same as the pool size").
    """

    def __init__(self, minimum: int, maximum: int, none_label: str | None = None):
        super().__init__()
        self.height, self.width = spin_box(minimum, maximum), spin_box(minimum, maximum)
        self.none_box = QCheckBox(none_label) if none_label else None
        self._layout.addWidget(self.height, 1)
        self._layout.addWidget(QLabel("×"))
        self._layout.addWidget(self.width, 1)
        if self.none_box is not None:
            self._layout.addWidget(self.none_box)
            self.none_box.toggled.connect(self._none_toggled)
        self.height.valueChanged.connect(self._edited)
        self.width.valueChanged.connect(self._edited)

    def _none_toggled(self, checked: bool) -> None:
        self.height.setEnabled(not checked)
        self.width.setEnabled(not checked)
        self._edited()

    def _show(self, value):
        is_none = value is None and self.none_box is not None
        if self.none_box is not None:
            self.none_box.setChecked(is_none)
            self.height.setEnabled(not is_none)
            self.width.setEnabled(not is_none)
        if isinstance(value, int):
            value = [value, value]
        if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
            self.height.setValue(value[0])
            self.width.setValue(value[1])

    def value(self):
        if self.none_box is not None and self.none_box.isChecked():
            return None
        height, width = self.height.value(), self.width.value()
        return height if height == width else [height, width]


class PaddingEditor(FieldEditor):
    """'valid', 'same', or explicit pixels (height × width, the same on both sides)."""

    def __init__(self, minimum: int, maximum: int):
        super().__init__()
        self.mode = combo_box()
        self.mode.addItems(PADDING_CHOICES)
        self.pixels = PairEditor(minimum, maximum)
        self._layout.addWidget(self.mode)
        self._layout.addWidget(self.pixels)
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.pixels.value_edited.connect(self._edited)

    def _mode_changed(self, index: int) -> None:
        self.pixels.setVisible(PADDING_CHOICES[index] == "explicit")
        self._edited()

    def _show(self, value):
        explicit = not isinstance(value, str)
        if explicit:
            self.mode.setCurrentIndex(PADDING_CHOICES.index("explicit"))
        else:  # an unknown word shows as 'valid'; the engine's message says what is wrong
            self.mode.setCurrentIndex(PADDING_CHOICES.index(value) if value in ("valid", "same") else 0)
        self.pixels.setVisible(explicit)
        if explicit:
            self.pixels.set_value(value)

    def value(self):
        mode = PADDING_CHOICES[self.mode.currentIndex()]
        return self.pixels.value() if mode == "explicit" else mode


def _float_editor(declared) -> FloatEditor:
    """A spin box over the declared range, as near to its ends as the shown decimals reach."""
    step = declared.step or 0.01
    decimals = max(3, round(-math.log10(step)) + 2)  # 0.05 -> 3, 0.01 -> 4, 1e-4 -> 6
    unit = 10.0 ** -decimals
    # The first value the box can show at or above the low end: 1e-12 would show as 0.000000, which the engine
    # refuses. (Rounded, then stepped up where it fell below: 0.1 / 0.001 is 100.00000000000001 in floats.)
    minimum = round(declared.low / unit) * unit
    if minimum < declared.low - abs(declared.low) * 1e-9:
        minimum += unit
    maximum = declared.high if declared.high_inclusive else declared.high - unit
    return FloatEditor(minimum, maximum, step, decimals)


def editor_for(declared) -> FieldEditor:
    """The widget for one setting's declaration (an ``engine.layer_schema(...).fields`` value), its help as tooltip."""
    kind = declared.kind
    if kind == "int":
        editor = IntEditor(int(declared.low), int(declared.high))
    elif kind == "float":
        editor = _float_editor(declared)
    elif kind == "bool":
        editor = BoolEditor()
    elif kind == "choice":
        editor = ChoiceEditor(list(declared.choices), {None: declared.none_label} if declared.none_label else None)
    elif kind == "size_pair":
        editor = PairEditor(int(declared.low), int(declared.high), declared.none_label)
    elif kind == "padding":
        editor = PaddingEditor(int(declared.low), int(declared.high))
    elif kind == "shape":
        editor = ShapeEditor(declared)
    elif kind == "initializer":
        editor = InitializerEditor()
    else:
        editor = JsonEditor()
    editor.setToolTip(declared.help)
    return editor


def field_editor(layer_type: str, field: str) -> FieldEditor:
    """The widget for ``field`` of a ``layer_type`` node; JSON text where the engine declares no such setting."""
    try:
        declared = engine.layer_schema(layer_type).fields.get(field)
    except engine.SpecError:
        declared = None
    return JsonEditor() if declared is None else editor_for(declared)
