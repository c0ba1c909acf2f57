"""Evaluation on the test set. A classifier: a confusion matrix (click a cell to see those examples) and a
gallery of the most confidently wrong test images. A network that outputs values (an autoencoder, a
regression: ``engine.ErrorEvaluation``): its loss, mean squared and absolute error, with the worst
reconstructions or the predicted values against the true ones (app/dashboard/error_evaluation.py).

The full evaluation runs on a background thread, on its own NumPy copy of the network loaded with the
latest snapshot, so neither the GUI nor training waits for it.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

import engine
from app.dashboard.error_evaluation import ErrorView, error_figures
from app.dashboard.thumbnails import THUMBNAIL, thumbnail
from app.document.networks import new_network

GALLERY_SIZE = 32


def evaluate_snapshot(spec: dict, weights: dict, images: np.ndarray, labels: np.ndarray):
    """Runs on a background thread: a private NumPy network, so nobody else's arrays are touched. An
    ``engine.Evaluation`` for a classifier, an ``engine.ErrorEvaluation`` for any other network."""
    network = new_network(spec)
    network.load_state_dict(weights)
    return engine.evaluate(network, images, labels)


class EvaluationPanel(QWidget):
    def __init__(self, tasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.tasks = tasks
        self.evaluate_button = QPushButton("Evaluate on the test set")
        self.summary = QLabel("Evaluates the latest weights; runs by itself when training finishes.")
        self.summary.setWordWrap(True)
        self.matrix = QTableWidget()
        self.matrix.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.matrix.setToolTip("Rows: true class · columns: predicted class · click a cell to see its examples")
        self.gallery_title = QLabel("Most confidently wrong")
        self.gallery = QListWidget()
        self.gallery.setViewMode(QListView.ViewMode.IconMode)
        self.gallery.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        self.gallery.setResizeMode(QListView.ResizeMode.Adjust)
        self.gallery.setMovement(QListView.Movement.Static)
        top = QHBoxLayout()
        top.addWidget(self.evaluate_button)
        top.addWidget(self.summary, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.gallery_title)
        right_layout.addWidget(self.gallery, 1)
        splitter = self.classes_view = QSplitter()
        splitter.addWidget(self.matrix)
        splitter.addWidget(right)
        self.error_view = ErrorView()
        self.views = QStackedWidget()  # the classifier's matrix and gallery, or the error view
        self.views.addWidget(splitter)
        self.views.addWidget(self.error_view)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.views, 1)
        self.evaluate_button.clicked.connect(self.evaluate_latest)
        self.matrix.cellClicked.connect(self.show_cell)
        self.get_run = lambda: None
        self.result = None  # the latest engine.Evaluation or engine.ErrorEvaluation shown
        self.result_run = None

    def set_run_source(self, get_run) -> None:
        self.get_run = get_run

    def begin_run(self, run) -> None:
        self.evaluate_button.setEnabled(True)

    def evaluate_latest(self) -> None:
        run = self.get_run()
        if run is None or run.latest_snapshot is None:
            self.summary.setText("No weights yet: start a run and wait for its first snapshot.")
            return
        snapshot = run.latest_snapshot
        self.evaluate_button.setEnabled(False)
        self.summary.setText(f"Evaluating step {snapshot.step} on {len(run.data.test_labels):,} test examples…")

        def finished(result):
            self.evaluate_button.setEnabled(True)
            self.show_result(run, result, snapshot.step)

        def failed(message):
            self.evaluate_button.setEnabled(True)
            self.summary.setText(f"Evaluation failed: {message}")

        self.tasks.submit(lambda _report: evaluate_snapshot(run.spec, snapshot.weights, run.data.test_images,
                                                            run.data.test_labels), finished, failed)

    def show_result(self, run, result, step: int) -> None:
        self.result, self.result_run = result, run
        if isinstance(result, engine.ErrorEvaluation):  # values, not classes: no confusion, no accuracy
            self.views.setCurrentWidget(self.error_view)
            self.summary.setText(error_figures(result, step))
            self.error_view.show_result(run, result)
            return
        self.views.setCurrentWidget(self.classes_view)
        names = run.data.class_names
        confusion = result.confusion
        self.matrix.setRowCount(len(confusion))
        self.matrix.setColumnCount(len(confusion))
        self.matrix.setHorizontalHeaderLabels([f"→{name}" for name in names])
        self.matrix.setVerticalHeaderLabels(list(names))
        largest_mistake = max(1, int((confusion - np.diag(np.diag(confusion))).max()))
        for true in range(len(confusion)):
            for predicted in range(len(confusion)):
                count = int(confusion[true, predicted])
                item = QTableWidgetItem(str(count))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if true == predicted:
                    item.setBackground(QColor(120, 200, 140, 90))
                elif count:
                    item.setBackground(QColor(230, 80, 60, int(40 + 200 * count / largest_mistake)))
                self.matrix.setItem(true, predicted, item)
        self.matrix.resizeColumnsToContents()
        self.summary.setText(f"Step {step}: test accuracy {result.accuracy:.2%}, loss {result.loss:.4f} "
                             f"on {len(result.labels):,} examples.")
        self.gallery_title.setText("Most confidently wrong")
        self._fill_gallery(result.most_confident_mistakes(GALLERY_SIZE))

    def show_cell(self, true: int, predicted: int) -> None:
        if self.result is None or isinstance(self.result, engine.ErrorEvaluation):
            return
        names = self.result_run.data.class_names
        matching = np.flatnonzero((self.result.labels == true) & (self.result.predictions == predicted))
        self.gallery_title.setText(f"True {names[true]}, predicted {names[predicted]}: {len(matching)} example(s)"
                                   f"{f', the first {GALLERY_SIZE}' if len(matching) > GALLERY_SIZE else ''}")
        self._fill_gallery(matching[:GALLERY_SIZE])

    def _fill_gallery(self, indices: np.ndarray) -> None:
        self.gallery.clear()
        run, result = self.result_run, self.result
        images = run.data.test_images
        for index in indices:
            index = int(index)
            predicted = int(result.predictions[index])
            text = (f"{run.data.class_names[int(result.labels[index])]}→{run.data.class_names[predicted]} "
                    f"{result.probabilities[index, predicted]:.0%}")
            item = QListWidgetItem(text)
            if images.ndim == 4:
                item.setIcon(QIcon(thumbnail(images[index])))
            item.setData(Qt.ItemDataRole.UserRole, index)
            item.setToolTip(f"test example #{index}")
            self.gallery.addItem(item)
