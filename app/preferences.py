"""What LayerLab remembers between sessions, in QSettings: the window's size and dock layout, the data set
last trained on, and whether the first-run guide has been shown. (Recent files: ``app.recent_files``.)

    preferences = Preferences()                 # the user's settings (QSettings' default location)
    preferences.restore_window(window)          # False on a first launch: keep the default layout
    preferences.save_window(window)             # from closeEvent

Commands that open a window only to render it (``layerlab screenshot``, ``--smoke-test``) call
``use_scratch_settings()`` first, so they neither read nor change what the person's own sessions keep.
"""

from __future__ import annotations

import atexit
import tempfile

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

GEOMETRY_KEY = "window/geometry"
DOCK_LAYOUT_KEY = "window/dock_layout"
LAST_DATASET_KEY = "training/last_dataset"
GUIDE_SHOWN_KEY = "first_run/guide_shown"
# Bump when docks are added, renamed or moved: Qt then refuses a layout saved by an older version, and the
# window opens with its default layout instead of a half-matching one.
DOCK_LAYOUT_VERSION = 2


class Preferences:
    def __init__(self, settings: QSettings | None = None):
        self.settings = settings if settings is not None else QSettings()

    # -- the window ---------------------------------------------------------------------------------------

    def save_window(self, window: QMainWindow) -> None:
        self.settings.setValue(GEOMETRY_KEY, window.saveGeometry())
        self.settings.setValue(DOCK_LAYOUT_KEY, window.saveState(DOCK_LAYOUT_VERSION))
        self.settings.sync()

    def restore_window(self, window: QMainWindow) -> bool:
        """Give ``window`` its last size, position and dock layout; False when none was saved (or it is
        unreadable, or from another layout version), leaving the window as it was."""
        geometry, layout = self._bytes(GEOMETRY_KEY), self._bytes(DOCK_LAYOUT_KEY)
        if geometry is None or layout is None:
            return False
        return window.restoreGeometry(geometry) and window.restoreState(layout, DOCK_LAYOUT_VERSION)

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


def use_scratch_settings() -> str:
    """Send every later ``QSettings()`` in this process to a new, empty temporary folder (removed at exit).

    Returns the folder. Must run before the first ``QSettings()`` is made, i.e. before the main window.
    """
    folder = tempfile.TemporaryDirectory(prefix="layerlab-settings-")
    atexit.register(folder.cleanup)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, folder.name)
    return folder.name
