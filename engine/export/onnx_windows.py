"""Where a window (a convolution's kernel, a pool) goes in ONNX and in LayerLab: ONNX's pads, auto_pad,
strides and dilations as LayerLab's padding rule ('valid', 'same' or [ph, pw]), or ``Unsupported`` naming
the attribute LayerLab's layers do not have."""

from __future__ import annotations

from engine.export.onnx_graph import Tensor, Unsupported


def pair(values) -> tuple[int, int]:
    values = [int(v) for v in values]
    if len(values) != 2:
        raise Unsupported(f"works on {len(values)} spatial axes; LayerLab's layers work on 2 (images)")
    return values[0], values[1]


def no_dilation(attrs):
    if any(d != 1 for d in attrs.get("dilations", [1, 1])):
        raise Unsupported(f"has dilations={list(attrs['dilations'])}; LayerLab's layers have no dilation")


def padding_rule(attrs, x: Tensor, window, strides):
    """'valid', 'same' or [ph, pw], from ONNX's pads [top, left, bottom, right] or auto_pad."""
    auto_pad = attrs.get("auto_pad", "NOTSET")
    same = same_pads(x, window, strides)
    if auto_pad == "VALID":
        return "valid"
    if auto_pad == "SAME_UPPER" or (auto_pad == "SAME_LOWER" and same[0] == same[2] and same[1] == same[3]):
        return "same"
    if auto_pad not in ("NOTSET", ""):
        raise Unsupported(f"has auto_pad={auto_pad}; LayerLab's 'same' puts the extra pixel at the bottom/right")
    top, left, bottom, right = (list(attrs.get("pads", [0, 0, 0, 0])) + [0, 0, 0, 0])[:4]
    if top == bottom and left == right:
        return "valid" if top == left == 0 else [int(top), int(left)]
    if [top, left, bottom, right] == same:
        return "same"
    raise Unsupported(f"has pads={[top, left, bottom, right]}, different on opposite sides; LayerLab pads "
                      f"both sides alike, or as 'same'")


def same_pads(x: Tensor, window, strides) -> list[int]:
    """[top, left, bottom, right] as LayerLab's (TensorFlow's) 'same' pads ``x``: the extra pixel at the end."""
    pads = []
    for size, k, s in zip(x.shape[1:], window, strides, strict=True):
        out = -(-size // s)
        pads.append(max((out - 1) * s + k - size, 0))
    return [pads[0] // 2, pads[1] // 2, pads[0] - pads[0] // 2, pads[1] - pads[1] // 2]


def padded_size(x: Tensor, window, strides, padding):
    """(height, width) of ``x`` once padded as ``padding`` (a LayerLab padding rule) pads it."""
    if padding == "same":
        return [-(-size // s) * s - s + k for size, k, s in zip(x.shape[1:], window, strides, strict=True)]
    pads = (0, 0) if padding == "valid" else padding
    return [size + 2 * p for size, p in zip(x.shape[1:], pads, strict=True)]
