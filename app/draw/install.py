"""Installing the Draw panel into a main window, wired to the training dashboard.

    panel = install_draw_panel(window, dashboard, below=window.palette_dock)
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

from app.draw.network_choice import choose_pad_network
from app.draw.panel import DrawPanel
from app.pen_down import PenDownPolicy
from app.run_state import ActiveRun


def install_draw_panel(window: QMainWindow, dashboard=None, below: QDockWidget | None = None,
                       document=None, reveal_dashboard: Callable[[], None] | None = None) -> DrawPanel:
    """Add a "Draw" dock to ``window``, under the dock ``below`` (default: the inspector, when there is
    one) and, with a dashboard, send the drawn digit to its activations view, follow its run's weight
    snapshots, and wire the pen-down policy (app/pen_down.py). With the ``document`` the canvas edits, the
    pad reads with the design on the canvas: a run's weights only when that run trained this design
    (``network_choice``). ``reveal_dashboard`` shows the dashboard's dock where the window may hide it (the
    main window's Train workspace), for the pad's Layers button.

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
        # The project (File > Open) is made after the docks: its imported weights are looked up when read.
        _wire_dashboard(panel, dashboard, document, reveal_dashboard,
                        imported=lambda: getattr(getattr(window, "project", None), "imported_model", None))
    return panel


def _wire_dashboard(panel: DrawPanel, dashboard, document=None,
                    reveal_dashboard: Callable[[], None] | None = None,
                    imported: Callable[[], object] = lambda: None) -> None:
    controller = dashboard.controller
    # Which network the pad reads now: ("run", number, step), ("imported", its weights' id), ("bundled",) or
    # ("none", why). A new panel reads the bundled model already.
    shown = {"key": ("bundled",) if panel.reads_bundled_model else None}

    def read_with_design(snapshot=None) -> None:
        """Follow the design on the canvas: a run's weights when it trained this design, else the bundled
        model while the design reads drawings (loaded once, not at every edit), else drawing is off."""
        run = controller.run
        model = imported()
        choice = choose_pad_network(document.spec(), document.report, run, model)
        if choice.source == "imported":
            key = ("imported", id(model.weights))
            if key != shown["key"]:
                panel.use_weights(model.spec, model.weights, caption=choice.caption)
        elif choice.source == "run":
            snapshot = snapshot or run.latest_snapshot
            key = ("run", run.number, snapshot.step)
            if key != shown["key"]:  # an edit that leaves the design as it was loads nothing
                panel.use_weights(run.spec, snapshot.weights, run.data.class_names, caption=choice.caption)
        elif choice.source == "bundled":
            key = ("bundled",)
            if key == shown["key"] and panel.reads_bundled_model:
                panel.note.setText(choice.caption)
            else:
                panel.use_bundled_model(choice.caption)
        else:
            key = ("none", choice.caption)
            report = document.report
            panel.disable(choice.caption, report.input_node.output_shape if report.input_node else None)
        shown["key"] = key

    def follow_snapshot(snapshot) -> None:
        run = controller.run
        if document is not None:
            read_with_design(snapshot)
        elif run is not None:
            panel.use_weights(run.spec, snapshot.weights, run.data.class_names)

    if document is not None:
        document.analysis_changed.connect(lambda _report: read_with_design())
        read_with_design()

    def show_layers(digit) -> None:
        activations = getattr(dashboard, "activations", None)
        run = controller.run
        pad_reads_run = run is not None and run.latest_snapshot is not None and panel.spec is run.spec
        if activations is not None and panel.spec is not None:
            # The layers of the network reading the drawing: the run's, or (no run yet, or a design the run
            # did not train) the bundled model's.
            on_view = activations.run
            if pad_reads_run:
                if on_view is not run:
                    activations.begin_run(run)
            elif on_view is None or not on_view.is_model or on_view.latest_snapshot.weights is not panel.weights:
                activations.begin_run(ActiveRun.of_model(panel.spec, panel.weights, panel.class_names,
                                                         panel.model_name))
        dashboard.show_example(digit)
        views = getattr(dashboard, "views", None)
        if views is not None and activations is not None:
            if reveal_dashboard is not None:
                reveal_dashboard()
            views.setCurrentWidget(activations)
            for dock in getattr(dashboard, "docks", ()):
                dock.raise_()

    # Snapshots reach the pad through the pen-down policy: one arriving mid-stroke waits for the pen to lift
    # (network_loaded makes the panel read again, work the stroke's next readings would wait behind).
    panel.pen_down_policy = PenDownPolicy(panel, dashboard, follow_snapshot)
    panel.activations_requested.connect(show_layers)

