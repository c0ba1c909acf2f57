"""The editor of a layer's initializer setting: the initializer's name, and the numeric arguments it takes.

Apart from the other editors because it is the one whose widgets change with its value: choosing another
initializer rebuilds the row of argument boxes from that initializer's own defaults (``get_config``).
"""

from __future__ import annotations

from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QVBoxLayout

import engine
from app.field_editor_base import FieldEditor, combo_box


class InitializerEditor(FieldEditor):
    """An initializer's name and, for those that take any, its numeric arguments (Keras's defaults)."""

    def __init__(self):
        super().__init__()
        self.names = list(engine.initializers.INITIALIZERS)
        self.combo = combo_box()
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
