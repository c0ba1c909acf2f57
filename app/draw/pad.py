"""A drawing pad: white ink on black in a QImage, thick anti-aliased round strokes, mouse or pen.

    pad = DrawingPad()
    pad.drawing_changed.connect(lambda: classify(pad.pixels()))   # at most twice per screen frame
    pad.undo_last_stroke(); pad.set_erasing(True); pad.clear()
    pad.set_background(grey_uint8_array)                           # a loaded image to classify
    pad.set_overlay(heat_qimage, (left, top, side))                # a saliency map over the drawing

Strokes are kept as point lists so undo repaints the canvas from the background and the remaining
strokes. The canvas has a fixed size and is drawn scaled into the widget, so the ink's thickness relative
to the digit (which the network is sensitive to) does not depend on the window's size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QElapsedTimer, QEvent, QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

CANVAS_SIZE = 280  # pixels; ten per MNIST pixel, like the classic web demos
STROKE_WIDTH = 22.0  # at full pressure: after scaling into 20x20, close to MNIST's 2-3 pixel strokes
MIN_PRESSURE_FRACTION = 0.35  # a light pen touch still leaves a readable line
DEFAULT_FRAME_RATE = 60.0
OVERLAID_INK_OPACITY = 0.45  # under a saliency map the ink is dimmed to grey, so the map's colours stand out


@dataclass
class Stroke:
    erasing: bool
    points: list[tuple[QPointF, float]] = field(default_factory=list)  # canvas position, pressure 0..1


class DrawingPad(QWidget):
    drawing_changed = Signal()  # throttled to at most twice per screen frame
    pointer_entered = Signal()  # the mouse or pen came over the pad: a stroke may follow
    stroke_started = Signal()  # the pen (or mouse button) went down on the pad
    stroke_finished = Signal()  # it lifted (or the pad was hidden or disabled mid-stroke)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(140, 140)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # paints its whole rect: skip the dock's background
        self.setAttribute(Qt.WidgetAttribute.WA_TabletTracking, False)
        self.canvas = QImage(CANVAS_SIZE, CANVAS_SIZE, QImage.Format.Format_RGB32)
        self.background = QImage(self.canvas)  # black, or a loaded image
        self.background.fill(Qt.GlobalColor.black)
        self.strokes: list[Stroke] = []
        self.erasing = False
        self._drawing: Stroke | None = None
        self.overlay: QImage | None = None  # drawn over the canvas, not into it: the ink stays what it is
        self.overlay_square = (0.0, 0.0, float(CANVAS_SIZE))  # where, in canvas pixels: left, top, side
        screen = QGuiApplication.primaryScreen()
        rate = screen.refreshRate() if screen is not None and screen.refreshRate() > 0 else DEFAULT_FRAME_RATE
        self.frame_ms = max(1, int(1000 / rate))
        # Leading-edge throttle: a change is announced at once when the last announcement is at least half
        # a frame old, else coalesced with its neighbours until then. Half a frame, not a whole one: events
        # that arrive at the frame rate (a 60 Hz mouse) must never wait for the next slot, or every
        # prediction lands a frame late; and twice a frame still caps the work a 1 kHz mouse can cause.
        self.min_interval_ms = max(1, self.frame_ms // 2)
        self._since_announced = QElapsedTimer()
        self._coalesce = QTimer(self)
        self._coalesce.setSingleShot(True)
        self._coalesce.timeout.connect(self._announce)
        self._repaint_canvas()

    # -- the drawing's content ----------------------------------------------------------------------
    def pixels(self) -> np.ndarray:
        """The canvas as a (height, width) uint8 array of ink (0 = none, 255 = full), a copy."""
        image = self.canvas
        view = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.sizeInBytes())
        rows = view.reshape(image.height(), image.bytesPerLine())
        return rows[:, 1:4 * image.width():4].copy()  # the green byte of each BGRA pixel (grey ink)

    @property
    def change_pending(self) -> bool:
        """A change not yet announced (held back by the twice-a-frame throttle)."""
        return self._coalesce.isActive()

    def is_blank(self) -> bool:
        return not self.pixels().any()

    def set_background(self, grey: np.ndarray) -> None:
        """Replace the drawing with ``grey`` (H, W uint8, ink bright on black), scaled to the canvas."""
        grey = np.ascontiguousarray(grey, dtype=np.uint8)
        height, width = grey.shape
        image = QImage(grey.data, width, height, width, QImage.Format.Format_Grayscale8)
        scaled = image.scaled(CANVAS_SIZE, CANVAS_SIZE, Qt.AspectRatioMode.KeepAspectRatio,
                              Qt.TransformationMode.SmoothTransformation)
        self.background.fill(Qt.GlobalColor.black)
        painter = QPainter(self.background)
        painter.drawImage(QPointF((CANVAS_SIZE - scaled.width()) / 2, (CANVAS_SIZE - scaled.height()) / 2), scaled)
        painter.end()
        self.strokes.clear()
        self._repaint_canvas()

    def clear(self) -> None:
        self.background.fill(Qt.GlobalColor.black)
        self.strokes.clear()
        self._repaint_canvas()

    def undo_last_stroke(self) -> None:
        if self.strokes:
            self.strokes.pop()
            self._repaint_canvas()

    def set_erasing(self, erasing: bool) -> None:
        self.erasing = bool(erasing)

    def set_overlay(self, image: QImage | None, square: tuple[float, float, float] | None = None) -> None:
        """Show ``image`` stretched over ``square`` (left, top, side in canvas pixels), or nothing for None."""
        self.overlay = image
        if square is not None:
            self.overlay_square = tuple(float(value) for value in square)
        self.update()

    # -- painting strokes onto the canvas -----------------------------------------------------------
    def _repaint_canvas(self) -> None:
        painter = QPainter(self.canvas)
        painter.drawImage(0, 0, self.background)
        for stroke in self.strokes:
            self._paint_stroke(painter, stroke, 0)
        painter.end()
        self._changed()

    def _paint_stroke(self, painter: QPainter, stroke: Stroke, first: int) -> None:
        """Paint ``stroke`` from its point ``first`` on (a dot for a single point)."""
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = QColor(Qt.GlobalColor.black if stroke.erasing else Qt.GlobalColor.white)
        points = stroke.points
        for index in range(max(first, 0), len(points)):
            point, pressure = points[index]
            width = STROKE_WIDTH * (MIN_PRESSURE_FRACTION + (1 - MIN_PRESSURE_FRACTION) * pressure)
            if stroke.erasing:
                width *= 1.5  # an eraser wider than the ink removes a line in one pass
            painter.setPen(QPen(colour, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                                Qt.PenJoinStyle.RoundJoin))
            previous = points[index - 1][0] if index > 0 else point
            painter.drawLine(previous, point)

    def _canvas_rect(self) -> QRectF:
        side = min(self.width(), self.height())
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def _to_canvas(self, position: QPointF) -> QPointF:
        rect = self._canvas_rect()
        factor = CANVAS_SIZE / max(rect.width(), 1.0)
        return QPointF((position.x() - rect.x()) * factor, (position.y() - rect.y()) * factor)

    def _begin_stroke(self, position: QPointF, pressure: float) -> None:
        already_drawing = self._drawing is not None  # a press without its release: one stroke for listeners
        self._drawing = Stroke(self.erasing)
        self.strokes.append(self._drawing)
        if not already_drawing:
            self.stroke_started.emit()
        self._extend_stroke(position, pressure)

    def _extend_stroke(self, position: QPointF, pressure: float) -> None:
        stroke = self._drawing
        if stroke is None:
            return
        stroke.points.append((self._to_canvas(position), min(max(pressure, 0.0), 1.0)))
        painter = QPainter(self.canvas)
        self._paint_stroke(painter, stroke, len(stroke.points) - 1)  # only the new segment
        painter.end()
        self._changed(self._segment_rect(stroke))

    def _segment_rect(self, stroke: Stroke) -> QRect:
        """Where on the widget the stroke's newest segment was painted: repainting only that keeps each
        mouse move cheap for the GUI thread (scaling the whole canvas costs ~0.5 ms a time)."""
        start, end = stroke.points[-2][0] if len(stroke.points) > 1 else stroke.points[-1][0], stroke.points[-1][0]
        reach = STROKE_WIDTH * (1.5 if stroke.erasing else 1.0) / 2 + 2
        canvas = QRectF(start, end).normalized().adjusted(-reach, -reach, reach, reach)
        rect = self._canvas_rect()
        factor = rect.width() / CANVAS_SIZE
        return QRectF(rect.x() + canvas.x() * factor, rect.y() + canvas.y() * factor,
                      canvas.width() * factor, canvas.height() * factor).toAlignedRect().adjusted(-1, -1, 1, 1)

    def _end_stroke(self) -> None:
        if self._drawing is not None:
            self._drawing = None
            self.stroke_finished.emit()

    # -- events -------------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._begin_stroke(event.position(), 1.0)

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._extend_stroke(event.position(), 1.0)

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._end_stroke()

    def tabletEvent(self, event) -> None:
        # Accepting a tablet event stops Qt from synthesising the matching mouse event, so a pen
        # stroke is drawn once, with its pressure.
        kind = event.type()
        if kind == event.Type.TabletPress:
            self._begin_stroke(event.position(), event.pressure())
        elif kind == event.Type.TabletMove and self._drawing is not None:
            self._extend_stroke(event.position(), event.pressure())
        elif kind == event.Type.TabletRelease:
            self._end_stroke()
        event.accept()

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self._end_stroke()  # the release will go elsewhere: nobody may wait for it

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.EnabledChange and not self.isEnabled():
            self._end_stroke()  # a disabled pad gets no release

    def enterEvent(self, event) -> None:
        super().enterEvent(event)
        self.pointer_entered.emit()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        canvas_rect = self._canvas_rect()
        if self.overlay is not None:
            painter.fillRect(canvas_rect, Qt.GlobalColor.black)
            painter.setOpacity(OVERLAID_INK_OPACITY)
        painter.drawImage(canvas_rect, self.canvas)
        painter.setOpacity(1.0)
        if self.overlay is not None:
            factor = canvas_rect.width() / CANVAS_SIZE
            left, top, side = self.overlay_square
            painter.setClipRect(canvas_rect)  # a digit near the edge has its square partly off the canvas
            painter.drawImage(QRectF(canvas_rect.x() + left * factor, canvas_rect.y() + top * factor,
                                     side * factor, side * factor), self.overlay)
        painter.end()

    # -- announcing changes, at most twice a frame --------------------------------------------------
    def _changed(self, dirty: QRect | None = None) -> None:
        if dirty is None:
            self.update()
        else:
            self.update(dirty)
        if self._coalesce.isActive():
            return
        if not self._since_announced.isValid() or self._since_announced.elapsed() >= self.min_interval_ms:
            self._announce()
        else:
            self._coalesce.start(self.min_interval_ms - self._since_announced.elapsed())

    def _announce(self) -> None:
        self._since_announced.start()
        self.drawing_changed.emit()
