"""LayerLab's main window: palette left, canvas centre, inspector right, training panels below.

It only wires the docks together and owns the menus; each dock is its own module.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QWidget

import engine
from app.application import app_icon
from app.canvas_view import DEFAULT_HINT, CanvasView
from app.inspector_dock import InspectorDock
from app.network_file import NetworkFile, NetworkFileError, read_network
from app.palette_dock import PaletteDock
from app.training_dock import TrainingDock
from app.version import package_version

APP_NAME = "LayerLab"
SAVE_PENDING_TIP = "Saving arrives with project files (issue 6)"
NETWORK_FILE_FILTER = "LayerLab networks (*.json);;All files (*)"


def about_text() -> str:
    backend = engine.backend.backend_name()
    return (
        f"<h3>LayerLab {package_version()}</h3>"
        "<p>A desktop workbench for neural networks: assemble layers on a canvas, train on your own "
        "machine (CPU through NumPy, NVIDIA GPU through CuPy) and watch it learn.</p>"
        f"<p>Engine backend: {backend}.</p>"
        "<p>LayerLab is MIT licensed. It is built on Qt for Python (PySide6, LGPLv3), pyqtgraph (MIT) "
        "and NumPy (BSD). The MNIST handwritten digits, by Yann LeCun, Corinna Cortes and "
        "Christopher J. C. Burges, are licensed CC BY-SA 3.0.</p>"
    )


class MainWindow(QMainWindow):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.setWindowIcon(app_icon())
        self.network: NetworkFile | None = None

        self.canvas = CanvasView(self)
        self.setCentralWidget(self.canvas)
        self.palette_dock = PaletteDock(self)
        self.inspector_dock = InspectorDock(self)
        self.training_dock = TrainingDock(self)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.palette_dock)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.inspector_dock)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.training_dock)
        # Side docks run full height; the training panels sit under the canvas only.
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.palette_dock.layer_type_selected.connect(self.inspector_dock.show_layer_type)

        self._create_menus()
        self.backend_label = QLabel(f"Backend: {engine.backend.backend_name()}")
        self.statusBar().addPermanentWidget(self.backend_label)

        self.resize(1280, 800)
        self._docks_sized = False
        self.new_network()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._docks_sized:
            # Sized at first show, for the size the window really has: a small window keeps the canvas usable.
            self._docks_sized = True
            width, height = self.width(), self.height()
            self.resizeDocks(
                [self.palette_dock, self.inspector_dock],
                [min(260, width // 5), min(280, width // 5)],
                Qt.Orientation.Horizontal,
            )
            self.resizeDocks([self.training_dock], [min(240, height * 3 // 10)], Qt.Orientation.Vertical)

    def docks(self):
        return [self.palette_dock, self.inspector_dock, self.training_dock]

    def _create_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.setToolTipsVisible(True)
        self.new_action = self._action("&New", QKeySequence.StandardKey.New, self.new_network)
        self.open_action = self._action("&Open…", QKeySequence.StandardKey.Open, self.choose_network_to_open)
        self.save_action = self._action("&Save", QKeySequence.StandardKey.Save)
        self.save_action.setEnabled(False)
        self.save_action.setToolTip(SAVE_PENDING_TIP)
        self.save_action.setStatusTip(SAVE_PENDING_TIP)
        # QKeySequence.Quit is empty on Windows; Ctrl+Q is what people expect everywhere.
        self.quit_action = self._action("&Quit", QKeySequence("Ctrl+Q"), self.close)
        file_menu.addActions([self.new_action, self.open_action, self.save_action])
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        view_menu = self.menuBar().addMenu("&View")
        view_menu.addActions([dock.toggleViewAction() for dock in self.docks()])
        view_menu.addSeparator()
        view_menu.addActions([
            self._action("Zoom &In", QKeySequence.StandardKey.ZoomIn, lambda: self.canvas.zoom_by(1.25)),
            self._action("Zoom &Out", QKeySequence.StandardKey.ZoomOut, lambda: self.canvas.zoom_by(0.8)),
            self._action("&Reset Zoom", QKeySequence("Ctrl+0"), self.canvas.reset_view),
        ])

        help_menu = self.menuBar().addMenu("&Help")
        self.about_action = self._action("&About LayerLab", None, self.show_about)
        help_menu.addAction(self.about_action)

    def _action(self, text, shortcut, slot=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        if slot is not None:
            action.triggered.connect(slot)
        return action

    def new_network(self) -> None:
        """Back to a fresh window: nothing open, no search, nothing selected, canvas at 100 %."""
        self.network = None
        self.palette_dock.reset()
        self.inspector_dock.show_layer_type(None)
        self.canvas.set_hint(DEFAULT_HINT)
        self.canvas.reset_view()
        self.setWindowTitle(APP_NAME)
        self.statusBar().showMessage("Ready")

    def choose_network_to_open(self) -> None:
        start = str(self.network.path.parent) if self.network else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open network", start, NETWORK_FILE_FILTER)
        if path:
            self.open_network(path)

    def open_network(self, path: str | Path) -> bool:
        """Open a network file; on a bad file, say which file and what is wrong, and keep the current state."""
        try:
            network = read_network(path)
        except NetworkFileError as error:
            QMessageBox.warning(self, "Cannot open network", str(error))
            return False
        self.show_network(network)
        return True

    def show_network(self, network: NetworkFile) -> None:
        self.new_network()
        self.network = network
        layers = network.layer_types
        self.canvas.set_hint(
            f"{network.name}: {len(layers)} layers\n"
            f"{' → '.join(layers)}\n\n"
            "Drawing and editing networks on this canvas arrives with the node editor (issue 6)."
        )
        self.setWindowTitle(f"{network.name} — {APP_NAME}")
        self.statusBar().showMessage(f"Opened {network.path}")

    def show_about(self) -> None:
        QMessageBox.about(self, "About LayerLab", about_text())
