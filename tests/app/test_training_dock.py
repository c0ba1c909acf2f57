"""The training dock: the loss plot waits, labelled, for data; a line names the data set and settings."""

import pyqtgraph as pg

from app.document.model import default_training_settings
from app.training_dock import EMPTY_LOSS_TEXT, TrainingDock


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


def test_settings_line_names_the_dataset(qtbot):
    dock = TrainingDock()
    qtbot.addWidget(dock)
    dock.show_settings(default_training_settings())
    text = dock.settings_label.text()
    assert "<b>Dataset:</b> MNIST handwritten digits" in text
    assert "Adam, learning rate 0.0001" in text and "batches of 50" in text and "10 epochs" in text
    dock.show_settings({"dataset": "my-scans"})
    assert dock.settings_label.text() == "<b>Dataset:</b> my-scans"
