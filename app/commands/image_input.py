"""Reading an image file (PNG, JPEG, ...) into one model input: (C, H, W) float32 in [0, 1].

Images are data, never code: ``engine.user_files.read_image`` reads the file (a regular file, bounded,
never a FIFO or a device) and lets Pillow decode it only as PNG, JPEG, BMP, GIF, TIFF or WebP, so EPS content
under any name never starts Ghostscript; any file it cannot decode fully is refused with the file named.
MNIST-style models read white ink on black; a one-channel image that is mostly light (dark ink on paper) is
inverted to match, and the caller is told so.

    image = read_image("seven.png", (1, 28, 28))
    image.pixels.shape, image.inverted                 # (1, 28, 28), True for a scan of black ink
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.commands.command_error import CommandError

# Above this mean brightness (0 black, 1 white) the background is taken to be light paper.
LIGHT_BACKGROUND_MEAN = 0.5


@dataclass(frozen=True)
class ModelImage:
    path: str
    pixels: np.ndarray  # (C, H, W) float32 in [0, 1]
    inverted: bool


def read_image(path: str, input_shape: tuple[int, int, int], invert: str = "auto") -> ModelImage:
    """The image at ``path`` as the model's input: grayscale (1 channel) or RGB (3), resized to H x W."""
    from PIL import Image, ImageOps

    from engine import user_files

    channels, height, width = input_shape
    image = user_files.read_image(path, error=CommandError.for_file)
    # Decoded already; what is left can still meet a malformed EXIF block or palette, which is the file's fault.
    with user_files.reading(path, error=CommandError.for_file, what="the image cannot be decoded"):
        image = ImageOps.exif_transpose(image)  # phone photos are often stored sideways
        image = _flatten_transparency(image)
        image = image.convert("L" if channels == 1 else "RGB")
        image = image.resize((width, height), Image.Resampling.BILINEAR)
        pixels = np.asarray(image, dtype=np.float32) / np.float32(255)

    light = bool(pixels.mean() > LIGHT_BACKGROUND_MEAN)
    inverted = channels == 1 and (invert == "always" or (invert == "auto" and light))
    if inverted:
        pixels = 1 - pixels
    pixels = pixels[None] if channels == 1 else pixels.transpose(2, 0, 1)
    return ModelImage(path, np.ascontiguousarray(pixels), inverted)


def _flatten_transparency(image):
    """Lay a transparent image on white paper, as viewers show it, so hidden colours under alpha 0 don't leak."""
    from PIL import Image

    if image.mode not in ("RGBA", "LA", "PA") and "transparency" not in image.info:
        return image
    rgba = image.convert("RGBA")
    paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(paper, rgba)
