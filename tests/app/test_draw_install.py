"""The Draw dock in a window (issue 8): below another dock, following training snapshots, sending the drawn
digit to the activations view (before any run, too), and fitting the main window's left column without
scrolling at the default size."""

import numpy as np
import pytest
from PySide6.QtCore import QObject, QPoint, Qt, Signal
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow

import engine
from app.dashboard import install_dashboard
from app.draw.install import install_draw_panel
from tests.app.draw_helpers import READ_TIMEOUT_MS, circle_points, draw_stroke, wait_for_reading


class FakeController(QObject):
    snapshot_arrived = Signal(object)
    run = None


class FakeDashboard:  # what the Draw dock uses from the training dashboard
    def __init__(self):
        self.controller = FakeController()
        self.examples = []

    def show_example(self, image):
        self.examples.append(image)

    def hold_redraws(self, held):  # the pen-down policy's (app/pen_down.py)
        pass


class FakeRun:
    def __init__(self, spec):
        self.spec = spec
        self.data = type("Data", (), {"class_names": tuple(f"class {i}" for i in range(10))})()


@pytest.fixture
def window_with_inspector(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    window.inspector_dock = QDockWidget("Inspector", window)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, window.inspector_dock)
    window.resize(900, 700)
    window.show()
    return window


def test_install_puts_a_draw_dock_below_the_inspector_and_wires_the_dashboard(window_with_inspector):
    window, dashboard = window_with_inspector, FakeDashboard()
    panel = install_draw_panel(window, dashboard)
    assert window.dockWidgetArea(panel.dock) == Qt.DockWidgetArea.RightDockWidgetArea
    assert window.tabifiedDockWidgets(panel.dock) == []
    assert panel.dock.widget() is panel  # no scroll area: a pad that scrolls would move under the pen
    panel.activations_button.click()
    assert dashboard.examples and dashboard.examples[0].shape == (28, 28)


def test_the_panel_follows_a_training_snapshot(window_with_inspector, qtbot, seed_spec):
    dashboard = FakeDashboard()
    panel = install_draw_panel(window_with_inspector, dashboard)
    draw_stroke(panel.pad, circle_points())
    wait_for_reading(qtbot, panel)
    assert panel.probabilities.max() > 0.5  # the bundled model has a clear favourite
    zeroed = {name: np.zeros_like(value) for name, value in panel.weights.items()}
    dashboard.controller.run = FakeRun(seed_spec)
    dashboard.controller.snapshot_arrived.emit(engine.training.SnapshotEvent(step=7, epoch=0, weights=zeroed))
    assert panel.weights is zeroed  # the snapshot's own arrays, handed on without a copy
    wait_for_reading(qtbot, panel)
    np.testing.assert_allclose(panel.probabilities, 0.1, atol=1e-6)
    assert "<b style='font-size:large'>class " in panel.guesses.text()  # the run's class names


def test_a_snapshot_waits_for_the_pen_to_lift(window_with_inspector, qtbot, seed_spec):
    dashboard = FakeDashboard()
    panel = install_draw_panel(window_with_inspector, dashboard)
    bundled = panel.weights
    zeroed = {name: np.zeros_like(value) for name, value in panel.weights.items()}
    dashboard.controller.run = FakeRun(seed_spec)
    panel.pen_down_changed.emit(True)
    dashboard.controller.snapshot_arrived.emit(engine.training.SnapshotEvent(step=7, epoch=0, weights=zeroed))
    assert panel.weights is bundled  # the reader keeps its weights while the stroke goes on...
    panel.pen_down_changed.emit(False)
    assert panel.weights is zeroed  # ...and takes the held snapshot when the pen lifts


def test_layers_before_any_run_shows_the_bundled_models_activations(qtbot, seed_spec):
    window = QMainWindow()
    window.setCentralWidget(QLabel("canvas"))
    dashboard = install_dashboard(window, lambda: seed_spec, lambda: "mnist")
    panel = install_draw_panel(window, dashboard)
    window.resize(1200, 800)
    window.show()
    try:
        draw_stroke(panel.pad, circle_points())
        wait_for_reading(qtbot, panel)
        assert dashboard.controller.run is None
        panel.activations_button.click()
        activations = dashboard.activations
        assert dashboard.views.currentWidget() is activations
        qtbot.waitUntil(lambda: activations.caption.text().startswith("the drawn image: predicted "),
                        timeout=READ_TIMEOUT_MS)
        guess = panel.class_names[int(panel.probabilities.argmax())]
        assert f"predicted {guess} " in activations.caption.text()  # the same network reads the same digit
        assert "bundled seed CNN" in activations.caption.text()
        assert activations.run.is_model and set(activations._images) >= {"conv1", "conv2", "fc1", "logits"}
        assert activations._images["conv1"].image is not None
    finally:
        assert dashboard.shutdown(timeout_ms=20_000)
        window.close()
        window.deleteLater()


def test_the_draw_dock_fits_the_default_window_without_scrolling(main_window, qtbot):
    """At the default 1280x800 the whole panel shows in the dock under the palette: nothing to scroll to."""
    assert (main_window.width(), main_window.height()) == (1280, 800)
    panel, dock = main_window.draw_panel, main_window.draw_dock
    qtbot.waitUntil(lambda: panel.isVisible() and panel.height() > 0)
    assert dock.widget() is panel  # not a scroll area holding it
    hint = panel.minimumSizeHint()
    assert panel.width() >= hint.width() and panel.height() >= hint.height()
    for widget in (panel.pad, panel.preview, panel.clear_button, panel.save_button, panel.saliency_button,
                   panel.saliency_method, panel.activations_button, panel.bars, panel.note):
        corner = widget.mapTo(panel, QPoint(widget.width(), widget.height()))
        assert widget.isVisible() and corner.x() <= panel.width() and corner.y() <= panel.height(), widget
    assert min(panel.pad.width(), panel.pad.height()) >= 150  # room to draw
