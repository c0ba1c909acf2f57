"""Argument checks shared by initializers, schedules and optimizers.

Keras-style messages: the owner, the field and the value received.
"""

from __future__ import annotations

import math
from numbers import Real


def number(owner: str, field: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"{owner}: {field} must be a finite number. Received: {field}={value!r}")
    return float(value)


def positive(owner: str, field: str, value) -> float:
    if number(owner, field, value) <= 0:
        raise ValueError(f"{owner}: {field} must be > 0. Received: {field}={value!r}")
    return float(value)


def non_negative(owner: str, field: str, value) -> float:
    if number(owner, field, value) < 0:
        raise ValueError(f"{owner}: {field} must be >= 0. Received: {field}={value!r}")
    return float(value)


def unit_interval(owner: str, field: str, value) -> float:
    """A decay factor such as beta_1 or rho: in [0, 1), since 1 would never forget and never learn."""
    if not 0 <= number(owner, field, value) < 1:
        raise ValueError(f"{owner}: {field} must be in [0, 1). Received: {field}={value!r}")
    return float(value)


def boolean(owner: str, field: str, value) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{owner}: {field} must be true or false. Received: {field}={value!r}")
    return value


def optional_positive(owner: str, field: str, value) -> float | None:
    return None if value is None else positive(owner, field, value)
