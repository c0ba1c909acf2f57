"""One widget per layer setting, built from the setting's declaration in the engine's layer schema.

The engine declares each setting's kind, range, choices, default and help (``engine.layer_schema``);
this module only maps a kind to a widget, so a new layer type needs no code here to be edited.
Every editor shows a value with ``set_value`` (without announcing it) and announces a person's change
with ``value_edited``; the inspector turns that into an undoable edit. Spin boxes commit on Enter or
when focus leaves (not on every keystroke), so an edit is one step, not one per digit.

    editor = editor_for(engine.layer_schema("Conv2D").fields["kernel_size"])
    editor.set_value(5)
    editor.value_edited.connect(print)      # 3, or [3, 5] when height and width differ
"""

from __future__ import annotations

import json
import math

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

import engine

INVALID_STYLE = "border: 1px solid #d32f2f;"
PADDING_CHOICES = ("valid", "same", "explicit")


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


def _combo_box() -> QComboBox:
    # Sized by a few characters, not the longest entry, so the inspector stays narrow.
    combo = QComboBox()
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(6)
    combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return combo


def _spin_box(minimum: int, maximum: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(minimum, maximum)
    box.setKeyboardTracking(False)
    box.setAccelerated(True)
    return box


class IntEditor(FieldEditor):
    def __init__(self, minimum: int, maximum: int):
        super().__init__()
        self.box = _spin_box(minimum, maximum)
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
        self.combo = _combo_box()
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
        self.height, self.width = _spin_box(minimum, maximum), _spin_box(minimum, maximum)
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
        self.mode = _combo_box()
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


class InitializerEditor(FieldEditor):
    """An initializer's name and, for those that take any, its numeric arguments (Keras's defaults)."""

    def __init__(self):
        super().__init__()
        self.names = list(engine.initializers.INITIALIZERS)
        self.combo = _combo_box()
        self.combo.addItems(self.names)
        # The name on one line, its arguments under it: side by side they would not fit the dock.
        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        self.arguments_row = QHBoxLayout()
        column.addWidget(self.combo)
        column.addLayout(self.arguments_row)
        self._layout.addLayout(column)
        self.arguments: dict[str, QDoubleSpinBox] = {}
        self.combo.currentIndexChanged.connect(self._name_changed)

    def _defaults(self, name: str) -> dict:
        config = engine.initializers.get(name).get_config()
        config.pop("name")
        return {k: v for k, v in config.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}

    def _rebuild_arguments(self, values: dict) -> None:
        for box in self.arguments.values():
            self.arguments_row.removeWidget(box)
            box.deleteLater()
        self.arguments = {}
        for argument, value in values.items():
            box = QDoubleSpinBox()
            box.setPrefix(f"{argument} ")
            box.setRange(-100.0, 100.0)
            box.setDecimals(4)
            box.setSingleStep(0.01)
            box.setKeyboardTracking(False)
            box.setValue(float(value))
            box.valueChanged.connect(self._edited)
            self.arguments_row.addWidget(box)
            self.arguments[argument] = box

    def _name_changed(self, _index: int) -> None:
        name = self.names[self.combo.currentIndex()]
        if name in engine.initializers.INITIALIZERS:
            self._rebuild_arguments(self._defaults(name))
        self._edited()

    def _show(self, value):
        name = value.get("name") if isinstance(value, dict) else value
        if name not in self.names:
            self.names.append(name)
            self.combo.addItem(str(name))
        self.combo.setCurrentIndex(self.names.index(name))
        values = self._defaults(name) if name in engine.initializers.INITIALIZERS else {}
        if isinstance(value, dict):
            values.update({k: v for k, v in value.items() if k in values})
        self._rebuild_arguments(values)

    def value(self):
        name = self.names[self.combo.currentIndex()]
        if not self.arguments:
            return name
        return {"name": name, **{argument: box.value() for argument, box in self.arguments.items()}}


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
