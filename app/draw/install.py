"""Installing the Draw panel into a main window, wired to the training dashboard.

    panel = install_draw_panel(window, dashboard, below=window.palette_dock)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

import engine
from app.dashboard.run_controller import ActiveRun
from app.dashboard.run_data import RunData
from app.draw.panel import DrawPanel


def install_draw_panel(window: QMainWindow, dashboard=None, below: QDockWidget | None = None) -> DrawPanel:
    """Add a "Draw" dock to ``window``, under the dock ``below`` (default: the inspector, when there is
    one) and, with a dashboard, send the drawn digit to its activations view and follow its run's weight
    snapshots.

    No scroll area around the panel: at the default 1280x800 it fits its dock, and a pad that scrolls
    would move under the pen. Split below another dock rather than tabified with it: tabifying a second
    group of docks leaves a stray duplicate tab bar in PySide6 6.12's QMainWindow.
    """
    panel = DrawPanel()
    dock = QDockWidget("Draw", window)
    dock.setObjectName("DrawDock")
    dock.setWidget(panel)
    below = below if below is not None else getattr(window, "inspector_dock", None)
    if isinstance(below, QDockWidget):
        window.addDockWidget(window.dockWidgetArea(below), dock)
        window.splitDockWidget(below, dock, Qt.Orientation.Vertical)
    else:
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    panel.dock = dock
    if dashboard is not None:
        _wire_dashboard(panel, dashboard)
    return panel


def _wire_dashboard(panel: DrawPanel, dashboard) -> None:
    controller = dashboard.controller
    # While the pen is down a new snapshot waits for it to lift: new weights mid-stroke cost the reader a
    # swap (~2.5 ms) and a second reading of a drawing the pen has already changed (network_loaded makes
    # the panel read again), work that the stroke's next readings would wait behind. Before the reader took
    # networks in on a thread of its own, readings that waited for a snapshot's 13 MB were the slowest 2-3%.
    held = {"pen_down": False, "snapshot": None}

    def follow_snapshot(snapshot) -> None:
        if held["pen_down"]:
            held["snapshot"] = snapshot
            return
        run = controller.run
        if run is not None:
            panel.use_weights(run.spec, snapshot.weights, run.data.class_names)

    def pen_down_changed(pen_down: bool) -> None:
        held["pen_down"] = pen_down
        if not pen_down and held["snapshot"] is not None:
            snapshot, held["snapshot"] = held["snapshot"], None
            follow_snapshot(snapshot)

    def show_layers(digit) -> None:
        activations = getattr(dashboard, "activations", None)
        if activations is not None and controller.run is None and panel.spec is not None:
            # No run yet: show the layers of the network reading the drawing (the bundled model).
            shown = activations.run
            if shown is None or shown.number != 0 or shown.latest_snapshot.weights is not panel.weights:
                activations.begin_run(model_as_run(panel.spec, panel.weights, panel.class_names, panel.model_name))
        dashboard.show_example(digit)
        views = getattr(dashboard, "views", None)
        if views is not None and activations is not None:
            views.setCurrentWidget(activations)
            for dock in getattr(dashboard, "docks", ()):
                dock.raise_()

    controller.snapshot_arrived.connect(follow_snapshot)
    panel.pen_down_changed.connect(pen_down_changed)
    panel.activations_requested.connect(show_layers)


def model_as_run(spec: dict, weights: dict, class_names, name: str) -> ActiveRun:
    """A network that is not training (the draw panel's), in the shape of a run the dashboard's views read:
    its spec, a NumPy copy for its structure, its weights as the latest snapshot, no data of its own.
    Its number is 0 (runs count from 1), which the activations view reads as "not a run"."""
    network = engine.Network(spec, xp=np)
    input_shape = tuple(network.input_shape)
    data = RunData(name="drawings", training=None, test_images=np.zeros((0, *input_shape), dtype=np.float32),
                   test_labels=np.zeros(0, dtype=np.int64), class_names=tuple(class_names), is_toy=False)
    snapshot = engine.training.SnapshotEvent(step=0, epoch=0, weights=weights)
    return ActiveRun(number=0, name=name, spec=spec, settings=None, data=data, inference_network=network,
                     total_steps=0, checkpoint_dir=Path(), latest_snapshot=snapshot)
