"""Dragging a new connection from a port: before the pointer moves, every port it could end at is asked
(``NetworkDocument.connection_problem``: cycles, input counts, and shape inference on the would-be spec)
and drawn as accepting or refusing; the drop connects only at an accepting port.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from app.canvas import style
from app.canvas.edge_item import connection_path
from app.canvas.node_item import NodeItem
from app.canvas.port_item import PortItem, PortState


class ConnectionDrag:
    def __init__(self, scene, start_port: PortItem):
        self.scene = scene
        self.start_port = start_port
        self.verdicts: dict[PortItem, str | None] = {}  # candidate port -> why it refuses (None: accepts)
        self.targeted: PortItem | None = None
        for node_item in scene.node_items.values():
            if node_item is start_port.node_item:
                continue
            port = node_item.output_port if start_port.is_input else node_item.input_port
            if port is None:
                continue
            reason = scene.document.connection_problem(*self._edge_to(port))
            self.verdicts[port] = reason
            port.set_state(PortState.REFUSES if reason else PortState.ACCEPTS, reason or "")
        self.line = QGraphicsPathItem()
        pen = QPen(QColor(style.SELECTED_BORDER), 2.0, Qt.PenStyle.DashLine)
        self.line.setPen(pen)
        self.line.setZValue(3)
        scene.addItem(self.line)
        self.move_to(start_port.scenePos())

    def _edge_to(self, port: PortItem) -> tuple[str, str]:
        """(source, target) of the connection that would end at ``port``."""
        if self.start_port.is_input:
            return port.node_id, self.start_port.node_id
        return self.start_port.node_id, port.node_id

    def port_at(self, scene_pos: QPointF) -> PortItem | None:
        """The candidate port under the pointer; over a node's body, that node's candidate port."""
        for item in self.scene.items(scene_pos):
            if item in self.verdicts:
                return item
            node = item if isinstance(item, NodeItem) else item.parentItem()
            if isinstance(node, NodeItem):
                port = node.output_port if self.start_port.is_input else node.input_port
                if port in self.verdicts:
                    return port
        return None

    def move_to(self, scene_pos: QPointF) -> str | None:
        """Follow the pointer; returns why the port under it refuses, if it does."""
        port = self.port_at(scene_pos)
        if self.targeted is not None and self.targeted is not port:
            self.targeted.set_state(PortState.ACCEPTS)
            self.targeted = None
        end = scene_pos
        if port is not None and self.verdicts[port] is None:
            port.set_state(PortState.TARGETED)
            self.targeted = port
            end = port.scenePos()
        start = self.start_port.scenePos()
        self.line.setPath(connection_path(end, start) if self.start_port.is_input else connection_path(start, end))
        return self.verdicts[port] if port is not None else None

    def finish(self, scene_pos: QPointF) -> tuple[tuple[str, str] | None, str | None]:
        """End the drag: (the edge to make, None), (None, why it is refused) or (None, None) off any port."""
        port = self.port_at(scene_pos)
        self.cancel()
        if port is None:
            return None, None
        edge = self._edge_to(port)
        reason = self.verdicts[port]
        return (None, f"Cannot connect {edge[0]} → {edge[1]}: {reason}") if reason else (edge, None)

    def cancel(self) -> None:
        for port in self.verdicts:
            port.set_state(PortState.IDLE)
        if self.line.scene() is not None:
            self.scene.removeItem(self.line)
