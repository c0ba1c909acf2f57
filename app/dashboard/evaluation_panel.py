"""Evaluation on the test set: a confusion matrix (click a cell to see those examples) and a gallery of
the most confidently wrong test images.

The full evaluation runs on a background thread, on its own NumPy copy of the network loaded with the
latest snapshot, so neither the GUI nor training waits for it.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

import engine
from app.document.networks import new_network

GALLERY_SIZE = 32
THUMBNAIL = 56


def evaluate_snapshot(spec: dict, weights: dict, images: np.ndarray, labels: np.ndarray) -> engine.Evaluation:
    """Runs on a background thread: a private NumPy network, so nobody else's arrays are touched."""
    network = new_network(spec)
    network.load_state_dict(weights)
    return engine.evaluate(network, images, labels)


def thumbnail(image: np.ndarray) -> QPixmap:
    """A (C, H, W) image in [0, 1] as a pixmap: in colour when it has three channels (a red circle taken for a
    green one must show red), else its first channel as grey (white ink on black, as MNIST)."""
    if image.shape[0] == 3:
        pixels = np.ascontiguousarray((np.clip(image, 0, 1) * 255).astype(np.uint8).transpose(1, 2, 0))
        height, width, _ = pixels.shape
        qimage = QImage(pixels.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
    else:
        gray = np.ascontiguousarray((np.clip(image[0], 0, 1) * 255).astype(np.uint8))
        height, width = gray.shape
        qimage = QImage(gray.data, width, height, width, QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(qimage).scaled(THUMBNAIL, THUMBNAIL)


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
        splitter = QSplitter()
        splitter.addWidget(self.matrix)
        splitter.addWidget(right)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        self.evaluate_button.clicked.connect(self.evaluate_latest)
        self.matrix.cellClicked.connect(self.show_cell)
        self.get_run = lambda: None
        self.result: engine.Evaluation | None = None
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

    def show_result(self, run, result: engine.Evaluation, step: int) -> None:
        self.result, self.result_run = result, run
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
        if self.result is None:
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
