"""A port: the dot on a node's top edge (its input) or bottom edge (its output) that connections attach to.

While a connection is dragged, every port it could end at says whether it would accept it.
"""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QGraphicsItem

from app.canvas import style


class PortState(Enum):
    IDLE = "idle"
    ACCEPTS = "accepts"  # a dragged connection may end here
    REFUSES = "refuses"  # it may not: cycle or impossible shape (the tooltip says which)
    TARGETED = "targeted"  # the pointer is over this port, and it accepts


class PortItem(QGraphicsItem):
    def __init__(self, node_item, is_input: bool):
        super().__init__(node_item)
        self.node_item = node_item
        self.is_input = is_input
        self.state = PortState.IDLE
        self._hovered = False
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setZValue(2)
        self.setToolTip("Drag to an input to connect" if not is_input else "Drag to an output to connect")
        y = -style.NODE_HEIGHT / 2 if is_input else style.NODE_HEIGHT / 2
        self.setPos(0, y)

    @property
    def node_id(self) -> str:
        return self.node_item.node_id

    def boundingRect(self) -> QRectF:
        r = style.PORT_RADIUS * 1.6  # room to grow when hovered or targeted
        return QRectF(-r, -r, 2 * r, 2 * r)

    def set_state(self, state: PortState, reason: str = "") -> None:
        self.state = state
        if state is PortState.REFUSES:
            self.setToolTip(reason)
        elif state is PortState.IDLE:
            self.setToolTip("Drag to an input to connect" if not self.is_input else "Drag to an output to connect")
        self.update()

    def hoverEnterEvent(self, event):
        self._hovered = True
        self.update()

    def hoverLeaveEvent(self, event):
        self._hovered = False
        self.update()

    def paint(self, painter, option, widget=None):
        colors = style.colors_of(self)
        fill, border, grow = colors.port_fill, colors.node_border, 1.0
        if self.state is PortState.ACCEPTS:
            fill, border = QColor(style.PORT_ACCEPT).lighter(170), QColor(style.PORT_ACCEPT)
        elif self.state is PortState.TARGETED:
            fill, border, grow = QColor(style.PORT_ACCEPT), QColor(style.PORT_ACCEPT).darker(130), 1.5
        elif self.state is PortState.REFUSES:
            fill, border = QColor(style.PORT_REFUSE).lighter(180), QColor(style.PORT_REFUSE)
        if self._hovered and self.state is PortState.IDLE:
            grow, border = 1.35, colors.selected
        r = style.PORT_RADIUS * grow
        painter.setPen(QPen(border, 1.6))
        painter.setBrush(QBrush(fill))
        painter.drawEllipse(QRectF(-r, -r, 2 * r, 2 * r))
        if self.state is PortState.REFUSES:  # a cross, so refusal does not rely on colour alone
            d = r * 0.55
            painter.setPen(QPen(QColor(style.PORT_REFUSE), 1.6))
            painter.drawLine(QLineF(-d, -d, d, d))
            painter.drawLine(QLineF(-d, d, d, -d))
