"""Installing the training dashboard into a main window: one Training dock holding the settings and controls
beside the views (curves, filters, activations, histograms, evaluation, reconstructions and codes for an
autoencoder, decision boundary, profile).

    dashboard = install_dashboard(window, get_spec=document.spec, get_dataset_name=lambda: "mnist")
    dashboard.activations.show_example(drawn_digit)
    dashboard.shutdown()        # from the window's closeEvent: stops a run and waits for its thread
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QSplitter, QTabWidget

import engine
from app.dashboard.activations_panel import ActivationsPanel
from app.dashboard.boundary_panel import BoundaryPanel
from app.dashboard.codes_panel import CodesPanel
from app.dashboard.curves_panel import CurvesPanel
from app.dashboard.evaluation_panel import EvaluationPanel
from app.dashboard.filters_panel import FiltersPanel
from app.dashboard.histograms_panel import HistogramsPanel
from app.dashboard.profile_panel import ProfilePanel
from app.dashboard.reconstructions_panel import ReconstructionsPanel
from app.dashboard.redraw_hold import RedrawHold
from app.dashboard.run_controller import RunController
from app.dashboard.training_panel import TrainingPanel
from app.refcount_guard import protect_singletons

TAB_TIPS = {"Boundary": "The decision boundary of a 2-D toy set",
            "Reconstructions": "Test images beside the autoencoder's reconstructions of them",
            "Codes": "The test set's codes on the autoencoder's 2-value bottleneck; click to decode a point"}
# The least room the views ask for beside the training form: a panel's own minimum (a long caption, the
# confusion matrix beside its gallery) must never squeeze the form until Stop is 0 px wide; the panel gets
# less instead.
VIEWS_MIN_SIZE = QSize(240, 200)
# The settings form needs ~310 px (tests/app/test_workspace_fit.py checks it beside the views at 1280 px);
# narrower, it scrolls sideways.
FORM_WIDTH = 340


class ViewTabs(QTabWidget):
    def minimumSizeHint(self) -> QSize:
        return super().minimumSizeHint().boundedTo(VIEWS_MIN_SIZE)


class Dashboard(QObject):
    # The training form's, for the window that keeps them with the project (app/dashboard/training_settings.py).
    settings_edited = Signal(dict)  # a person changed a setting the project keeps
    settings_refused = Signal(list)  # after each load: why each field not shown as the project says was refused

    def __init__(self, get_spec: Callable[[], dict], get_dataset_name: Callable[[], str | None] | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        protect_singletons()  # live plotting would otherwise abort the app under PySide6 6.12 on Python 3.11
        self.controller = RunController(self)
        self.training_panel = TrainingPanel(self.controller, get_spec)
        if get_dataset_name is not None:
            self.training_panel.form.select_dataset(get_dataset_name())
        self.training_panel.form.settings_edited.connect(self.settings_edited)
        self.training_panel.form.settings_refused.connect(self.settings_refused)
        self.curves = CurvesPanel()
        self.filters = FiltersPanel()
        self.activations = ActivationsPanel()
        self.histograms = HistogramsPanel()
        self.evaluation = EvaluationPanel(self.controller.tasks)
        self.boundary = BoundaryPanel()
        self.reconstructions = ReconstructionsPanel()
        self.codes = CodesPanel()
        self.profile = ProfilePanel(self.controller.tasks)
        self.docks: tuple[QDockWidget, ...] = ()  # set by install_dashboard
        self.views = ViewTabs()
        self.views.setDocumentMode(True)
        for panel, title in ((self.curves, "Curves"), (self.filters, "Filters"), (self.activations, "Activations"),
                             (self.histograms, "Histograms"), (self.evaluation, "Evaluation"),
                             (self.reconstructions, "Reconstructions"), (self.codes, "Codes"),
                             (self.boundary, "Boundary"), (self.profile, "Profile")):
            self.views.addTab(panel, title)
            self.views.setTabToolTip(self.views.count() - 1, TAB_TIPS.get(title, title))
        # Every tab stays in sight: where the views are narrow the titles shorten ("Activati…"), rather
        # than the last tabs hiding behind scroll arrows.
        self.views.tabBar().setUsesScrollButtons(False)
        self.views.tabBar().setElideMode(Qt.TextElideMode.ElideRight)
        # The autoencoder's tabs show only for a run whose design they apply to (set at each run's start).
        self._tabs_that_may_not_apply = (self.reconstructions, self.codes)
        for panel in self._tabs_that_may_not_apply:
            self.views.setTabVisible(self.views.indexOf(panel), False)
        # Boundary, likewise, only where a 2-D toy set is chosen or its run shows: nine titles do not fit a
        # 1280-pixel window ("Cu…", "C…"), and on MNIST the tab has nothing to draw.
        self.training_panel.form.dataset.currentIndexChanged.connect(lambda _index: self._show_boundary_if_it_applies())
        self._show_boundary_if_it_applies()

        controller = self.controller
        panels = (self.curves, self.filters, self.activations, self.histograms, self.evaluation,
                  self.reconstructions, self.codes, self.boundary, self.profile)
        for panel in panels:
            controller.run_started.connect(panel.begin_run)
        controller.run_started.connect(self._show_tabs_that_apply)  # after the panels have read the run
        # Every snapshot is recorded, but the views that draw it wait while the pen is down on the draw pad.
        controller.snapshot_arrived.connect(self.histograms.record)
        controller.snapshot_arrived.connect(self._snapshot_arrived)
        self._latest_snapshot = None
        self._snapshot_views_hold = RedrawHold(self._refresh_snapshot_views, self)
        controller.steps_reported.connect(self.curves.add_steps)
        controller.epoch_finished.connect(self.curves.add_epoch)
        controller.run_renamed.connect(self.curves.rename_run)
        controller.run_finished.connect(lambda _event: self.curves.end_run(failed=False))
        controller.run_failed.connect(lambda _message: self.curves.end_run(failed=True))
        controller.run_finished.connect(lambda _event: self.evaluation.evaluate_latest())
        self.evaluation.set_run_source(lambda: controller.run)
        self.profile.set_run_source(lambda: controller.run)

    # -- what the window asks of the training form -------------------------------------------------------
    def load_training_settings(self, settings: dict) -> None:
        """Show a project's training settings (not an edit: ``settings_edited`` stays quiet)."""
        self.training_panel.form.load_settings(settings)

    def offers_dataset(self, key: str) -> bool:
        """Whether the form's data set list has ``key``."""
        return self.training_panel.form.dataset.findData(key) >= 0

    def set_start_blocker(self, reason: str | None) -> None:
        """Start stays off, saying ``reason``, while there is one."""
        self.training_panel.set_start_blocker(reason)

    def hold_redraws(self, held: bool) -> None:
        """While held (the pen is down on the draw pad), views record what training sends but repaint only
        when the hold ends (or once a second during a long stroke): a plot's repaint takes the GUI thread
        for 8-20 ms, which the pen's next events would wait for."""
        self.curves.hold_redraws(held)
        self._snapshot_views_hold.set_held(held)

    def _snapshot_arrived(self, event) -> None:
        self._latest_snapshot = event
        self._snapshot_views_hold.request()

    def _refresh_snapshot_views(self) -> None:
        """The views that show the latest snapshot (each one only while its tab shows)."""
        event, self._latest_snapshot = self._latest_snapshot, None  # the run keeps it; no second reference
        for panel in (self.filters, self.activations, self.histograms, self.boundary, self.reconstructions,
                      self.codes):
            panel.refresh(event)

    def _show_tabs_that_apply(self, _run) -> None:
        """Reconstructions and Codes for a run of a design they apply to (``applies``, set by ``begin_run``);
        hidden otherwise, as they would show nothing."""
        if self.views.currentWidget() in self._tabs_that_may_not_apply and not self.views.currentWidget().applies:
            self.views.setCurrentWidget(self.curves)  # rather than the next tab along, which may not apply either
        for panel in self._tabs_that_may_not_apply:
            self.views.setTabVisible(self.views.indexOf(panel), panel.applies)
        self._show_boundary_if_it_applies()

    def _show_boundary_if_it_applies(self) -> None:
        """The Boundary tab while the chosen data set is a 2-D toy set of classes, or the run it shows is on one."""
        key = self.training_panel.form.dataset.currentData() or ""
        toy_name = key.removeprefix("toy:") if key.startswith("toy:") else None
        chosen = toy_name in engine.datasets.TOY_DATASETS and toy_name not in engine.datasets.REGRESSION_TOY_DATASETS
        shown = chosen or self.boundary.run is not None
        if not shown and self.views.currentWidget() is self.boundary:
            self.views.setCurrentWidget(self.curves)
        self.views.setTabVisible(self.views.indexOf(self.boundary), shown)

    def show_example(self, image) -> None:
        """Show every layer's response to ``image`` (e.g. the draw panel's digit) in the Activations tab."""
        self.activations.show_example(image)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Stop the run and wait (bounded) for the training thread and background tasks; True when all ended."""
        ended = self.controller.shutdown(timeout_ms)
        preview_done = self.training_panel.form.augmentation.tasks.wait_for_all(timeout_ms)  # a sample being read
        views_done = all([panel.tasks.wait_for_all(timeout_ms)
                          for panel in (self.activations, self.reconstructions, self.codes)])
        return views_done and preview_done and ended


def install_dashboard(window: QMainWindow, get_spec: Callable[[], dict],
                      get_dataset_name: Callable[[], str | None] | None = None) -> Dashboard:
    """Add one "Training" dock to ``window``: the settings and controls on the left, the views (curves,
    filters, ...) beside them, so what you set and what you watch sit together. (The main window's Train
    workspace gives it the window: app/workspaces.py.)

    One dock rather than two: tabifying a second group of docks leaves a stray duplicate tab bar in
    PySide6 6.12's QMainWindow.
    """
    dashboard = Dashboard(get_spec, get_dataset_name, window)
    # Scrollable, so the form's height and width never set a minimum size for the whole window.
    scroller = QScrollArea()
    scroller.setWidgetResizable(True)
    scroller.setFrameShape(QFrame.Shape.NoFrame)
    scroller.setWidget(dashboard.training_panel)
    splitter = QSplitter(Qt.Orientation.Horizontal)
    splitter.addWidget(scroller)
    splitter.addWidget(dashboard.views)
    splitter.setStretchFactor(0, 0)
    splitter.setStretchFactor(1, 1)
    splitter.setSizes([FORM_WIDTH, 3 * FORM_WIDTH])  # the views take the rest as the dock grows
    dock = QDockWidget("Training", window)
    dock.setObjectName("DashboardTrainingDock")
    dock.setWidget(splitter)
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    dashboard.docks = (dock,)
    return dashboard
