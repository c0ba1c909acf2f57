"""The canvas zooms within limits and shows its hint; the training dock's loss plot waits, labelled, for data."""

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from app.canvas_view import DEFAULT_HINT, CanvasView
from app.training_dock import EMPTY_LOSS_TEXT, TrainingDock


@pytest.fixture
def canvas(qtbot):
    view = CanvasView()
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    return view


def test_canvas_shows_the_hint_centred(canvas):
    assert canvas.hint() == DEFAULT_HINT
    centre = canvas.hint_item.sceneBoundingRect().center()
    assert abs(centre.x()) < 1 and abs(centre.y()) < 1


def test_zoom_stays_within_limits_and_resets(canvas):
    canvas.zoom_by(2)
    assert canvas.zoom() == pytest.approx(2)
    canvas.zoom_by(100)
    assert canvas.zoom() == pytest.approx(CanvasView.MAX_ZOOM)
    canvas.zoom_by(1e-6)
    assert canvas.zoom() == pytest.approx(CanvasView.MIN_ZOOM)
    canvas.reset_view()
    assert canvas.zoom() == 1


def test_wheel_zooms_in_and_out(canvas):
    def wheel(steps):
        centre = QPointF(canvas.viewport().rect().center())
        event = QWheelEvent(
            centre, canvas.viewport().mapToGlobal(centre), QPoint(0, 0), QPoint(0, 120 * steps),
            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
        )
        QApplication.sendEvent(canvas.viewport(), event)

    wheel(1)
    assert canvas.zoom() > 1
    wheel(-2)
    assert canvas.zoom() < 1


def test_loss_plot_is_labelled_empty_and_says_why(qtbot):
    dock = TrainingDock()
    qtbot.addWidget(dock)
    assert dock.tabs.tabText(0) == "Loss"
    assert dock.tabs.widget(0) is dock.loss_plot
    assert isinstance(dock.loss_plot, pg.PlotWidget)
    plot_item = dock.loss_plot.getPlotItem()
    assert plot_item.getAxis("bottom").labelText == "step"
    assert plot_item.getAxis("left").labelText == "loss"
    x, y = dock.loss_curve.getData()
    assert x is None or len(x) == 0
    assert dock.empty_text.textItem.toPlainText() == EMPTY_LOSS_TEXT
    assert dock.empty_text in plot_item.items
