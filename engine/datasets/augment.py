"""On-the-fly augmentation: small random shifts, rotations and flips of a batch, then noise, from a given generator.

    augment = Augmentation(max_shift=2, max_rotation=10, flip_horizontal=True, noise=0.05)
    xb = augment(xb, np.random.default_rng(0))     # (N, C, H, W) float32 in, new array out
    Augmentation.from_config({"shift": 2, "rotation": 10})   # what a project or model file records

Every image gets its own whole-pixel shift in [-max_shift, max_shift] (both axes) and its own
rotation angle in [-max_rotation, max_rotation] degrees about its centre, resampled bilinearly;
pixels that come from outside the image take ``fill`` (black). Then each image is mirrored left-right
(``flip_horizontal``) and/or upside down (``flip_vertical``) with probability 1/2 each, and last
Gaussian noise of standard deviation ``noise`` (in units where a pixel runs from 0 to 1) is added.

The random numbers are drawn in that order, and only for what is switched on, so a shift-and-rotation
augmentation draws exactly what it always drew: a run saved before flips and noise existed resumes the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from engine.datasets.errors import DatasetError

CONFIG_KEYS = ("shift", "rotation", "flip_horizontal", "flip_vertical", "noise")
MAX_SHIFT = 64  # pixels: past half of any image we train on, a shift only shows the fill
MAX_NOISE = 1.0  # the whole pixel range


@dataclass(frozen=True)
class Augmentation:
    max_shift: int = 2  # pixels
    max_rotation: float = 10.0  # degrees
    flip_horizontal: bool = False  # mirror left-right, half the images
    flip_vertical: bool = False  # mirror upside down, half the images
    noise: float = 0.0  # std of Gaussian noise added last, in [0, 1]-pixel units
    fill: float | tuple[float, ...] = 0.0  # per channel, in the images' own (normalised) units

    def __post_init__(self) -> None:
        if int(self.max_shift) != self.max_shift or self.max_shift < 0:
            raise DatasetError(f"Augmentation: expected a whole max_shift >= 0; received max_shift={self.max_shift}")
        if not 0 <= self.max_rotation <= 180:
            raise DatasetError(f"Augmentation: expected 0 <= max_rotation <= 180 degrees; "
                               f"received max_rotation={self.max_rotation}")
        if not 0 <= self.noise <= MAX_NOISE:
            raise DatasetError(f"Augmentation: expected 0 <= noise <= {MAX_NOISE:g}; received noise={self.noise}")
        fill = np.atleast_1d(np.asarray(self.fill, dtype=np.float32))
        object.__setattr__(self, "fill", float(fill[0]) if fill.size == 1 else tuple(float(v) for v in fill))

    @classmethod
    def from_config(cls, config: dict) -> Augmentation:
        """From a project's or model file's ``{"shift": 2, "rotation": 10, ...}``; a missing key is off (0).

        Raises ``DatasetError`` naming the first bad key, what it may be and what it was.
        """
        if not isinstance(config, dict):
            raise DatasetError(f"augment: expected an object with any of {', '.join(CONFIG_KEYS)}; "
                               f"received {config!r:.60}")
        unknown = sorted(str(key) for key in config if key not in CONFIG_KEYS)
        if unknown:
            raise DatasetError(f"augment: unknown setting {unknown[0]!r:.40}; expected any of {', '.join(CONFIG_KEYS)}")
        shift = config.get("shift", 0)
        if isinstance(shift, bool) or not isinstance(shift, int) or not 0 <= shift <= MAX_SHIFT:
            raise DatasetError(f"augment: shift must be a whole number of pixels from 0 to {MAX_SHIFT}; "
                               f"received shift={shift!r:.40}")
        rotation = _number(config, "rotation", 180.0, "of degrees ")
        for key in ("flip_horizontal", "flip_vertical"):
            if not isinstance(config.get(key, False), bool):
                raise DatasetError(f"augment: {key} must be true or false; received {key}={config[key]!r:.40}")
        noise = _number(config, "noise", MAX_NOISE, "")
        return cls(max_shift=shift, max_rotation=rotation, flip_horizontal=config.get("flip_horizontal", False),
                   flip_vertical=config.get("flip_vertical", False), noise=noise)

    def get_config(self) -> dict:
        """What ``from_config`` takes back (``fill`` is not part of it: it follows the data's normalisation)."""
        return {"shift": int(self.max_shift), "rotation": float(self.max_rotation),
                "flip_horizontal": bool(self.flip_horizontal), "flip_vertical": bool(self.flip_vertical),
                "noise": float(self.noise)}

    @property
    def is_identity(self) -> bool:
        """True when nothing is switched on: every image comes out as it went in."""
        return (self.max_shift == 0 and self.max_rotation == 0 and not self.flip_horizontal
                and not self.flip_vertical and self.noise == 0)

    def with_fill(self, fill) -> Augmentation:
        return replace(self, fill=tuple(np.atleast_1d(np.asarray(fill, dtype=np.float32)).tolist()))

    def __call__(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if images.ndim != 4:
            raise DatasetError(f"Augmentation: expected images of shape (N, C, H, W); received {images.shape}")
        if self.max_shift or self.max_rotation:
            out = self._shift_and_rotate(images, rng)
        else:
            out = np.array(images, dtype=np.float32)  # a new array, as the geometric path gives
        n = len(out)
        if self.flip_horizontal:
            chosen = rng.random(n) < 0.5
            out[chosen] = out[chosen, :, :, ::-1]
        if self.flip_vertical:
            chosen = rng.random(n) < 0.5
            out[chosen] = out[chosen, :, ::-1, :]
        if self.noise:
            noise = rng.standard_normal(out.shape, dtype=np.float32)
            noise *= np.float32(self.noise)
            out += noise
        return out

    def _shift_and_rotate(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n, channels, height, width = images.shape
        fill = np.broadcast_to(np.asarray(self.fill, dtype=np.float32), (channels,))
        shift = rng.integers(-int(self.max_shift), int(self.max_shift) + 1, size=(n, 2)).astype(np.float32)
        angle = np.deg2rad(rng.uniform(-self.max_rotation, self.max_rotation, size=n)).astype(np.float32)

        # Pad by one pixel of fill, so a source position outside the image clips onto fill.
        ph, pw = height + 2, width + 2
        padded = np.empty((channels, n, ph, pw), dtype=np.float32)
        padded[...] = fill[:, None, None, None]
        padded[:, :, 1:-1, 1:-1] = images.transpose(1, 0, 2, 3)

        # Inverse map: output pixel -> source position (undo the shift, then rotate back about the centre),
        # in padded coordinates (+1).
        cy, cx = np.float32((height - 1) / 2), np.float32((width - 1) / 2)
        y = np.arange(height, dtype=np.float32)[None, :, None] - cy - shift[:, 0, None, None]
        x = np.arange(width, dtype=np.float32)[None, None, :] - cx - shift[:, 1, None, None]
        cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
        src_y = np.clip(cos * y + sin * x + (cy + 1), -1, ph)
        src_x = np.clip(cos * x - sin * y + (cx + 1), -1, pw)
        y0, x0 = np.floor(src_y), np.floor(src_x)
        wy, wx = src_y - y0, src_x - x0
        # int32 indices: half the memory traffic of intp, and n * ph * pw stays far below 2**31.
        y0, x0 = y0.astype(np.int32), x0.astype(np.int32)
        image_start = (np.arange(n, dtype=np.int32) * (ph * pw))[:, None, None]
        row0 = image_start + np.clip(y0, 0, ph - 1) * pw
        row1 = image_start + np.clip(y0 + 1, 0, ph - 1) * pw
        col0, col1 = np.clip(x0, 0, pw - 1), np.clip(x0 + 1, 0, pw - 1)

        out = np.empty((n, channels, height, width), dtype=np.float32)
        for c, source in enumerate(padded.reshape(channels, -1)):  # bilinear blend of the four neighbours
            top = source.take(row0 + col0)
            top += (source.take(row0 + col1) - top) * wx
            bottom = source.take(row1 + col0)
            bottom += (source.take(row1 + col1) - bottom) * wx
            top += (bottom - top) * wy
            out[:, c] = top
        return out


def _number(config: dict, key: str, most: float, unit: str) -> float:
    value = config.get(key, 0.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0 <= value <= most:
        raise DatasetError(f"augment: {key} must be a number {unit}from 0 to {most:g}; received {key}={value!r:.40}")
    return float(value)
