"""On-the-fly augmentation: small random shifts and rotations of a batch, drawn from a given generator.

    augment = Augmentation(max_shift=2, max_rotation=10)
    xb = augment(xb, np.random.default_rng(0))     # (N, C, H, W) float32 in, new array out

Every image gets its own whole-pixel shift in [-max_shift, max_shift] (both axes) and its own
rotation angle in [-max_rotation, max_rotation] degrees about its centre, resampled bilinearly;
pixels that come from outside the image take ``fill`` (black).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from engine.datasets.errors import DatasetError


@dataclass(frozen=True)
class Augmentation:
    max_shift: int = 2  # pixels
    max_rotation: float = 10.0  # degrees
    fill: float | tuple[float, ...] = 0.0  # per channel, in the images' own (normalised) units

    def __post_init__(self) -> None:
        if int(self.max_shift) != self.max_shift or self.max_shift < 0:
            raise DatasetError(f"Augmentation: expected a whole max_shift >= 0; received max_shift={self.max_shift}")
        if not 0 <= self.max_rotation <= 180:
            raise DatasetError(f"Augmentation: expected 0 <= max_rotation <= 180 degrees; "
                               f"received max_rotation={self.max_rotation}")
        fill = np.atleast_1d(np.asarray(self.fill, dtype=np.float32))
        object.__setattr__(self, "fill", float(fill[0]) if fill.size == 1 else tuple(float(v) for v in fill))

    def with_fill(self, fill) -> Augmentation:
        return replace(self, fill=tuple(np.atleast_1d(np.asarray(fill, dtype=np.float32)).tolist()))

    def get_config(self) -> dict:
        return {"max_shift": int(self.max_shift), "max_rotation": float(self.max_rotation), "fill": self.fill}

    def __call__(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if images.ndim != 4:
            raise DatasetError(f"Augmentation: expected images of shape (N, C, H, W); received {images.shape}")
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
