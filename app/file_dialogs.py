"""File dialogs that open in the folder last used in any of them (kept between sessions), not the home
folder every time.

    path = open_file_name(parent, "Open project or network", OPEN_FILTER)            # "" when cancelled
    path, chosen_filter = save_file_name(parent, "Save model", "model.llmodel", MODEL_FILTER)

A ``start`` folder given by the caller (e.g. the open project's own folder) wins over the remembered one.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QWidget

LAST_FOLDER_KEY = "dialogs/last_folder"


def last_folder() -> Path:
    """The folder of the file last opened or saved through these dialogs, while it exists; else home."""
    value = QSettings().value(LAST_FOLDER_KEY)
    if isinstance(value, str) and value:
        folder = Path(value)
        if folder.is_dir():
            return folder
    return Path.home()


def remember_folder(path: str | Path) -> None:
    QSettings().setValue(LAST_FOLDER_KEY, str(Path(path).parent))


def open_file_name(parent: QWidget | None, caption: str, file_filter: str, start: Path | None = None) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, caption, str(start or last_folder()), file_filter)
    if path:
        remember_folder(path)
    return path


def save_file_name(parent: QWidget | None, caption: str, suggested_name: str, file_filter: str,
                   start: Path | None = None) -> tuple[str, str]:
    """(path, the filter chosen); the dialog offers ``suggested_name`` in the start folder."""
    path, chosen = QFileDialog.getSaveFileName(parent, caption, str((start or last_folder()) / suggested_name),
                                               file_filter)
    if path:
        remember_folder(path)
    return path, chosen
