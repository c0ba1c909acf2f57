"""NetworkScene: the document drawn as items, kept in step through the document's signals only.

Items are made when a node or edge is added and dropped when it is removed; an analysis updates the
texts of the items that exist (nothing is rebuilt on an edit). Mouse work becomes editor calls — a
finished drag becomes one move, a port-to-port drag one connection — and the document's signals then
bring the items up to date, which is also all that undo and redo need.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtWidgets import QGraphicsScene

from app.canvas.connection_drag import ConnectionDrag
from app.canvas.edge_item import EdgeItem
from app.canvas.node_item import NodeItem
from app.canvas.port_item import PortItem
from app.canvas.style import CanvasColors
from app.document.errors import DocumentError
from app.formatting import format_shape

MIN_SCENE_RECT = QRectF(-2000, -1500, 4000, 3000)
SCENE_MARGIN = 1500


class NetworkScene(QGraphicsScene):
    status_message = Signal(str)  # something the person should read (a refused connection...)

    def __init__(self, editor, parent=None):
        super().__init__(parent)
        self.editor = editor
        self.document = editor.document
        self.node_items: dict[str, NodeItem] = {}
        self.edge_items: dict[tuple[str, str], EdgeItem] = {}
        self.connection_drag: ConnectionDrag | None = None
        self._press_positions: dict[str, QPointF] = {}
        self._drop_edge: EdgeItem | None = None  # where a loose node being dragged would be inserted
        # What the items paint with: worked out from the palette, again whenever the palette (the theme)
        # changes; an export paints with its own white-page colours for a moment (use_colors).
        self.colors = CanvasColors.for_palette(self.palette())
        self._fixed_colors: CanvasColors | None = None
        self.setSceneRect(MIN_SCENE_RECT)

        document = self.document
        document.reset.connect(self._rebuild)
        document.node_added.connect(self._add_node_item)
        document.node_removed.connect(self._remove_node_item)
        document.node_renamed.connect(self._rename_node_item)
        document.node_moved.connect(self._move_node_item)
        document.edge_added.connect(self._add_edge_item)
        document.edge_removed.connect(self._remove_edge_item)
        document.analysis_changed.connect(self._show_analysis)
        self._rebuild()

    # -- following the theme ------------------------------------------------------------------------------

    def event(self, event) -> bool:
        # The application palette reaches the scene as a PaletteChange (QApplication.setPalette sends it to
        # every scene); the views repaint their background themselves.
        if event.type() == QEvent.Type.PaletteChange:
            self.refresh_colors()
        return super().event(event)

    def refresh_colors(self) -> None:
        """Work the colours out again from the palette (or keep the ones use_colors fixed) and repaint."""
        self.colors = self._fixed_colors or CanvasColors.for_palette(self.palette())
        for item in self.edge_items.values():
            item.apply_colors(self.colors)
        self.update()

    def use_colors(self, colors: CanvasColors | None) -> None:
        """Paint with ``colors`` until called with None, which returns to the palette's."""
        self._fixed_colors = colors
        self.refresh_colors()

    # -- following the document ---------------------------------------------------------------------------

    def _rebuild(self) -> None:
        for item in list(self.node_items.values()) + list(self.edge_items.values()):
            self.removeItem(item)
        self.node_items.clear()
        self.edge_items.clear()
        for node_id in self.document.node_ids():
            self._add_node_item(node_id)
        for source, target in self.document.edges():
            self._add_edge_item(source, target)
        self._show_analysis(self.document.report)

    def _add_node_item(self, node_id: str) -> None:
        layer_type = self.document.node_type(node_id)
        item = NodeItem(node_id, layer_type, has_input=layer_type != "Input")
        item.setPos(QPointF(*self.document.position(node_id)))
        self.addItem(item)
        self.node_items[node_id] = item
        self._grow_scene_rect(item)

    def _remove_node_item(self, node_id: str) -> None:
        self.removeItem(self.node_items.pop(node_id))

    def _rename_node_item(self, old_id: str, new_id: str) -> None:
        item = self.node_items.pop(old_id)
        item.set_node_id(new_id)
        self.node_items[new_id] = item
        self.edge_items = {edge_item.edge: edge_item for edge_item in self.edge_items.values()}

    def _move_node_item(self, node_id: str) -> None:
        item = self.node_items[node_id]
        position = QPointF(*self.document.position(node_id))
        if item.pos() != position:
            item.setPos(position)
        self._grow_scene_rect(item)

    def _add_edge_item(self, source: str, target: str) -> None:
        item = EdgeItem(self.node_items[source], self.node_items[target])
        item.apply_colors(self.colors)
        self.addItem(item)
        self.edge_items[(source, target)] = item

    def _remove_edge_item(self, source: str, target: str) -> None:
        item = self.edge_items.pop((source, target))
        item.detach()
        self.removeItem(item)

    def _show_analysis(self, report) -> None:
        unknown_upstream = bool(report.errors)
        for node_id, item in self.node_items.items():
            item.set_analysis(report.nodes.get(node_id), self.document.problems_of(node_id), unknown_upstream)
        for (source, _), item in self.edge_items.items():
            info = report.nodes.get(source)
            item.set_shape_text(format_shape(info.output_shape) if info else "?")

    def _grow_scene_rect(self, item) -> None:
        # Room to pan around the network, and never less than the initial area.
        wanted = item.sceneBoundingRect().adjusted(-SCENE_MARGIN, -SCENE_MARGIN, SCENE_MARGIN, SCENE_MARGIN)
        if not self.sceneRect().contains(wanted):
            self.setSceneRect(self.sceneRect().united(wanted))

    # -- selection ----------------------------------------------------------------------------------------

    def selected_node_ids(self) -> list[str]:
        chosen = {item.node_id for item in self.selectedItems() if isinstance(item, NodeItem)}
        return [node_id for node_id in self.document.node_ids() if node_id in chosen]

    def selected_edges(self) -> list[tuple[str, str]]:
        return [item.edge for item in self.selectedItems() if isinstance(item, EdgeItem)]

    def select_nodes(self, node_ids) -> None:
        self.clearSelection()
        for node_id in node_ids:
            if node_id in self.node_items:
                self.node_items[node_id].setSelected(True)

    def select_all(self) -> None:
        for item in list(self.node_items.values()) + list(self.edge_items.values()):
            item.setSelected(True)

    def edge_at(self, scene_pos: QPointF, ignore: str | None = None) -> tuple[str, str] | None:
        """The connection under ``scene_pos`` (a node dropped there is inserted into it)."""
        for item in self.items(scene_pos):
            if isinstance(item, EdgeItem) and ignore not in item.edge:
                return item.edge
        return None

    def _loose_node_dragged(self) -> str | None:
        """The one node being dragged, if it has no connections yet (it may be dropped into one)."""
        if len(self._press_positions) != 1:
            return None
        node_id = next(iter(self._press_positions))
        document = self.document
        loose = not document.inputs_of(node_id) and not document.consumers_of(node_id)
        return node_id if loose and document.node_type(node_id) != "Input" else None

    def _highlight_drop_edge(self, edge: tuple[str, str] | None) -> None:
        item = self.edge_items.get(edge) if edge else None
        if self._drop_edge is not None and self._drop_edge is not item:
            self._drop_edge.set_highlighted(False)
        self._drop_edge = item
        if item is not None:
            item.set_highlighted(True)

    def network_rect(self) -> QRectF:
        """What a picture of the design must show: every node and edge with its label."""
        rect = QRectF()
        for item in list(self.node_items.values()) + list(self.edge_items.values()):
            rect = rect.united(item.sceneBoundingRect())
            if isinstance(item, EdgeItem):
                rect = rect.united(item.label.sceneBoundingRect())
        return rect

    # -- mouse work becomes edits -------------------------------------------------------------------------

    def start_connection(self, port: PortItem) -> ConnectionDrag:
        self.connection_drag = ConnectionDrag(self, port)
        return self.connection_drag

    def finish_connection(self, scene_pos: QPointF) -> None:
        drag, self.connection_drag = self.connection_drag, None
        edge, refusal = drag.finish(scene_pos)
        if refusal:
            self.status_message.emit(refusal)
        elif edge:
            try:
                self.editor.connect(*edge)
            except DocumentError as error:
                self.status_message.emit(f"Cannot connect {edge[0]} → {edge[1]}: {error}")
            else:
                self.status_message.emit(f"Connected {edge[0]} → {edge[1]}")

    def mousePressEvent(self, event):
        if event.button() == Qt.MouseButton.LeftButton:
            port = next((i for i in self.items(event.scenePos()) if isinstance(i, PortItem)), None)
            if port is not None:
                self.start_connection(port)
                event.accept()
                return
        super().mousePressEvent(event)
        self._press_positions = {node_id: self.node_items[node_id].pos() for node_id in self.selected_node_ids()}

    def mouseMoveEvent(self, event):
        if self.connection_drag is not None:
            reason = self.connection_drag.move_to(event.scenePos())
            if reason:
                self.status_message.emit(f"Refused: {reason}")
            event.accept()
            return
        super().mouseMoveEvent(event)
        loose = self._loose_node_dragged() if event.buttons() & Qt.MouseButton.LeftButton else None
        if loose is not None:
            self._highlight_drop_edge(self.edge_at(self.node_items[loose].scenePos(), ignore=loose))

    def mouseReleaseEvent(self, event):
        if self.connection_drag is not None:
            self.finish_connection(event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        moved = {node_id: (item.pos().x(), item.pos().y())
                 for node_id, start in self._press_positions.items()
                 if (item := self.node_items.get(node_id)) is not None and item.pos() != start}
        loose = self._loose_node_dragged() if moved else None
        self._highlight_drop_edge(None)
        self._press_positions = {}
        edge = self.edge_at(self.node_items[loose].scenePos(), ignore=loose) if loose else None
        if edge is not None:
            self.editor.insert_existing_on_edge(loose, edge, moved[loose])
            self.status_message.emit(f"Inserted {loose} between {edge[0]} and {edge[1]}")
        elif moved:
            self.editor.move_nodes(moved)
