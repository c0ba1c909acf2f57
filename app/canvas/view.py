"""CanvasView: shows the NetworkScene; zoom (wheel, Ctrl+=/-), pan (middle button, or Space and drag),
fit to view, rubber-band selection, and drops of layer types dragged from the palette.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette
from PySide6.QtWidgets import QGraphicsView, QWidget

import engine
from app.document.errors import DocumentError

LAYER_TYPE_MIME = "application/x-layerlab-layer-type"
EMPTY_HINT = "Drag a layer from the palette onto the canvas,\nor double-click it, to start a network."
GRID_STEP = 24
FIT_MARGIN = 24


class CanvasView(QGraphicsView):
    MIN_ZOOM = 0.2
    MAX_ZOOM = 4.0
    MAX_FIT_ZOOM = 1.0  # fitting a small network must not blow it up

    def __init__(self, scene, parent: QWidget | None = None):
        super().__init__(scene, parent)
        self.setObjectName("CanvasView")
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        # Panning is by dragging, as in node editors; scrollbars would only take space.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)
        self.setAcceptDrops(True)
        self._pan_from: QPointF | None = None
        self._space_held = False
        # After "fit to view", resizes refit until the person zooms or pans (a window still settling its
        # docks must not leave the network tiny or cut off).
        self._auto_fit = False
        self._drop_edge = None

    def sizeHint(self) -> QSize:
        # QGraphicsView asks for its scene's size (up to 2/3 of the screen); as the network grows the main
        # window would then squeeze the docks. The canvas takes what the docks leave instead.
        return QSize(480, 360)

    # -- zoom, pan, fit -------------------------------------------------------------------------------------

    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        """Scale by ``factor``, kept within MIN_ZOOM..MAX_ZOOM so the scene never vanishes or pixelates."""
        self._auto_fit = False
        target = min(max(self.zoom() * factor, self.MIN_ZOOM), self.MAX_ZOOM)
        step = target / self.zoom()
        self.scale(step, step)

    def reset_view(self) -> None:
        self._auto_fit = False
        self.resetTransform()
        rect = self.scene().network_rect()
        self.centerOn(rect.center() if not rect.isNull() else QPointF(0, 0))

    def fit_to_view(self) -> None:
        """Show the whole network, at most at 100 %; kept fitted as the view resizes, until zoomed or panned."""
        rect = self.scene().network_rect()
        if rect.isNull():
            self.reset_view()
            return
        self._auto_fit = True
        rect = rect.adjusted(-FIT_MARGIN, -FIT_MARGIN, FIT_MARGIN, FIT_MARGIN)
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom() > self.MAX_FIT_ZOOM:
            self.resetTransform()
            self.scale(self.MAX_FIT_ZOOM, self.MAX_FIT_ZOOM)
        elif self.zoom() < self.MIN_ZOOM:
            self.resetTransform()
            self.scale(self.MIN_ZOOM, self.MIN_ZOOM)
        self.centerOn(rect.center())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._auto_fit:
            self.fit_to_view()

    def wheelEvent(self, event) -> None:
        # The wheel zooms (as in node editors); dragging with the middle button pans.
        degrees = event.angleDelta().y() / 8
        if degrees:
            self.zoom_by(1.25 ** (degrees / 15))
        event.accept()

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            self.viewport().unsetCursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def mousePressEvent(self, event) -> None:
        panning = event.button() == Qt.MouseButton.MiddleButton
        panning |= event.button() == Qt.MouseButton.LeftButton and self._space_held
        if panning:
            self._auto_fit = False
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - round(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(delta.y()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._pan_from is not None:
            self._pan_from = None
            if self._space_held:
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            else:
                self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    # -- drops from the palette ---------------------------------------------------------------------------

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasFormat(LAYER_TYPE_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if not event.mimeData().hasFormat(LAYER_TYPE_MIME):
            super().dragMoveEvent(event)
            return
        self._highlight_drop_edge(self.scene().edge_at(self.mapToScene(event.position().toPoint())))
        event.acceptProposedAction()

    def dragLeaveEvent(self, event) -> None:
        self._highlight_drop_edge(None)
        super().dragLeaveEvent(event)

    def dropEvent(self, event) -> None:
        mime = event.mimeData()
        if not mime.hasFormat(LAYER_TYPE_MIME):
            super().dropEvent(event)
            return
        self._highlight_drop_edge(None)
        layer_type = bytes(mime.data(LAYER_TYPE_MIME)).decode("utf-8")
        self.drop_layer_type(layer_type, self.mapToScene(event.position().toPoint()))
        event.acceptProposedAction()

    def drop_layer_type(self, layer_type: str, scene_pos: QPointF) -> str | None:
        """Add ``layer_type`` where it was dropped: into the connection under it, or on its own."""
        scene = self.scene()
        edge = scene.edge_at(scene_pos)
        position = (scene_pos.x(), scene_pos.y())
        try:
            if edge is not None:
                node_id = scene.editor.insert_on_edge(layer_type, edge, position)
                scene.status_message.emit(f"Inserted {node_id} between {edge[0]} and {edge[1]}")
            else:
                node_id = scene.editor.add_node(layer_type, position)
                scene.status_message.emit(f"Added {node_id}")
        except (DocumentError, engine.SpecError) as error:  # SpecError: a type this engine does not know
            scene.status_message.emit(f"Cannot add {layer_type} there: {error}")
            return None
        scene.select_nodes([node_id])
        self.setFocus()
        return node_id

    def _highlight_drop_edge(self, edge) -> None:
        items = self.scene().edge_items
        if self._drop_edge is not None and self._drop_edge in items:
            items[self._drop_edge].set_highlighted(False)
        self._drop_edge = edge
        if edge is not None:
            items[edge].set_highlighted(True)

    # -- painting -----------------------------------------------------------------------------------------

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        base = self.palette().color(QPalette.ColorRole.Base)
        painter.fillRect(rect, base)
        if self.zoom() < 0.5:
            return  # a dense grid at low zoom is only noise (and slow)
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

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        if self.scene().node_items:
            return
        # The hint is drawn in viewport coordinates, so it stays centred and readable at any zoom.
        painter.save()
        painter.resetTransform()
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        painter.setFont(font)
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(self.viewport().rect().adjusted(GRID_STEP, 0, -GRID_STEP, 0),
                         Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, EMPTY_HINT)
        painter.restore()
