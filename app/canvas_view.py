"""The canvas (centre): a zoomable, pannable scene where the node editor (issue 6) will draw networks.

For now it holds one centred hint text, which the window also uses to summarise an opened network.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QTextOption
from PySide6.QtWidgets import QGraphicsScene, QGraphicsTextItem, QGraphicsView, QWidget

DEFAULT_HINT = (
    "Your network will be drawn here.\n"
    "Pick a layer in the palette on the left to read what it does."
)
GRID_STEP = 24
HINT_WIDTH = 560


class CanvasView(QGraphicsView):
    MIN_ZOOM = 0.25
    MAX_ZOOM = 4.0

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("CanvasView")
        self.setScene(QGraphicsScene(QRectF(-2000, -1500, 4000, 3000), self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        # Panning is by dragging, as in node editors; scrollbars would only take space.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)

        self.hint_item = QGraphicsTextItem()
        self.hint_item.document().setDefaultTextOption(QTextOption(Qt.AlignmentFlag.AlignHCenter))
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.hint_item.setFont(font)
        self.hint_item.setDefaultTextColor(self.palette().color(QPalette.ColorRole.PlaceholderText))
        self.scene().addItem(self.hint_item)
        self.set_hint(DEFAULT_HINT)

    def set_hint(self, text: str) -> None:
        self.hint_item.setPlainText(text)
        self._fit_hint()

    def _fit_hint(self) -> None:
        # Wrap within the visible width (a narrow window must not clip it), centred on the scene origin.
        visible_width = self.viewport().width() / self.zoom() - 2 * GRID_STEP
        self.hint_item.setTextWidth(max(GRID_STEP * 3, min(HINT_WIDTH, visible_width)))
        bounds = self.hint_item.boundingRect()
        self.hint_item.setPos(-bounds.width() / 2, -bounds.height() / 2)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_hint()

    def hint(self) -> str:
        return self.hint_item.toPlainText()

    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        """Scale by ``factor``, kept within MIN_ZOOM..MAX_ZOOM so the scene never vanishes or pixelates."""
        target = min(max(self.zoom() * factor, self.MIN_ZOOM), self.MAX_ZOOM)
        step = target / self.zoom()
        self.scale(step, step)

    def reset_view(self) -> None:
        self.resetTransform()
        self.centerOn(QPointF(0, 0))

    def wheelEvent(self, event) -> None:
        # The wheel zooms (as in node editors); dragging pans.
        degrees = event.angleDelta().y() / 8
        if degrees:
            self.zoom_by(1.25 ** (degrees / 15))
        event.accept()

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        base = self.palette().color(QPalette.ColorRole.Base)
        painter.fillRect(rect, base)
        dot = QColor(self.palette().color(QPalette.ColorRole.Text))
        dot.setAlpha(40)
        painter.setPen(dot)
        left = int(rect.left()) - int(rect.left()) % GRID_STEP
        top = int(rect.top()) - int(rect.top()) % GRID_STEP
        points = [
            QPointF(x, y)
            for x in range(left, int(rect.right()) + 1, GRID_STEP)
            for y in range(top, int(rect.bottom()) + 1, GRID_STEP)
        ]
        painter.drawPoints(points)
