"""How a layer declares one setting: its kind, default, range, choices and help (as Keras documents arguments).

A layer class lists its settings once, in ``fields``; the layer's own check at construction
(``Layer.__init__``) and the app's editors (through ``engine.layer_schema``) both read these
declarations, so a range is written in one place:

    fields = {"units": Field("int", REQUIRED, low=1, high=MAX_SIZE, help="How many outputs.")}

Kinds and the value each holds:

- ``int``, ``float``: a number in [low, high] (``high_inclusive=False``: [low, high));
- ``bool``: true or false;
- ``choice``: one of ``choices`` (``none_label`` names the None entry, if there is one);
- ``size_pair``: an int or [height, width] of ints in [low, high] (``none_label``: None is allowed too);
- ``padding``: 'valid', 'same', or explicit pixels as a size pair in [low, high];
- ``shape``: [features] or [channels, height, width], each in [low, high];
- ``initializer``: an initializer's name or config (``engine.initializers``);
- ``any``: anything JSON can hold; the layer checks it.

The kinds ``int``, ``float``, ``bool`` and ``choice`` are checked here for every layer; the others
have rules of their own that the layer's ``configure`` applies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.checks import is_finite
from engine.checks import shown as describe_value
from engine.design_limits import MAX_SIZE

REQUIRED = object()  # marks a setting without a default

KINDS = ("int", "float", "bool", "choice", "size_pair", "padding", "shape", "initializer", "any")


@dataclass(frozen=True)
class Field:
    """One setting of a layer type."""

    kind: str
    default: Any = REQUIRED
    low: float | None = None  # smallest value accepted (numbers, and each number of a pair or shape)
    high: float | None = None  # largest value accepted (or just above it, where high_inclusive is False)
    high_inclusive: bool = True
    choices: tuple = ()
    none_label: str | None = None  # where None is a value: what it means, in a few words ("= pool")
    step: float | None = None  # for editors of a float: how far one arrow press moves it
    help: str = ""
    # A layer's own check in place of the generic one for its kind: (value, name) -> value, ValueError
    # naming the setting (activations resolve their function and say so in their own words).
    check: Callable[[Any, str], Any] | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of: {', '.join(KINDS)}; received kind={self.kind!r}")

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def checked(self, value, name: str):
        """``value`` as the layer keeps it; ValueError in the Keras style where it breaks this declaration."""
        if self.check is not None:
            return self.check(value, name)
        if self.kind == "int":
            return check_int(value, name, self.low, self.high)
        if self.kind == "float":
            return check_number(value, name, self.low, self.high, self.high_inclusive)
        if self.kind == "bool":
            return check_bool(value, name)
        if self.kind == "choice" and value not in self.choices:
            expected = ", ".join(describe_value(c) for c in self.choices)
            raise ValueError(f"{name} must be one of: {expected}; received {name}={describe_value(value)}")
        return value


# -- the generic checks (layers call them too, for numbers inside pairs) --------------------------------------

def check_int(value, field: str, minimum: int = 1, maximum: int = MAX_SIZE) -> int:
    """An integer setting in [minimum, maximum]; a bool, a float or a string is refused, not rounded."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{field} must be an integer >= {minimum}; received {field}={describe_value(value)}")
    if value > maximum:
        raise ValueError(f"{field} must be at most {maximum:,}; received {field}={describe_value(value)}")
    return value


def check_bool(value, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{field} must be true or false; received {field}={describe_value(value)}")
    return value


def check_number(value, field: str, low: float, high: float, high_inclusive=False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and is_finite(value)
    ok = ok and low <= value and (value <= high if high_inclusive else value < high)
    if not ok:
        bracket = "]" if high_inclusive else ")"
        raise ValueError(f"{field} must be a number in [{low}, {high}{bracket}; "
                         f"received {field}={describe_value(value)}")
    return float(value)
