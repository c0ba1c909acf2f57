"""Argument checks shared by initializers, schedules and optimizers.

Keras-style messages: the owner, the field and the value received.
"""

from __future__ import annotations

import math
from numbers import Real

# The largest magnitude an initializer's argument may have (docs/spec.md, "Limits"). float32 holds up to
# 3.4e38, so 1e308 would start every weight at inf; and a starting weight past a million is a typo, not a
# choice: a Dense layer of such weights over 784 inputs in [0, 1] gives outputs near 1e9, and about five
# such layers overflow float32 in the first forward pass.
MAX_INITIAL_VALUE = 1e6


def shown(value) -> str:
    """``value`` as a message shows it: its repr cut to 60 characters, and an integer too long to print
    (Python refuses to write one of over 4,300 digits) as its number of digits."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 100:
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1:,} digits"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def is_finite(value) -> bool:
    """math.isfinite without its OverflowError for an integer too big to be a float (10**400)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def number(owner: str, field: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not is_finite(value):
        raise ValueError(f"{owner}: {field} must be a finite number. Received: {field}={shown(value)}")
    return float(value)


def initial_value(owner: str, field: str, value) -> float:
    """An initializer's argument: a finite number of magnitude at most MAX_INITIAL_VALUE."""
    if abs(number(owner, field, value)) > MAX_INITIAL_VALUE:
        raise ValueError(f"{owner}: {field} must be between -{MAX_INITIAL_VALUE:g} and {MAX_INITIAL_VALUE:g}: "
                         f"larger starting weights overflow in the first pass. Received: {field}={shown(value)}")
    return float(value)


def positive(owner: str, field: str, value) -> float:
    if number(owner, field, value) <= 0:
        raise ValueError(f"{owner}: {field} must be > 0. Received: {field}={shown(value)}")
    return float(value)


def non_negative(owner: str, field: str, value) -> float:
    if number(owner, field, value) < 0:
        raise ValueError(f"{owner}: {field} must be >= 0. Received: {field}={shown(value)}")
    return float(value)


def unit_interval(owner: str, field: str, value) -> float:
    """A decay factor such as beta_1 or rho: in [0, 1), since 1 would never forget and never learn."""
    if not 0 <= number(owner, field, value) < 1:
        raise ValueError(f"{owner}: {field} must be in [0, 1). Received: {field}={shown(value)}")
    return float(value)


def boolean(owner: str, field: str, value) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{owner}: {field} must be true or false. Received: {field}={shown(value)}")
    return value


def optional_positive(owner: str, field: str, value) -> float | None:
    return None if value is None else positive(owner, field, value)
