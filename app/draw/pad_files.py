"""The Draw pad's files: an image file loaded onto the pad to be read, and the drawing saved as a PNG.

    load_ink(pad, path)            # engine.UserFileError naming the file; the pad keeps what it had
    choose_image(panel, pad)       # Load…: a file dialog, and a message box for a file that cannot be read
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox

import engine
from app.draw.picture import ink_from_file
from app.file_dialogs import open_file_name, save_file_name


def load_ink(pad, path) -> None:
    """Put the image file at ``path`` on ``pad`` instead of a drawing (dark ink on light paper is inverted), read
    safely (app/draw/picture.py). A refusal is an ``engine.UserFileError`` naming the file; the pad keeps what
    it had."""
    pad.set_background(ink_from_file(path))


def save_png(pad, path) -> None:
    if not pad.canvas.save(str(path), "PNG"):
        raise OSError(f"{Path(path).name}: could not be written")


def choose_image(parent, pad) -> None:
    path = open_file_name(parent, "Load an image to classify", "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp)")
    if path:
        try:
            load_ink(pad, path)
        except engine.UserFileError as exc:
            QMessageBox.warning(parent, "Load image", f"Could not load the image {exc}")


def choose_save_path(parent, pad) -> None:
    path, _ = save_file_name(parent, "Save the drawing", "drawing.png", "PNG images (*.png)")
    if path:
        try:
            save_png(pad, path)
        except OSError as exc:
            QMessageBox.warning(parent, "Save PNG", str(exc))
