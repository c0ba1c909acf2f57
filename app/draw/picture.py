"""Image files for the Draw panel (NumPy and Pillow only, no Qt). For a colour model, a picture (a file or a
pasted image) resized to what the network reads, plus a larger copy for people to look at; for a grey one,
a file as ink on the pad.

    picture = picture_from_file("cat.jpg", (3, 32, 32))        # engine.UserFileError names a bad file
    picture = picture_from_rgb(rgb_uint8, (3, 32, 32), "the pasted image")
    picture.pixels   # (3, 32, 32) float32 in [0, 1], read by the network as it is (no digit preprocessing)
    picture.display  # (h, w, 3) uint8, at most DISPLAY_SIDE pixels a side, shown on the pad
    ink = ink_from_file("seven.png")                            # a grey model's pad: (h, w) uint8 white ink

Files are data: ``engine.user_files.read_image`` reads a regular file only, bounded, and decodes it only as
PNG, JPEG, BMP, GIF, TIFF or WebP (whatever its name says); anything else is refused with the file named.
The resizing is the CLI's (app/commands/image_input.py): turned upright by its EXIF tag, transparency laid on
white, RGB, bilinear to H x W, no aspect kept, so `layerlab predict` and the panel read a file alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

import engine

DISPLAY_SIDE = 512  # the pad is a few hundred pixels wide: a 24-megapixel photo is kept at this size


@dataclass(frozen=True)
class ModelPicture:
    name: str  # the file's name, or "the pasted image"
    pixels: np.ndarray  # (C, H, W) float32 in [0, 1]: what the network reads
    display: np.ndarray  # (h, w, 3) uint8: what the pad shows


def picture_from_file(path, shape: tuple) -> ModelPicture:
    """The image file at ``path`` as the input of a network reading ``shape`` (C, H, W) images."""
    from engine import user_files

    image = user_files.read_image(path, error=engine.UserFileError)
    with user_files.reading(path, error=engine.UserFileError, what="cannot be shown as a colour image"):
        return _picture(image, shape, Path(path).name)


def ink_from_file(path) -> np.ndarray:
    """The image file at ``path`` as a grey model's pad ink: (h, w) uint8, inverted when mostly light (a digit
    written on paper), for the pad's Load…; engine.UserFileError names a refused file."""
    from engine import user_files

    image = user_files.read_image(path, error=engine.UserFileError)
    with user_files.reading(path, error=engine.UserFileError, what="cannot be shown as a grey image"):
        grey = np.asarray(image.convert("L"), dtype=np.uint8)
    return 255 - grey if grey.mean() > 127 else grey


def picture_from_rgb(rgb: np.ndarray, shape: tuple, name: str = "the pasted image") -> ModelPicture:
    """An (h, w, 3) uint8 RGB array (e.g. an image from the clipboard) as the input of a ``shape`` network."""
    from PIL import Image

    return _picture(Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB"), shape, name)


def _picture(image, shape: tuple, name: str) -> ModelPicture:
    from PIL import Image, ImageOps

    channels, height, width = (int(size) for size in shape)
    image = ImageOps.exif_transpose(image)  # phone photos are often stored sideways
    image = _on_white(image).convert("RGB" if channels == 3 else "L")
    pixels = np.asarray(image.resize((width, height), Image.Resampling.BILINEAR), dtype=np.float32) / np.float32(255)
    pixels = pixels.transpose(2, 0, 1) if channels == 3 else pixels[None]
    display = image.convert("RGB")
    display.thumbnail((DISPLAY_SIDE, DISPLAY_SIDE), Image.Resampling.BILINEAR)
    return ModelPicture(name, np.ascontiguousarray(pixels), np.asarray(display, dtype=np.uint8))


def _on_white(image):
    """A transparent image laid on white paper, as viewers show it (colours hidden under alpha 0 stay hidden)."""
    from PIL import Image

    if image.mode not in ("RGBA", "LA", "PA") and "transparency" not in image.info:
        return image
    rgba = image.convert("RGBA")
    return Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
