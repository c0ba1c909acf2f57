"""A node on the canvas: an accent bar in its palette group's colour, its id and type on the first line,
its output shape and parameter count on the second; an error style with the engine's message as tooltip.

The item holds no network data of its own: the scene hands it what the document and shape inference say.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QFont, QFontMetricsF, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject

from app.canvas import style
from app.canvas.port_item import PortItem
from app.formatting import format_compact_count, format_shape


class NodeItem(QGraphicsObject):
    def __init__(self, node_id: str, layer_type: str, has_input: bool = True):
        super().__init__()
        self.node_id = node_id
        self.layer_type = layer_type
        self.edges: set = set()  # EdgeItems attached here; they follow when the node moves
        self.detail = ""
        self.problems: list[str] = []
        flags = QGraphicsItem.GraphicsItemFlag
        self.setFlags(flags.ItemIsSelectable | flags.ItemIsMovable | flags.ItemSendsGeometryChanges)
        self.setAcceptHoverEvents(True)
        self.setZValue(1)
        self.input_port = PortItem(self, is_input=True) if has_input else None
        self.output_port = PortItem(self, is_input=False)
        self._title_font = QFont()
        self._title_font.setBold(True)
        self._title_font.setPointSizeF(self._title_font.pointSizeF() * 1.1)
        self._detail_font = QFont()
        self._refresh_tooltip()

    def ports(self) -> list[PortItem]:
        return [p for p in (self.input_port, self.output_port) if p is not None]

    # -- what the scene tells it --------------------------------------------------------------------------

    def set_node_id(self, node_id: str) -> None:
        self.node_id = node_id
        self._refresh_tooltip()
        self.update()

    def set_analysis(self, info, problems: list[str], upstream_unknown: bool) -> None:
        """Show ``info`` (an engine NodeInfo, or None when the shape is unknown) and the node's problems."""
        if problems:
            detail = "⚠ " + problems[0].split(": ", 1)[-1]
        elif info is not None:
            detail = f"{format_shape(info.output_shape)}"
            if info.params:
                detail += f"  ·  {format_compact_count(info.params)} params"
        else:
            detail = "shape unknown (fix the nodes above)" if upstream_unknown else "shape unknown"
        if (detail, problems) != (self.detail, self.problems):
            self.detail, self.problems = detail, list(problems)
            self._refresh_tooltip()
            self.update()

    @property
    def is_invalid(self) -> bool:
        return bool(self.problems)

    def _refresh_tooltip(self) -> None:
        lines = [f"<b>{html.escape(self.node_id)}</b> ({html.escape(self.layer_type)})"]
        lines += [f"<span style='color:{style.ERROR_TEXT}'>{html.escape(p, quote=False)}</span>"
                  for p in self.problems]
        self.setToolTip("<br>".join(lines))

    # -- geometry and painting ----------------------------------------------------------------------------

    def body_rect(self) -> QRectF:
        return QRectF(-style.NODE_WIDTH / 2, -style.NODE_HEIGHT / 2, style.NODE_WIDTH, style.NODE_HEIGHT)

    def boundingRect(self) -> QRectF:
        return self.body_rect().adjusted(-2, -2, 2, 2)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self.body_rect(), style.NODE_RADIUS, style.NODE_RADIUS)
        return path

    def header_texts(self, width: float | None = None) -> tuple[str, str]:
        """(id, type) as the first line shows them in ``width`` pixels (default: the node's). The id names this
        node, the type only its kind: where both do not fit (deconv1 beside Conv2DTranspose) the type gives way
        first, down to a third of the line, then the id is shortened too."""
        if width is None:
            rect = self.body_rect()
            width = rect.width() - style.ACCENT_WIDTH - 2 * style.PADDING
        type_metrics, title_metrics = QFontMetricsF(self._detail_font), QFontMetricsF(self._title_font)
        type_room = max(width - title_metrics.horizontalAdvance(self.node_id) - 8, width / 3)
        layer_type = type_metrics.elidedText(self.layer_type, Qt.TextElideMode.ElideRight, type_room)
        title_room = width - type_metrics.horizontalAdvance(layer_type) - 8
        return title_metrics.elidedText(self.node_id, Qt.TextElideMode.ElideRight, title_room), layer_type

    def paint(self, painter, option, widget=None):
        rect = self.body_rect()
        invalid = self.is_invalid
        colors = style.colors_of(self)
        painter.setBrush(QBrush(colors.error_fill if invalid else colors.node_fill))
        if self.isSelected():
            pen = QPen(colors.selected, 2.5)
        elif invalid:
            pen = QPen(colors.error_border, 2.0)
        else:
            pen = QPen(colors.node_border, 1.0)
        painter.setPen(pen)
        painter.drawRoundedRect(rect, style.NODE_RADIUS, style.NODE_RADIUS)

        # The accent bar: the palette group's colour down the left side, clipped to the rounded body.
        painter.save()
        painter.setClipPath(self.shape())
        painter.fillRect(QRectF(rect.left(), rect.top(), style.ACCENT_WIDTH, rect.height()),
                         style.group_color(self.layer_type))
        painter.restore()

        left = rect.left() + style.ACCENT_WIDTH + style.PADDING
        width = rect.right() - style.PADDING - left
        top_line = QRectF(left, rect.top() + 4, width, rect.height() / 2 - 4)
        bottom_line = QRectF(left, rect.center().y(), width, rect.height() / 2 - 4)

        title, layer_type = self.header_texts(width)
        painter.setFont(self._detail_font)
        type_metrics = QFontMetricsF(self._detail_font)
        painter.setPen(colors.node_detail_text)
        painter.drawText(top_line, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, layer_type)

        painter.setFont(self._title_font)
        painter.setPen(colors.node_text)
        title_rect = top_line.adjusted(0, 0, -(type_metrics.horizontalAdvance(layer_type) + 8), 0)
        painter.drawText(title_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title)

        painter.setFont(self._detail_font)
        painter.setPen(colors.error_text if invalid else colors.node_detail_text)
        detail = type_metrics.elidedText(self.detail, Qt.TextElideMode.ElideRight, bottom_line.width())
        painter.drawText(bottom_line, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, detail)

    def itemChange(self, change, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:
                edge.update_path()
        return super().itemChange(change, value)
