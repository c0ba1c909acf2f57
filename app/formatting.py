"""How numbers read in the designer: shapes as 32×28×28, counts with separators, bytes and FLOPs scaled.

    >>> format_shape((32, 28, 28)), format_count(3274634), format_bytes(100352), format_flops(2 * 10**9)
    ('32×28×28', '3,274,634', '98.0 KiB', '2.00 GFLOPs')
"""

from __future__ import annotations


def format_shape(shape) -> str:
    return "×".join(str(d) for d in shape) if shape is not None else "?"


def format_count(count: int) -> str:
    return f"{count:,}"


def counted(count: int, noun: str) -> str:
    """1 -> '1 layer', 3 -> '3 layers' (nouns whose plural adds an s).

    >>> counted(1, "layer"), counted(1024, "parameter")
    ('1 layer', '1,024 parameters')
    """
    return f"{count:,} {noun}{'s' * (count != 1)}"


def format_compact_count(count: int) -> str:
    """3274634 -> '3.27M': short enough for a node's second line."""
    for limit, suffix in ((10**9, "G"), (10**6, "M"), (10**3, "k")):
        if count >= limit:
            return f"{count / limit:.3g}{suffix}"
    return str(count)


def format_bytes(size: int) -> str:
    for limit, unit in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if size >= limit:
            return f"{size / limit:.1f} {unit}"
    return f"{size} B"


def format_flops(flops: int) -> str:
    for limit, unit in ((10**9, "GFLOPs"), (10**6, "MFLOPs"), (10**3, "kFLOPs")):
        if flops >= limit:
            return f"{flops / limit:.2f} {unit}"
    return f"{flops} FLOPs"


def group_title(group: str) -> str:
    """A palette group as a heading: 'normalisation/regularisation' -> 'Normalisation / regularisation'.

    Here, not in the palette, because the inspector titles a layer's group the same way and the docks do not
    import one another (pyproject.toml's import contracts).
    """
    return (group[:1].upper() + group[1:]).replace("/", " / ")
