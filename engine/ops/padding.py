"""Resolving "valid" / "same" / explicit padding into output sizes and per-side pads.

Conventions (DESIGN.md): out = floor((in + pad_before + pad_after - kernel) / stride) + 1;
"same" follows TensorFlow: out = ceil(in / stride), the total pad split with the extra pixel
after (bottom/right).
"""

from __future__ import annotations


def pair(value, field: str) -> tuple[int, int]:
    """An int or a 2-sequence of ints as (height, width); raises ValueError naming ``field``."""
    if isinstance(value, bool):
        raise ValueError(f"{field} must be an integer or a pair of integers; received {value!r}")
    if isinstance(value, int):
        return value, value
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return int(value[0]), int(value[1])
    raise ValueError(f"{field} must be an integer or a pair of integers; received {value!r}")


def normalize_padding(padding) -> str | tuple[int, int]:
    """'valid', 'same', or explicit symmetric (pad_h, pad_w)."""
    if isinstance(padding, str):
        lowered = padding.lower()
        if lowered in ("valid", "same"):
            return lowered
        raise ValueError(f"padding must be 'valid', 'same' or integers; received {padding!r}")
    pads = pair(padding, "padding")
    if min(pads) < 0:
        raise ValueError(f"padding must not be negative; received {padding!r}")
    return pads


def _axis(size: int, kernel: int, stride: int, padding) -> tuple[int, int, int]:
    """(out, pad_before, pad_after) along one axis; out may be <= 0 for impossible designs."""
    if padding == "same":
        out = -(-size // stride)
        total = max((out - 1) * stride + kernel - size, 0)
        return out, total // 2, total - total // 2
    pad = 0 if padding == "valid" else padding
    return (size + 2 * pad - kernel) // stride + 1, pad, pad


def conv_geometry(height: int, width: int, kernel: tuple[int, int], strides: tuple[int, int], padding):
    """Output size and pads of a 2-D window operation.

    Returns ``(out_h, out_w, (pad_top, pad_bottom, pad_left, pad_right))``. ``padding`` is the
    value returned by ``normalize_padding``.
    """
    pad_h = padding if isinstance(padding, str) else padding[0]
    pad_w = padding if isinstance(padding, str) else padding[1]
    out_h, top, bottom = _axis(height, kernel[0], strides[0], pad_h)
    out_w, left, right = _axis(width, kernel[1], strides[1], pad_w)
    return out_h, out_w, (top, bottom, left, right)
