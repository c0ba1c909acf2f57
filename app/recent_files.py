"""The recently opened project files, newest first, kept in QSettings (File > Open Recent)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

SETTINGS_KEY = "recent_files"
LIMIT = 8


class RecentFiles:
    def __init__(self, settings: QSettings | None = None):
        self.settings = settings if settings is not None else QSettings()

    def paths(self) -> list[Path]:
        """The list kept in the settings; a setting of any other type (edited by hand, written by another
        program: a number, a map, a list of numbers) reads as no recent files, never as an error."""
        value = self.settings.value(SETTINGS_KEY, [])
        if isinstance(value, str):  # INI settings hand back a one-item list as a plain string
            value = [value]
        if not isinstance(value, (list, tuple)):
            return []
        return [Path(item) for item in value if isinstance(item, str) and item and "\0" not in item][:LIMIT]

    def add(self, path) -> None:
        path = Path(path).absolute()
        paths = [path] + [p for p in self.paths() if p != path]
        self._store(paths[:LIMIT])

    def remove(self, path) -> None:
        self._store([p for p in self.paths() if p != Path(path).absolute()])

    def clear(self) -> None:
        self._store([])

    def _store(self, paths: list[Path]) -> None:
        self.settings.setValue(SETTINGS_KEY, [str(p) for p in paths])
        self.settings.sync()
