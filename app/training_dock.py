"""The training panels (bottom dock): tabs of live plots; the first is the loss curve.

Plots are created once and later updated in place with ``setData`` (issue 7 feeds them from the
training worker's signals); until then the loss plot says why it is empty. A line above the tabs says
what a run would train on: the project's data set and settings (``document.training_settings``).
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QDockWidget, QLabel, QTabWidget, QVBoxLayout, QWidget

import engine

EMPTY_LOSS_TEXT = "No training run yet.\nThe loss per step appears here once training arrives (issue 7)."
LOSS_PEN_COLOR = "#3b4cca"


class TrainingDock(QDockWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__("Training", parent)
        self.setObjectName("TrainingDock")
        palette = self.palette()
        text_color = palette.color(QPalette.ColorRole.Text)

        self.loss_plot = pg.PlotWidget(background=palette.color(QPalette.ColorRole.Base))
        plot_item = self.loss_plot.getPlotItem()
        for side, label in (("bottom", "step"), ("left", "loss")):
            axis = plot_item.getAxis(side)
            axis.setPen(text_color)
            axis.setTextPen(text_color)
            plot_item.setLabel(side, label, color=text_color.name())
        plot_item.showGrid(x=True, y=True, alpha=0.15)
        self.loss_curve = plot_item.plot([], [], pen=pg.mkPen(LOSS_PEN_COLOR, width=2))
        # A fixed unit view keeps the message centred while there is no data.
        plot_item.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        self.empty_text = pg.TextItem(color=text_color, anchor=(0.5, 0.5))
        self.empty_text.setHtml(f"<div align='center'>{EMPTY_LOSS_TEXT.replace(chr(10), '<br>')}</div>")
        self.empty_text.setPos(0.5, 0.5)
        plot_item.addItem(self.empty_text, ignoreBounds=True)
        # Wrap the message within the plot's width as the dock is resized.
        plot_item.getViewBox().sigResized.connect(
            lambda view_box: self.empty_text.setTextWidth(max(60.0, view_box.width() - 24))
        )

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.loss_plot, "Loss")
        self.settings_label = QLabel()
        self.settings_label.setObjectName("TrainingSettingsLabel")
        self.settings_label.setWordWrap(True)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 4, 6, 0)
        layout.setSpacing(4)
        layout.addWidget(self.settings_label)
        layout.addWidget(self.tabs, 1)
        self.setWidget(body)

    def show_settings(self, settings: dict) -> None:
        """Name the data set (its title when the registry knows it) and the main settings of a run."""
        name = settings.get("dataset", "?")
        try:
            title = engine.datasets.get_info(name).title
        except engine.datasets.DatasetError:
            title = name  # an imported or not-yet-known data set: its name is all there is
        parts = [f"<b>Dataset:</b> {title}"]
        optimizer = settings.get("optimizer")
        if isinstance(optimizer, dict) and "name" in optimizer:
            rate = f", learning rate {optimizer['lr']:g}" if isinstance(optimizer.get("lr"), (int, float)) else ""
            parts.append(f"{optimizer['name'].capitalize()}{rate}")
        for key, label in (("batch_size", "batches of {}"), ("epochs", "{} epochs")):
            if key in settings:
                parts.append(label.format(settings[key]))
        self.settings_label.setText(" · ".join(parts))
