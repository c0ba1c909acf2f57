"""Loss and accuracy curves of every run, overlaid (as one compares runs in TensorBoard).

Each run gets its curve items once (raw loss, smoothed loss, validation loss, smoothed batch accuracy,
train and validation accuracy per epoch); new steps only call ``setData``. The run list's check
boxes show and hide runs. A network that does not classify (an autoencoder, a regression: its output head's
``classifier`` is False) has no accuracy: its run shows loss and validation loss only, and the Accuracy plot
is taken away while no run on the panel classifies.
While the pen is down on the draw pad, ``hold_redraws(True)`` postpones the redraws (the data keeps being
recorded) until the pen lifts, so a repaint never delays the strokes. While the panel is hidden (another tab
shows) nothing is drawn; showing it draws everything recorded meanwhile.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.dashboard.redraw_hold import RedrawHold
from app.dashboard.run_history import RunRecord, write_csv
from app.file_dialogs import save_file_name

# Steps arrive up to 5 times a second (app/training/worker.py). A redraw of the two plots costs the GUI
# thread ~15 ms of CPU on a 2-core machine, most of it pyqtgraph's Python, holding the GIL that the training
# thread needs between its NumPy calls; every such ms is taken from training (benchmarks/RESULTS.md, issue
# 21: the GUI thread's CPU fell from 0.051 to 0.036 cores going from 2 redraws a second to 1). Once a second
# matches the live views' snapshots.
REDRAW_INTERVAL_MS = 1000
MAX_EPOCH_MARKERS = 30  # past this, markers on every epoch hide the curve (a toy set's epochs are a few steps)
LOSS_KEY = "Loss: thin, each step; thick, smoothed; dashed, validation."
CURVES_KEY = LOSS_KEY + " Accuracy: thin, smoothed batch; squares, training per epoch; dashed, validation."
RUN_COLORS = ("#3b4cca", "#d9480f", "#2b8a3e", "#862e9c", "#c2255c", "#1098ad", "#5c940d", "#e67700")


class _RunCurves:
    """The plot items of one run, created once."""

    def __init__(self, record: RunRecord, loss_plot: pg.PlotItem, accuracy_plot: pg.PlotItem):
        color = pg.mkColor(record.color)
        faint = pg.mkColor(record.color)
        faint.setAlpha(110)
        self.items = [
            loss_plot.plot([], [], pen=pg.mkPen(faint, width=1)),
            loss_plot.plot([], [], pen=pg.mkPen(color, width=2), name=f"{record.name} (smoothed)"),
            loss_plot.plot([], [], pen=pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine), symbol="o",
                           symbolSize=6, symbolBrush=color, name="validation"),
            accuracy_plot.plot([], [], pen=pg.mkPen(faint, width=1)),
            accuracy_plot.plot([], [], pen=pg.mkPen(color, width=2), symbol="s", symbolSize=6, symbolBrush=color),
            accuracy_plot.plot([], [], pen=pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine), symbol="o",
                               symbolSize=6, symbolBrush=color),
        ]
        self._markers_removed = False
        for item in self.items:
            item.setClipToView(True)
            item.setDownsampling(auto=True, method="mean")

    def update_steps(self, record: RunRecord) -> None:
        steps = np.asarray(record.steps, dtype=float)
        self.items[0].setData(steps, np.asarray(record.losses))
        self.items[1].setData(steps, np.asarray(record.smoothed))
        self.items[3].setData(steps, np.asarray(record.smoothed_accuracies))

    def update_epochs(self, record: RunRecord) -> None:
        # ">", not "==": epochs that end while redraws are held are drawn together, skipping counts.
        if len(record.epochs) > MAX_EPOCH_MARKERS and not self._markers_removed:
            self._markers_removed = True
            for index in (2, 4, 5):
                self.items[index].setSymbol(None)
        self.items[2].setData(*record.epoch_series("val_loss"))
        self.items[4].setData(*record.epoch_series("train_accuracy"))
        self.items[5].setData(*record.epoch_series("val_accuracy"))

    def remove_from(self, loss_plot: pg.PlotItem, accuracy_plot: pg.PlotItem) -> None:
        for index, item in enumerate(self.items):
            (loss_plot if index < 3 else accuracy_plot).removeItem(item)

    def set_visible(self, visible: bool) -> None:
        for item in self.items:
            item.setVisible(visible)


class CurvesPanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.records: list[RunRecord] = []
        self._curves: list[_RunCurves] = []
        self.plots = pg.GraphicsLayoutWidget()
        # Short titles: pyqtgraph never elides a title, so a long one sets the plots' minimum width (about
        # 620 px for a one-line key) and pushes the curves under the run list in a 1280-wide window. The
        # key goes in a wrapping caption below instead.
        self.loss_plot = self.plots.addPlot(row=0, col=0, title="Loss")
        self.accuracy_plot = self.plots.addPlot(row=1, col=0, title="Accuracy")
        self.key = QLabel(CURVES_KEY)
        self.key.setWordWrap(True)
        self.key.setStyleSheet("color: palette(placeholder-text);")
        self.accuracy_plot.setXLink(self.loss_plot)
        # No grid: its translucent full-width lines triple the cost of each redraw (measured: 28 ms vs 9 ms).
        for plot, label in ((self.loss_plot, "loss"), (self.accuracy_plot, "accuracy")):
            plot.setLabel("left", label)
            plot.setLabel("bottom", "step")
        self.accuracy_plot.setYRange(0, 1, padding=0.02)
        self._accuracy_shown = True
        self._design_classifies = True  # before any run, the plots follow the design on the canvas

        self.run_list = QListWidget()
        self.run_list.setToolTip("Runs: untick one to hide its curves")
        # The column is narrow (below): long run names wrap onto more lines instead of hiding behind a
        # horizontal scroll bar ("run 1: seed-cn" at 1280x800).
        self.run_list.setWordWrap(True)
        self.run_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.run_list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.log_scale = QCheckBox("Log-scale loss")
        self.export_csv_button = QPushButton("Export CSV…")
        self.export_png_button = QPushButton("Export PNG…")
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.run_list, 1)
        side_layout.addWidget(self.log_scale)
        side_layout.addWidget(self.export_csv_button)
        side_layout.addWidget(self.export_png_button)
        plots_and_key = QWidget()
        plots_and_key_layout = QVBoxLayout(plots_and_key)
        plots_and_key_layout.setContentsMargins(0, 0, 0, 0)
        plots_and_key_layout.setSpacing(2)
        plots_and_key_layout.addWidget(self.plots, 1)
        plots_and_key_layout.addWidget(self.key)
        splitter = QSplitter()
        splitter.addWidget(plots_and_key)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)
        # The run list is a legend: keep it narrow so the curves get the room under a 1280-wide window.
        side.setMaximumWidth(220)
        splitter.setSizes([800, 150])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(REDRAW_INTERVAL_MS)
        self._redraw_timer.timeout.connect(self._redraw_due)
        self._hold = RedrawHold(self._redraw_if_shown, self)
        # Recorded but not yet on the plots: a redraw with nothing new would still cost a repaint.
        self._steps_undrawn = self._epochs_undrawn = False
        self._run_open = False  # begin_run's run has not ended yet
        self.log_scale.toggled.connect(lambda on: self.loss_plot.setLogMode(y=on))
        self.run_list.itemChanged.connect(self._toggle_run)
        self.export_csv_button.clicked.connect(self._export_csv)
        self.export_png_button.clicked.connect(self._export_png)

    # -- following the run ----------------------------------------------------------------------------
    def begin_run(self, run) -> None:
        self.redraw()  # the previous run's last steps and epochs, before the new run's curves take over
        # (A stand-in run without a network, as some tests pass, is a classifier: the panel as it always was.)
        record = RunRecord(run.name, RUN_COLORS[len(self.records) % len(RUN_COLORS)],
                           classifier=getattr(run, "classifier", True))
        self.records.append(record)
        self._curves.append(_RunCurves(record, self.loss_plot, self.accuracy_plot))
        item = QListWidgetItem(record.name)
        item.setForeground(pg.mkColor(record.color))
        item.setToolTip(record.name)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked)
        self.run_list.addItem(item)
        self._run_open = True
        self._show_accuracy_if_measured()

    def _show_accuracy_if_measured(self) -> None:
        """The Accuracy plot while some run on the panel (or none yet) classifies; else the loss takes its room."""
        wanted = any(record.classifier for record in self.records) if self.records else self._design_classifies
        if wanted == self._accuracy_shown:
            return
        self._accuracy_shown = wanted
        if wanted:
            self.plots.addItem(self.accuracy_plot, row=1, col=0)
        else:
            self.plots.removeItem(self.accuracy_plot)
        self.key.setText(CURVES_KEY if wanted else LOSS_KEY)

    def follow_design(self, classifies: bool) -> None:
        """Whether the design on the canvas classifies: before any run, the plots show what its run will."""
        self._design_classifies = classifies
        self._show_accuracy_if_measured()

    @property
    def accuracy_shown(self) -> bool:
        return self._accuracy_shown

    def rename_run(self, name: str) -> None:
        """The current run's new label (e.g. its learning rate was changed), in the legend and the CSV."""
        if self._run_open and self.records:
            self.records[-1].name = name
            item = self.run_list.item(len(self.records) - 1)
            item.setText(name)
            item.setToolTip(name)

    def end_run(self, failed: bool) -> None:
        """The run that ``begin_run`` opened has ended: a failed run that trained no step leaves no entry
        behind (it has no curve to name); one that trained some keeps its curves, marked as failed."""
        if not self._run_open:
            return  # a run refused before it began: nothing of it is here
        self._run_open = False
        self.redraw()
        if not failed:
            return
        item = self.run_list.item(len(self.records) - 1)
        if self.records[-1].steps:
            self.records[-1].name += " (failed)"
            item.setText(self.records[-1].name)
            item.setToolTip(self.records[-1].name)
            return
        self.run_list.takeItem(len(self.records) - 1)
        self._curves.pop().remove_from(self.loss_plot, self.accuracy_plot)
        self.records.pop()
        self._show_accuracy_if_measured()

    def add_steps(self, steps: list) -> None:
        if self.records:
            self.records[-1].add_steps(steps)
            self._steps_undrawn = True
            if self.isVisible() and not self._redraw_timer.isActive():
                self._redraw_timer.start()

    def redraw(self) -> None:
        """Show what was recorded since the last redraw, now, held or not (also called when a run ends, so
        none is missed)."""
        self._redraw_timer.stop()
        if self.records:
            if self._epochs_undrawn:
                self._curves[-1].update_epochs(self.records[-1])
            if self._steps_undrawn:
                self._curves[-1].update_steps(self.records[-1])
        self._steps_undrawn = self._epochs_undrawn = False

    def add_epoch(self, event) -> None:
        if self.records:
            self.records[-1].add_epoch(event)
            self._epochs_undrawn = True
            self._hold.request()

    def hold_redraws(self, held: bool) -> None:
        """While held (the pen is down on the draw pad), record but do not draw; releasing draws once."""
        self._hold.set_held(held)

    def _redraw_due(self) -> None:
        self._hold.request()

    def _redraw_if_shown(self) -> None:
        """The timer's and the pen hold's redraw: skipped while hidden (another tab shows, the dock is closed),
        when a repaint would show nobody anything; ``showEvent`` catches up."""
        if self.isVisible():
            self.redraw()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._steps_undrawn or self._epochs_undrawn:
            self._hold.request()  # at once, or when the pen lifts

    def _toggle_run(self, item: QListWidgetItem) -> None:
        self._curves[self.run_list.row(item)].set_visible(item.checkState() == Qt.CheckState.Checked)

    # -- export ---------------------------------------------------------------------------------------
    def save_csv(self, path) -> None:
        write_csv(path, self.records)

    def save_png(self, path) -> bool:
        self.redraw()  # what was recorded while hidden or held is in the picture too
        return self.plots.grab().save(str(path), "PNG")

    def _export_csv(self) -> None:
        path, _ = save_file_name(self, "Export curves", "curves.csv", "CSV (*.csv)")
        if path:
            self.save_csv(path)

    def _export_png(self) -> None:
        path, _ = save_file_name(self, "Export curves", "curves.png", "PNG image (*.png)")
        if path:
            self.save_png(path)
