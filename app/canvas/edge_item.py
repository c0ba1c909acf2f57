"""A connection: a curve from one node's output port to another's input port, labelled with the shape
of the tensor it carries. It follows its nodes when they move; it never changes the document itself.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainterPath, QPainterPathStroker, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsSimpleTextItem

from app.canvas import style

PICK_WIDTH = 12.0  # how far from the curve a click still selects it
ARROW_SIZE = 7.0


def connection_path(start: QPointF, end: QPointF) -> QPainterPath:
    """A vertical S-curve: leaves an output downwards and enters an input from above."""
    path = QPainterPath(start)
    bend = max(30.0, abs(end.y() - start.y()) / 2)
    path.cubicTo(QPointF(start.x(), start.y() + bend), QPointF(end.x(), end.y() - bend), end)
    return path


class EdgeItem(QGraphicsPathItem):
    def __init__(self, source_item, target_item):
        super().__init__()
        self.source_item, self.target_item = source_item, target_item
        source_item.edges.add(self)
        target_item.edges.add(self)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(0)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.label = QGraphicsSimpleTextItem(self)
        font = QFont()
        font.setPointSizeF(font.pointSizeF() * 0.85)
        self.label.setFont(font)
        self.highlighted = False  # a layer dragged from the palette would be inserted here
        self.update_path()

    @property
    def edge(self) -> tuple[str, str]:
        return self.source_item.node_id, self.target_item.node_id

    def detach(self) -> None:
        self.source_item.edges.discard(self)
        self.target_item.edges.discard(self)

    def set_highlighted(self, highlighted: bool) -> None:
        if highlighted != self.highlighted:
            self.highlighted = highlighted
            self.update()

    def apply_colors(self, colors: style.CanvasColors) -> None:
        """Take the scene's colours (the label is a child item with its own brush; the curve reads them when
        it paints)."""
        self.label.setBrush(colors.edge_label)
        self.update()

    def set_shape_text(self, text: str) -> None:
        self.label.setText(text)
        self.setToolTip(f"{self.edge[0]} → {self.edge[1]}: {text}")
        self._place_label()

    def update_path(self) -> None:
        start = self.source_item.output_port.scenePos()
        end = self.target_item.input_port.scenePos() if self.target_item.input_port else self.target_item.scenePos()
        self.setPath(connection_path(start, end))
        self._place_label()

    def _place_label(self) -> None:
        middle = self.path().pointAtPercent(0.5)
        bounds = self.label.boundingRect()
        self.label.setPos(middle.x() + 8, middle.y() - bounds.height() / 2)

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(PICK_WIDTH)
        return stroker.createStroke(self.path())

    def boundingRect(self):
        return super().boundingRect().adjusted(-ARROW_SIZE, -ARROW_SIZE, ARROW_SIZE, ARROW_SIZE)

    def paint(self, painter, option, widget=None):
        emphasised = self.isSelected() or self.highlighted
        colors = style.colors_of(self)
        color = QColor(colors.selected if emphasised else colors.edge)
        painter.setPen(QPen(color, 3.0 if emphasised else 1.6))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path())
        # An arrowhead just above the input port shows which way data flows.
        end = self.path().pointAtPercent(1.0)
        tip = QPointF(end.x(), end.y() - style.PORT_RADIUS)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(color))
        painter.drawPolygon(QPolygonF([tip, QPointF(tip.x() - ARROW_SIZE / 2, tip.y() - ARROW_SIZE),
                                       QPointF(tip.x() + ARROW_SIZE / 2, tip.y() - ARROW_SIZE)]))
