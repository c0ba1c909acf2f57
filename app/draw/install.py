"""Installing the Draw panel into a main window, wired to the training dashboard.

    panel = install_draw_panel(window, dashboard)
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea

from app.draw.panel import DrawPanel


def install_draw_panel(window: QMainWindow, dashboard=None, below: QDockWidget | None = None) -> DrawPanel:
    """Add a "Draw" dock to ``window``, under the dock ``below`` (default: the inspector, when there is
    one) and, with a dashboard, send the drawn digit to its activations view and follow its run's weight
    snapshots.

    Split below another dock rather than tabified with it: tabifying a second group of docks leaves a
    stray duplicate tab bar in PySide6 6.12's QMainWindow.
    """
    panel = DrawPanel()
    dock = QDockWidget("Draw", window)
    dock.setObjectName("DrawDock")
    # Scrollable, so the pad, preview and buttons never set a minimum size for the whole window.
    scroller = QScrollArea()
    scroller.setWidgetResizable(True)
    scroller.setFrameShape(QFrame.Shape.NoFrame)
    scroller.setWidget(panel)
    dock.setWidget(scroller)
    below = below if below is not None else getattr(window, "inspector_dock", None)
    if isinstance(below, QDockWidget):
        window.addDockWidget(window.dockWidgetArea(below), dock)
        window.splitDockWidget(below, dock, Qt.Orientation.Vertical)
    else:
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
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
