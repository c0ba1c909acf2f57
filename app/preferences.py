"""What LayerLab remembers between sessions, in QSettings: the window's size, the data set last trained on,
and whether the first-run guide has been shown. (Recent files: ``app.recent_files``; each workspace's dock
layout: ``app.workspaces``, in the same settings.)

    preferences = Preferences()                 # the user's settings (QSettings' default location)
    preferences.restore_window(window)          # False on a first launch: keep the default size
    preferences.save_window(window)             # from closeEvent

Commands that open a window only to render it (``layerlab screenshot``, ``--smoke-test``) call
``use_scratch_settings()`` first, so they neither read nor change what the person's own sessions keep.

QSettings reads its file as soon as it is made, and would block forever on a FIFO in its place (or read a
symlink to ``/dev/zero`` until memory runs out), so the window calls ``check_settings_files()`` before
anything makes one: a settings file that is not a regular file, or is absurdly large, is left untouched and
the session runs on scratch settings, with a message that says so.
"""

from __future__ import annotations

import atexit
import tempfile
from pathlib import Path

from PySide6.QtCore import QByteArray, QCoreApplication, QSettings
from PySide6.QtWidgets import QMainWindow

import engine
from app.window_geometry import fit_window_to_screen

GEOMETRY_KEY = "window/geometry"
LAST_DATASET_KEY = "training/last_dataset"
GUIDE_SHOWN_KEY = "first_run/guide_shown"
THEME_KEY = "view/theme"
# The look the person chose in View > Theme (app/theme.py applies it); the first is the default.
THEME_CHOICES = ("system", "light", "dark")
# LayerLab's settings are a few kilobytes (window geometry, a dock layout, eight paths); far more is not ours.
MAX_SETTINGS_BYTES = 16 * 1024 * 1024
# An organisation name no settings are kept under: a QSettings made for it reads no one's file, and its
# fileName() shows where QSettings keeps user settings for the current format and path.
PROBE_ORGANIZATION = "LayerLab settings location probe"


class Preferences:
    def __init__(self, settings: QSettings | None = None):
        self.settings = settings if settings is not None else QSettings()

    # -- the window ---------------------------------------------------------------------------------------

    def save_window(self, window: QMainWindow) -> None:
        self.settings.setValue(GEOMETRY_KEY, window.saveGeometry())
        self.settings.sync()

    def restore_window(self, window: QMainWindow) -> bool:
        """Give ``window`` its last size and position, kept on the screen it opens on (saved on a bigger screen,
        it shrinks to this one's free area); False when none was saved or it is unreadable."""
        geometry = self._bytes(GEOMETRY_KEY)
        if geometry is None or not window.restoreGeometry(geometry):
            return False
        fit_window_to_screen(window)
        return True

    def _bytes(self, key: str) -> QByteArray | None:
        value = self.settings.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    # -- the data set -------------------------------------------------------------------------------------

    @property
    def last_dataset(self) -> str | None:
        value = self.settings.value(LAST_DATASET_KEY)
        return value if isinstance(value, str) and value else None

    @last_dataset.setter
    def last_dataset(self, name: str | None) -> None:
        if name:
            self.settings.setValue(LAST_DATASET_KEY, name)
        else:
            self.settings.remove(LAST_DATASET_KEY)
        self.settings.sync()

    # -- the first-run guide ------------------------------------------------------------------------------

    @property
    def guide_shown(self) -> bool:
        return self.settings.value(GUIDE_SHOWN_KEY, False, type=bool)

    def mark_guide_shown(self) -> None:
        self.settings.setValue(GUIDE_SHOWN_KEY, True)
        self.settings.sync()

    # -- the theme ----------------------------------------------------------------------------------------

    @property
    def theme(self) -> str:
        """The View > Theme choice: "system", "light" or "dark"; anything else stored (an older or hand-edited
        file) reads as "system"."""
        value = self.settings.value(THEME_KEY)
        return value if value in THEME_CHOICES else THEME_CHOICES[0]

    @theme.setter
    def theme(self, choice: str) -> None:
        if choice not in THEME_CHOICES:
            raise ValueError(f"unknown theme {choice!r}: expected one of {', '.join(THEME_CHOICES)}")
        self.settings.setValue(THEME_KEY, choice)
        self.settings.sync()


def use_scratch_settings() -> str:
    """Send every later ``QSettings()`` in this process to a new, empty temporary folder (removed at exit).

    Returns the folder. Must run before the first ``QSettings()`` is made, i.e. before the main window.
    """
    folder = tempfile.TemporaryDirectory(prefix="layerlab-settings-")
    atexit.register(folder.cleanup)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, folder.name)
    return folder.name


def settings_files() -> list[Path]:
    """The user-scope files a plain ``QSettings()`` would read (the application's, then its organisation's),
    found without reading them."""
    settings_format = QSettings.defaultFormat()
    probe = QSettings(settings_format, QSettings.Scope.UserScope, PROBE_ORGANIZATION, "probe")
    probe_file = Path(probe.fileName())
    folder, extension = probe_file.parent.parent, probe_file.suffix
    organization = QCoreApplication.organizationName() or "Unknown Organization"  # Qt's own stand-in
    application = QCoreApplication.applicationName()
    files = [folder / organization / f"{application}{extension}"] if application else []
    return files + [folder / f"{organization}{extension}"]


def check_settings_files() -> str | None:
    """Before any ``QSettings()`` is made: if a settings file is not a regular file or is absurdly large, use
    scratch settings for this session (the file is left as it is). Returns the message that says so, else None.
    """
    for path in settings_files():
        try:
            exists = path.exists()
        except OSError:
            exists = True  # a symbolic link that loops, a name the system refuses: check_regular_file words it
        if not exists and not path.is_symlink():
            continue
        try:
            engine.user_files.check_regular_file(path, max_bytes=MAX_SETTINGS_BYTES)
        except engine.UserFileError as error:
            use_scratch_settings()
            return (f"Settings not read: {error}. LayerLab started with default settings, and changes made "
                    f"in this session are not kept.")
    return None
