"""Tiling many small images (kernels, feature maps, unit weights) into one image for one ImageItem.

    mosaic = tile(kernels[:, 0], columns=8)      # (N, h, w) -> (rows*(h+1)-1, columns*(w+1)-1), NaN gaps
    colour = tile(centred_rgb(kernels))          # (N, 3, h, w) -> (rows*(h+1)-1, columns*(w+1)-1, 3) in [0, 1]
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

DIVERGING = pg.colormap.get("CET-D1")  # weights: blue negative, white zero, red positive
SEQUENTIAL = pg.colormap.get("viridis")  # activations and counts


def tile(images: np.ndarray, columns: int | None = None, gap_value: float = np.nan) -> np.ndarray:
    """(N, h, w) images, or (N, h, w, 3) colour ones, side by side, row by row, one pixel of ``gap_value``
    between them."""
    images = np.asarray(images, dtype=np.float32)
    count, height, width = images.shape[:3]
    columns = columns or max(1, math.ceil(math.sqrt(count)))
    rows = max(1, math.ceil(count / columns))
    mosaic = np.full((rows * (height + 1) - 1, columns * (width + 1) - 1, *images.shape[3:]), gap_value,
                     dtype=np.float32)
    for index in range(count):
        row, column = divmod(index, columns)
        top, left = row * (height + 1), column * (width + 1)
        mosaic[top:top + height, left:left + width] = images[index]
    return mosaic


def centred_rgb(images: np.ndarray) -> np.ndarray:
    """(N, 3, h, w) signed weights -> (N, h, w, 3) RGB in [0, 1], each image scaled on its own so that 0 is
    mid-grey and its largest |value| reaches 0 or 1: the usual picture of first-layer colour filters (e.g.
    AlexNet's). Per image, so a weak kernel is as visible as a strong one; the caption says so."""
    images = np.asarray(images, dtype=np.float32)
    bound = np.abs(images).reshape(len(images), -1).max(axis=1, initial=0.0)
    bound[~np.isfinite(bound) | (bound == 0)] = 1.0
    scaled = 0.5 + 0.5 * images / bound[:, None, None, None]
    return np.nan_to_num(scaled, nan=0.5).transpose(0, 2, 3, 1)


def symmetric_levels(array: np.ndarray) -> tuple[float, float]:
    """Levels centred on zero, so white means zero in a diverging colour map."""
    finite = array[np.isfinite(array)]
    bound = float(np.abs(finite).max()) if finite.size else 1.0
    bound = bound or 1.0
    return -bound, bound


def value_levels(array: np.ndarray) -> tuple[float, float]:
    finite = array[np.isfinite(array)]
    if not finite.size:
        return 0.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    return (low, high) if high > low else (low, low + 1.0)


def image_view(layout: pg.GraphicsLayoutWidget, colormap, row: int = 0, col: int = 0):
    """A locked-aspect, axis-less ViewBox holding one row-major ImageItem: (view, image_item)."""
    view = layout.addViewBox(row=row, col=col, lockAspect=True, invertY=True, enableMouse=True)
    image = pg.ImageItem(axisOrder="row-major")
    image.setColorMap(colormap)
    view.addItem(image)
    return view, image
