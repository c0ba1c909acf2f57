"""A saliency map as a translucent heat overlay: transparent where the map is 0, an opaque warm colour at 1.

    rgba = heat_rgba(heat)             # (H, W, 4) uint8, for pyqtgraph's ImageItem
    image = rgba_image(rgba)           # a QImage owning a copy, for QPainter.drawImage
"""

from __future__ import annotations

import functools

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QImage

# Blue (weak) through green and yellow to red (strong): red stands out on white ink and on the black pad
# alike, where a "fire" map's yellow and white vanish into the ink.
HEAT_COLOURS = "turbo"
MAX_OPACITY = 0.9  # the strongest evidence still lets the stroke show through
FAINTEST_SHOWN = 0.08  # below this a map's low-level noise would tint the whole digit
DISPLAY_GAMMA = 0.6  # maps are peaked (one pixel at 1, most near 0): lift the middle so it shows


@functools.cache
def _heat_lookup() -> np.ndarray:
    # Turbo's first tenth is near-black, invisible on the black pad: start at its blue.
    return pg.colormap.get(HEAT_COLOURS).getLookupTable(0.1, 1.0, 256, alpha=False)


def heat_rgba(heat: np.ndarray) -> np.ndarray:
    """``heat`` (H, W) in [0, 1] as (H, W, 4) uint8 RGBA: colour and opacity both rise with the value."""
    heat = np.clip(np.nan_to_num(np.asarray(heat, dtype=np.float32)), 0.0, 1.0) ** DISPLAY_GAMMA
    lookup = _heat_lookup()
    rgba = np.empty((*heat.shape, 4), dtype=np.uint8)
    rgba[..., :3] = lookup[np.round(heat * 255).astype(np.intp)]
    opacity = np.clip((heat - FAINTEST_SHOWN) / (1 - FAINTEST_SHOWN), 0.0, 1.0) * MAX_OPACITY
    rgba[..., 3] = np.round(opacity * 255).astype(np.uint8)
    return rgba


def rgba_image(rgba: np.ndarray) -> QImage:
    """``rgba`` (H, W, 4) uint8 as a QImage that owns its pixels (the array may go away)."""
    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    height, width = rgba.shape[:2]
    return QImage(rgba.data, width, height, 4 * width, QImage.Format.Format_RGBA8888).copy()
