"""Small image folders written by the data-import tests (tests/app/test_data_import*.py), and the dialog
opened from the menu as a person opens it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.app.gui_helpers import choose_from_menu, type_into, wait_until_shown

IMPORT_TIMEOUT_MS = 30_000


def write_png_folder(root: Path, classes: dict[str, int], *, size=(28, 28), colour: bool = False,
                     seed: int = 0) -> Path:
    """``root``/<class>/<n>.png: ``classes[name]`` images each; class k is a white square at a place of its own
    on dark noise; in colour, class k is all one colour (red, green, blue, red, ...) with a little noise."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    height, width = size
    for index, (name, count) in enumerate(classes.items()):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for number in range(count):
            pixels = rng.integers(0, 60, size=(height, width, 3), dtype=np.uint8)
            top, left = (3 * index) % (height - 6), (5 * index) % (width - 6)
            colour_of_class = np.array([(255, 40, 40), (40, 220, 40), (40, 80, 255)][index % 3], np.uint8)
            if colour:  # the whole picture in the class's colour: its preview cell shows it anywhere
                pixels = np.clip(pixels.astype(int) // 3 + colour_of_class, 0, 255).astype(np.uint8)
            else:
                pixels[top:top + 6, left:left + 6] = 255
            picture = Image.fromarray(pixels, "RGB") if colour else Image.fromarray(pixels[..., 0], "L")
            picture.save(folder / f"{number:04d}.png")
    return root


def write_corrupt_png(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n this is not the rest of a PNG")
    return path


def open_import_dialog(window):
    """Data set > Import… through the menu bar: the dialog, shown."""
    choose_from_menu(window, "Data set", "Import…")
    dialog = window.data_set_menu.import_dialog
    wait_until_shown(dialog)
    return dialog


def type_name(dialog, name: str) -> None:
    """Click into the name field, select what it holds and type ``name`` (no Enter: that would click Import)."""
    QTest.mouseClick(dialog.name, Qt.MouseButton.LeftButton)
    QTest.keyClick(dialog.name, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(dialog.name, name)


def import_into_preview(qtbot, dialog, path: Path) -> None:
    """Type ``path`` into the source field, press Enter and wait for the preview (or the error)."""
    type_into(dialog.path, str(path))
    qtbot.waitUntil(lambda: not dialog.jobs.busy, timeout=IMPORT_TIMEOUT_MS)
