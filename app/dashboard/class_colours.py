"""Colours and marks for up to ten classes on a scatter plot, readable by people with colour-blindness and in
light and dark themes.

The hues are Paul Tol's "muted" scheme (nine colours chosen to stay apart under the common colour-vision
deficiencies) and the plot's own text colour as the tenth; each is darkened on a light background, or lightened
on a dark one, until it stands out from the background at least ``MIN_CONTRAST`` to 1 (WCAG's ratio for
graphics). Each class also has a mark of its own, so no two classes rely on colour alone.

    brushes = class_colours(background, foreground)     # QColors, one per class
    symbol = CLASS_SYMBOLS[label % len(CLASS_SYMBOLS)]
"""

from __future__ import annotations

from PySide6.QtGui import QColor

TOL_MUTED = ("#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499")
CLASS_SYMBOLS = ("o", "s", "t", "d", "star", "h", "t1", "p", "t2", "x")
MIN_CONTRAST = 3.0


def relative_luminance(colour: QColor) -> float:
    """WCAG 2's relative luminance of an sRGB colour."""
    def linear(value: int) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(colour.red()) + 0.7152 * linear(colour.green()) + 0.0722 * linear(colour.blue())


def contrast_ratio(first: QColor, second: QColor) -> float:
    """WCAG 2's contrast ratio, 1 (the same) to 21 (black on white)."""
    high, low = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def readable_on(colour: QColor, background: QColor) -> QColor:
    """``colour`` with its lightness moved away from ``background``'s until they contrast ``MIN_CONTRAST`` to 1."""
    hue, saturation, lightness, _ = colour.getHslF()
    step = -0.01 if relative_luminance(background) > 0.18 else 0.01  # darker on light, lighter on dark
    adjusted = QColor(colour)
    while contrast_ratio(adjusted, background) < MIN_CONTRAST and 0.0 < lightness < 1.0:
        lightness = min(1.0, max(0.0, lightness + step))
        adjusted = QColor.fromHslF(max(hue, 0.0), saturation, lightness)
    return adjusted


def class_colours(background: QColor, foreground: QColor) -> list[QColor]:
    """Ten colours, one per class, for marks on ``background``; the tenth is ``foreground`` (the text's)."""
    return [readable_on(QColor(name), background) for name in TOL_MUTED] + [QColor(foreground)]
