"""MNIST-style preprocessing of a drawing (NumPy only): what the network sees of what you drew.

MNIST's digits were cropped to their ink, scaled to fit a 20x20 box keeping the aspect ratio with
anti-aliasing, then placed in a 28x28 field so that their centre of mass is the field's centre. A network
trained on MNIST reads a drawing well only if the drawing goes through the same steps::

    digit = mnist_style(pad_pixels)         # (28, 28) float32 in [0, 1], ink bright on black
    digit = mnist_style(pad_pixels, field=32, box=23)   # for a network whose input is 32x32
    digit, placement = mnist_placed(pad_pixels)         # and where the digit's square lies on the pad

Resampling is by area averaging: each output pixel is the mean of the input area it covers, which is
the anti-aliasing MNIST's grey levels come from, and it lets the centring shift be fractional.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MNIST_FIELD = 28
MNIST_BOX = 20
INK_THRESHOLD = 0.02  # fainter pixels (anti-aliasing fringes, scanner noise) do not widen the crop


def as_ink(image: np.ndarray) -> np.ndarray:
    """``image`` (H, W) as float32 ink in [0, 1]: uint8 is divided by 255, floats are clipped.

    >>> as_ink(np.array([[0, 255]], dtype=np.uint8)).tolist()
    [[0.0, 1.0]]
    """
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image.astype(np.float32) / 255.0
    return np.clip(image.astype(np.float32), 0.0, 1.0)


def ink_bounds(image: np.ndarray, threshold: float = INK_THRESHOLD) -> tuple[slice, slice] | None:
    """The rows and columns holding ink (pixels above ``threshold`` once ``as_ink``), or None for a blank image.

    Read from ``image`` as it is (uint8 or float), without converting it: ``as_ink`` of the whole pad costs
    more than the rest of a reading (a 280x280 pad: two fresh 300 KB arrays, their pages faulted in each time).
    """
    image = np.asarray(image)
    inked = image > (threshold * 255 if image.dtype == np.uint8 else threshold)  # clipping moves no pixel across
    rows = np.flatnonzero(inked.any(axis=1))
    if len(rows) == 0:
        return None
    columns = np.flatnonzero(inked.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1)


def area_weights(n_in: int, scale: float, offset: float, n_out: int) -> np.ndarray:
    """(n_out, n_in) matrix: how much of output pixel j input pixel i covers, once input pixels are
    ``scale`` output pixels wide and the first starts at ``offset``. ``W @ row`` area-averages a row.
    """
    starts = offset + np.arange(n_in) * scale
    lows = np.arange(n_out)[:, None]
    overlap = np.minimum(starts + scale, lows + 1) - np.maximum(starts, lows)
    return np.clip(overlap, 0.0, None).astype(np.float32)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of ``image``'s centre of mass, with pixel i's centre at i + 0.5; the field's centre
    is (height / 2, width / 2). A blank image gives its geometric centre.
    """
    total = float(image.sum())
    height, width = image.shape
    if total <= 0:
        return height / 2, width / 2
    row = float(image.sum(axis=1) @ (np.arange(height) + 0.5)) / total
    column = float(image.sum(axis=0) @ (np.arange(width) + 0.5)) / total
    return row, column


@dataclass(frozen=True)
class Placement:
    """Where the (field, field) digit sits over the image it came from, in image pixels: the digit's
    square spans columns ``left`` to ``left + side`` and rows ``top`` to ``top + side`` (a saliency map
    over the digit is drawn there, over the drawing)."""

    left: float
    top: float
    side: float


def mnist_placed(image: np.ndarray, field: int = MNIST_FIELD,
                 box: int = MNIST_BOX) -> tuple[np.ndarray, Placement | None]:
    """``mnist_style(image)`` and where that digit lies over ``image`` (None for a blank image)."""
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"expected a 2-D (height, width) image; received shape {image.shape}")
    bounds = ink_bounds(image)
    if bounds is None:
        return np.zeros((field, field), dtype=np.float32), None
    crop = as_ink(image[bounds])  # only the inked rectangle becomes float (measured, 280x280 pad: 0.79 -> 0.31 ms)
    height, width = crop.shape
    scale = box / max(height, width)
    mass_row, mass_column = centre_of_mass(crop)
    # Choose each offset so the scaled centre of mass lands on the field's centre, within the field.
    top = float(np.clip(field / 2 - mass_row * scale, 0.0, field - height * scale))
    left = float(np.clip(field / 2 - mass_column * scale, 0.0, field - width * scale))
    rows = area_weights(height, scale, top, field)
    columns = area_weights(width, scale, left, field)
    digit = rows @ crop @ columns.T
    digit = np.clip(digit, 0.0, 1.0, out=digit).astype(np.float32, copy=False)
    placement = Placement(left=bounds[1].start - left / scale, top=bounds[0].start - top / scale, side=field / scale)
    return digit, placement


def mnist_style(image: np.ndarray, field: int = MNIST_FIELD, box: int = MNIST_BOX) -> np.ndarray:
    """``image`` (H, W, ink bright on black, uint8 or float) as a (field, field) float32 digit in [0, 1]:
    cropped to its ink, scaled so its longer side spans ``box`` pixels, centred by centre of mass.

    A blank image gives an all-zero field. The centring shift stops where the digit would leave the
    field, so a lopsided drawing stays whole (as MNIST's did).
    """
    return mnist_placed(image, field, box)[0]
