"""The training form's number boxes, and how a project's numbers are checked against them before they are shown.

The form (training_settings.py) and its optimizer rows (optimizer_fields.py) both make spin boxes and both load
numbers from a project file, which is data a person may have written by hand: a number of the wrong type or
beyond a box's range is refused in words that quote the project's value ("training.epochs: 2147483648 is
beyond the largest, 1000"), never clamped in silence. The words are made here, once, for both.
"""

from __future__ import annotations

import json

from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox


def spin_box(low, high, value, decimals=None, step=None):
    """A whole-number box, or with ``decimals`` a decimal one, over [low, high] showing ``value``."""
    if decimals is None:
        box = QSpinBox()
    else:
        box = QDoubleSpinBox()
        box.setDecimals(decimals)
    box.setRange(low, high)
    if step is not None:
        box.setSingleStep(step)
    box.setValue(value)
    return box


def shown(value) -> str:
    """A project's value as its file spells it, cut short: a refusal quotes what it refused."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def number_text(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def number_problem(value, box) -> str | None:
    """Why ``value`` cannot be shown in ``box`` (its type, its range), or None."""
    whole = isinstance(box, QSpinBox)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "is not a whole number" if whole else "is not a number"
    if whole and isinstance(value, float) and not value.is_integer():
        return "is not a whole number"
    if value > box.maximum():
        return f"is beyond the largest, {number_text(box.maximum())}"
    if value < box.minimum():
        return f"is below the smallest, {number_text(box.minimum())}"
    return None
