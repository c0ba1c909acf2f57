"""The design, small: a second, read-only view of the canvas's scene, for the Train workspace.

    overview = DesignOverview(window.scene)
    overview.edit_requested.connect(lambda: workspaces.switch("design"))   # a double-click

It always shows the whole network (refitted as the view resizes and as the design changes), so while the
dashboard takes the window the person still sees what is training. Editing happens on the canvas: this view
takes no clicks, drags or drops, and a double-click asks for the Design workspace.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsView, QWidget

FIT_MARGIN = 12


class DesignOverview(QGraphicsView):
    edit_requested = Signal()

    def __init__(self, scene, parent: QWidget | None = None):
        super().__init__(scene, parent)
        self.setObjectName("DesignOverview")
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setInteractive(False)  # the scene's items never see this view's mouse: no moves, no wiring
        self.setAcceptDrops(False)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setToolTip("The design being trained. Double-click to edit it in the Design workspace.")
        # A design edit moves many items at once: refit once, after the scene has settled.
        self._refit_soon = QTimer(self, singleShot=True, interval=0)
        self._refit_soon.timeout.connect(self.fit_network)
        scene.changed.connect(lambda _regions: self._refit_soon.start() if self.isVisible() else None)

    def sizeHint(self) -> QSize:
        return QSize(240, 200)

    def minimumSizeHint(self) -> QSize:
        return QSize(80, 60)

    def fit_network(self) -> None:
        """Show the whole network (never above 100 %: a two-layer design stays its own size)."""
        rect = self.scene().network_rect()
        if rect.isNull():
            return
        self.fitInView(rect.adjusted(-FIT_MARGIN, -FIT_MARGIN, FIT_MARGIN, FIT_MARGIN),
                       Qt.AspectRatioMode.KeepAspectRatio)
        if self.transform().m11() > 1.0:
            self.resetTransform()
            self.centerOn(rect.center())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit_network()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.fit_network()

    def mouseDoubleClickEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.edit_requested.emit()
        event.accept()
