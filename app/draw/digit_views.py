"""The Draw panel's two small read-outs, painted with plain QPainter calls: they repaint with every reading
(up to 60 times a second, while training may be busy on both cores), and a pyqtgraph plot's repaint (axes,
ticks, view box) cost several times more GUI-thread time than these.

    bars = ProbabilityBars(); bars.set_probabilities(probabilities, class_names)   # top guess highlighted
    preview = DigitPreview(); preview.set_digit(digit); preview.set_heat(rgba_or_None)
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.draw.overlay import rgba_image
from app.draw.preprocess import MNIST_FIELD

BAR_COLOUR = QColor("#3d8bd9")
TOP_BAR_COLOUR = QColor("#1f5fa8")
FAINT_ALPHA = 120  # the axis, the 50 % line and a disabled panel's bars: the text colour, faded
PREVIEW_SCALE = 3  # screen pixels per pixel of the 28x28 field


class ProbabilityBars(QWidget):
    """One bar per class, 0 to 1, the class names under them."""

    painted = Signal()  # a repaint has finished (benchmarks time a reading to here)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.probabilities = np.zeros(10, dtype=np.float32)
        self.class_names = [str(index) for index in range(10)]
        self.setMinimumHeight(70)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # paints every pixel: nothing under it to paint

    def set_probabilities(self, probabilities: np.ndarray, class_names=None) -> None:
        self.probabilities = np.asarray(probabilities, dtype=np.float32)
        if class_names is not None:
            self.class_names = [str(name) for name in class_names]
        self.update()

    def labels_fit_under_bars(self) -> bool:
        """Whether every class name fits under its bar; if not (e.g. "green triangle" with 9 classes in a
        narrow dock), the classes are drawn as rows instead, the name left of its bar."""
        slot = (self.width() - 8) / max(len(self.probabilities), 1)
        metrics = self.fontMetrics()
        return all(metrics.horizontalAdvance(name) <= slot - 2 for name in self.class_names[:len(self.probabilities)])

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.base())
        if not self.labels_fit_under_bars():
            self._paint_rows(painter, palette)
            painter.end()
            self.painted.emit()
            return
        label_height = self.fontMetrics().height() + 2
        plot = QRectF(4, 4, self.width() - 8, self.height() - 8 - label_height)
        # The text colour faded: Mid is almost the Base colour in a dark palette, and the axis would vanish.
        faint = QColor(palette.text().color())
        faint.setAlpha(FAINT_ALPHA)
        painter.setPen(faint)
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        painter.setPen(QPen(faint, 1, Qt.PenStyle.DotLine))
        painter.drawLine(plot.left(), plot.center().y(), plot.right(), plot.center().y())  # the 50% line
        count = max(len(self.probabilities), 1)
        slot = plot.width() / count
        heights = np.clip(self.probabilities, 0.0, 1.0) * plot.height()
        top = int(self.probabilities.argmax()) if self.probabilities.any() else -1
        enabled = self.isEnabled()
        for index, height in enumerate(heights.tolist()):
            colour = (TOP_BAR_COLOUR if index == top else BAR_COLOUR) if enabled else faint
            painter.fillRect(QRectF(plot.left() + slot * (index + 0.15), plot.bottom() - height, slot * 0.7, height),
                             colour)
        painter.setPen(palette.text().color() if enabled else faint)
        centred = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
        for index, name in enumerate(self.class_names[:count]):
            painter.drawText(QRectF(plot.left() + slot * index, plot.bottom() + 2, slot, label_height), centred, name)
        painter.end()
        self.painted.emit()


    def _paint_rows(self, painter: QPainter, palette) -> None:
        """One row per class: its name, then its bar from 0 to 1 (the 50% line dotted)."""
        metrics = self.fontMetrics()
        count = max(len(self.probabilities), 1)
        names = self.class_names[:count]
        name_width = min(max((metrics.horizontalAdvance(name) for name in names), default=0) + 6, self.width() // 2)
        plot = QRectF(4 + name_width, 4, self.width() - 8 - name_width, self.height() - 8)
        row = plot.height() / count
        faint = QColor(palette.text().color())
        faint.setAlpha(FAINT_ALPHA)
        painter.setPen(faint)
        painter.drawLine(plot.topLeft(), plot.bottomLeft())
        painter.setPen(QPen(faint, 1, Qt.PenStyle.DotLine))
        painter.drawLine(plot.center().x(), plot.top(), plot.center().x(), plot.bottom())  # the 50% line
        top = int(self.probabilities.argmax()) if self.probabilities.any() else -1
        enabled = self.isEnabled()
        widths = np.clip(self.probabilities, 0.0, 1.0) * plot.width()
        for index, width in enumerate(widths.tolist()):
            colour = (TOP_BAR_COLOUR if index == top else BAR_COLOUR) if enabled else faint
            painter.fillRect(QRectF(plot.left(), plot.top() + row * (index + 0.15), width, row * 0.7), colour)
        painter.setPen(palette.text().color() if enabled else faint)
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for index, name in enumerate(names):
            label = QRectF(2, plot.top() + row * index, name_width - 4, row)
            painter.drawText(label, right, metrics.elidedText(name, Qt.TextElideMode.ElideRight, int(label.width())))


class DigitPreview(QWidget):
    """The digit (or a colour model's picture) the network reads, scaled to 84 px, unsmoothed, with the
    saliency map over it when shown; an autoencoder's reconstruction of it shows in another."""

    painted = Signal()  # a repaint has finished (a reconstruction on screen, as the bars' own signal says)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.digit = np.zeros((MNIST_FIELD, MNIST_FIELD), dtype=np.float32)
        self.heat: np.ndarray | None = None  # (H, W, 4) uint8 RGBA over the digit
        self._digit_image = self._grey_image(self.digit)
        self._heat_image: QImage | None = None
        self.setFixedSize(MNIST_FIELD * PREVIEW_SCALE, MNIST_FIELD * PREVIEW_SCALE)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    @staticmethod
    def _grey_image(digit: np.ndarray) -> QImage:
        """(H, W) grey, or (3, H, W) a colour model's picture, in [0, 1] as a QImage."""
        pixels = np.round(np.clip(digit, 0.0, 1.0) * 255).astype(np.uint8)
        if pixels.ndim == 3:
            rgb = np.ascontiguousarray(pixels.transpose(1, 2, 0))
            height, width = rgb.shape[:2]
            return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
        grey = np.ascontiguousarray(pixels)
        height, width = grey.shape
        return QImage(grey.data, width, height, width, QImage.Format.Format_Grayscale8).copy()

    def set_digit(self, digit: np.ndarray) -> None:
        self.digit = digit
        self._digit_image = self._grey_image(digit)
        self.update()

    def set_heat(self, rgba: np.ndarray | None) -> None:
        self.heat = rgba
        self._heat_image = rgba_image(rgba) if rgba is not None else None
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        target = QRectF(self.rect())
        painter.drawImage(target, self._digit_image)  # unsmoothed: the pixels the network sees, as squares
        if self._heat_image is not None:
            painter.drawImage(target, self._heat_image)
        painter.end()
        self.painted.emit()
