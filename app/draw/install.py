"""Installing the Draw panel into a main window, wired to the training dashboard.

    panel = install_draw_panel(window, dashboard)
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

from app.draw.panel import DrawPanel


def install_draw_panel(window: QMainWindow, dashboard=None) -> DrawPanel:
    """Add a "Draw" dock on the right of ``window`` (below the inspector when there is one) and, with a
    dashboard, send the drawn digit to its activations view and follow its run's weight snapshots.

    Split below the inspector rather than tabified with it: tabifying a second group of docks leaves a
    stray duplicate tab bar in PySide6 6.12's QMainWindow.
    """
    panel = DrawPanel()
    dock = QDockWidget("Draw", window)
    dock.setObjectName("DrawDock")
    dock.setWidget(panel)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    inspector = getattr(window, "inspector_dock", None)
    if isinstance(inspector, QDockWidget):
        window.splitDockWidget(inspector, dock, Qt.Orientation.Vertical)
    panel.dock = dock
    if dashboard is not None:
        panel.activations_requested.connect(dashboard.show_example)
        controller = dashboard.controller

        def follow_snapshot(snapshot) -> None:
            run = controller.run
            if run is not None:
                panel.use_weights(run.spec, snapshot.weights, run.data.class_names)

        controller.snapshot_arrived.connect(follow_snapshot)
    return panel
