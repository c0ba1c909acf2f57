"""Process-wide Qt setup shared by the main window and the screenshot command."""

from __future__ import annotations

import sys

import pyqtgraph
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

import resources
from app.gui_thread_gc import install_gui_thread_gc
from app.refcount_guard import protect_singletons
from app.version import package_version

ICON_RESOURCE = "icons/layerlab.svg"
# Matches packaging/layerlab.desktop, so desktops (Wayland especially) pair windows with its icon.
DESKTOP_FILE_NAME = "layerlab"


def app_icon() -> QIcon:
    """The icon in each size packaging/make_icons.py rendered (crisp, and shown even where Qt's SVG plugin is
    missing), plus the SVG for any other size."""
    icon = QIcon()
    for png in sorted(resources.path("icons").glob("layerlab-*.png")):
        icon.addFile(str(png))
    icon.addFile(str(resources.path(ICON_RESOURCE)))
    return icon


def create_application() -> QApplication:
    """The QApplication, named and iconed; reuses one that already exists (tests create their own)."""
    # Every signal and slot leaks a reference to True/None under PySide6 6.12 on Python 3.11 (see
    # app/refcount_guard.py); the designer emits several per edit, so guard from the start, not only
    # once live plots begin.
    protect_singletons()
    qt_app = QApplication.instance() or QApplication([sys.argv[0]])
    qt_app.setApplicationName("LayerLab")
    qt_app.setOrganizationName("LayerLab")
    qt_app.setApplicationVersion(package_version())
    qt_app.setDesktopFileName(DESKTOP_FILE_NAME)
    qt_app.setWindowIcon(app_icon())
    pyqtgraph.setConfigOptions(antialias=True)
    install_gui_thread_gc(qt_app)  # a collection on a worker thread can deadlock PySide6 (app/gui_thread_gc.py)
    return qt_app
