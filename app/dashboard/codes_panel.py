"""Codes: for an autoencoder whose bottleneck holds two values, the test set's codes as points on a plane,
coloured (and marked) by digit, and beside them the image any point of the plane decodes to: click anywhere,
or hold the button and drag to watch the image change (as ConvNetJS's autoencoder demo does).

The bottleneck is the node every path from input to output passes through with the fewest values
(``engine.latent.find_bottleneck``); the codes are its outputs (``engine.latent.encode``) and a point is
decoded by running the nodes after it (``engine.latent.decode``). Both run on a background thread, on a network
copy only that thread uses: the codes at each snapshot while the tab shows (newer snapshots collapse into one
follow-up), a point as it is chosen (while one is decoded, the newest point chosen meanwhile waits; those in
between are skipped). A point is decoded with the weights the plane shows, so the image belongs to the plane
under the pointer. The dashboard hides this tab for designs without a 2-value bottleneck.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

import engine
from app.dashboard.background import BackgroundTasks, LatestOnly
from app.dashboard.class_colours import CLASS_SYMBOLS, class_colours
from app.dashboard.snapshot_pictures import GREY, SnapshotCopy, example_picture, picture_levels

CODE_POINTS = 2000  # test images on the plane: enough to see each digit's region, fast to encode each snapshot
POINT_SIZE = 6
DECODED_SIDE = (120, 420)  # the decoded image's side in pixels: at least, at most
LEGEND_ROW_HEIGHT = 22  # a legend line of 8 pt text
LEGEND_MARGIN = 30
PLANE_SIZE = 2  # values a bottleneck must hold to be drawn as a plane


class DecodingViewBox(pg.ViewBox):
    """A plot's view box where the left button chooses points instead of panning: a click chooses where it
    lands, a drag every place it passes. The wheel and the right button still zoom, as in every plot."""

    point_chosen = Signal(float, float)  # in the plane's coordinates

    def mouseClickEvent(self, ev):
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self._choose(ev.scenePos())
        else:
            super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev, axis=None):
        if ev.button() == Qt.MouseButton.LeftButton and axis is None:
            ev.accept()
            self._choose(ev.scenePos())
        else:
            super().mouseDragEvent(ev, axis)

    def _choose(self, scene_pos) -> None:
        point = self.mapSceneToView(scene_pos)
        self.point_chosen.emit(float(point.x()), float(point.y()))


class PassThroughScatter(pg.ScatterPlotItem):
    """Points that let clicks through to the plane under them: pyqtgraph offers a click to the items under the
    pointer in turn, and a scatter takes it when it lands on one of its points."""

    def mouseClickEvent(self, ev):
        ev.ignore()


def plane_bottleneck(run) -> tuple[str | None, int]:
    """(node id, values it holds) of the bottleneck of ``run``'s autoencoder, or (None, 0) where the design does
    not reconstruct its input or has no node every path passes through."""
    if not run.reconstructs:
        return None, 0
    network = run.inference_network
    node_id = engine.latent.find_bottleneck(network)
    if node_id is None:
        return None, 0
    return node_id, int(np.prod(network.shapes[node_id].output_shape))


class CodesPanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.caption = QLabel("Train an autoencoder with a 2-value bottleneck to see its codes here.")
        self.caption.setWordWrap(True)
        self.plots = pg.GraphicsLayoutWidget()
        self.view = DecodingViewBox()
        # The plane on the left; beside it, the decoded image under its title, a square that grows with the panel
        # (resizeEvent), and the legend under it (not under the plane, whose width it would set).
        self.plot = self.plots.addPlot(row=0, col=0, viewBox=self.view)
        self.plot.setLabel("bottom", "code 1")
        self.plot.setLabel("left", "code 2")
        self.legend_view = pg.GraphicsLayoutWidget()
        self.legend = pg.LegendItem(colCount=2, labelTextSize="8pt")
        self.legend_view.addItem(self.legend)
        self.decoded_title = QLabel("Click the plane to decode a point")
        self.decoded_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.decoded_title.setWordWrap(True)
        self.decoded_view = pg.GraphicsLayoutWidget()
        view = self.decoded_view.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        view.setMenuEnabled(False)
        self.decoded_image = pg.ImageItem(axisOrder="row-major")
        self.decoded_image.setColorMap(GREY)
        view.addItem(self.decoded_image)
        self.marker = PassThroughScatter(size=24, symbol="+")
        self.plot.addItem(self.marker, ignoreBounds=True)  # a click far out must not stretch the plane
        self.marker.setZValue(10)  # over the points, which are added later
        beside = QVBoxLayout()
        beside.addStretch(1)
        beside.addWidget(self.decoded_title)
        beside.addWidget(self.decoded_view, 0, Qt.AlignmentFlag.AlignHCenter)
        beside.addWidget(self.legend_view, 0, Qt.AlignmentFlag.AlignHCenter)
        beside.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.plots, 1)
        row.addLayout(beside)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row, 1)
        layout.addWidget(self.caption)
        self.run = None
        self.applies = False  # the dashboard shows this tab only for a run with a plane to draw
        self.node_id: str | None = None  # the bottleneck
        self.scatters: list[pg.ScatterPlotItem] = []  # one per class
        self.codes: np.ndarray | None = None  # (N, 2): the codes on the plane
        self.code_labels = np.zeros(0, dtype=np.int64)  # their class
        self.plane_snapshot = None  # the snapshot whose weights made the codes shown (and decode points)
        self.decoded_point: tuple[float, float] | None = None  # the point the decoded image shows
        self.decoded_output: np.ndarray | None = None  # its output, as the network gives it
        self.tasks = BackgroundTasks(self)
        self._copy = SnapshotCopy()
        self._encodings = LatestOnly(self.tasks)
        self._decodings = LatestOnly(self.tasks)  # while one runs, the newest point chosen waits
        self.view.point_chosen.connect(self.decode_point)

    # -- a run ---------------------------------------------------------------------------------------------
    def begin_run(self, run) -> None:
        node_id, size = plane_bottleneck(run)
        self.applies = node_id is not None and size == PLANE_SIZE and len(run.data.test_images) > 0
        self.run = run if self.applies else None
        self.node_id = node_id if self.applies else None
        self.codes, self.plane_snapshot = None, None
        self.decoded_point, self.decoded_output = None, None
        self.decoded_image.clear()
        self.marker.setData([])
        self.decoded_title.setText("Click the plane to decode a point")
        self._make_scatters(run.data.class_names if self.applies else ())
        if node_id is not None and size != PLANE_SIZE:
            self.caption.setText(f"The bottleneck {node_id!r} holds {size} values: a plane shows codes of 2. "
                                 "Make it a Dense layer of 2 units to see the codes here.")
        elif not self.applies:
            self.caption.setText("This run's design is not an autoencoder with a 2-value bottleneck: "
                                 "nothing to draw here.")
        else:
            count = min(CODE_POINTS, len(run.data.test_images))
            self.code_labels = _class_indices(run.data.test_labels[:count], len(run.data.class_names))
            self.caption.setText(f"Waiting for the first snapshot… (then the codes of {count:,} test images at "
                                 f"{node_id!r})")
        self.refresh()

    def _make_scatters(self, class_names) -> None:
        for scatter in self.scatters:
            self.plot.removeItem(scatter)
        self.legend.clear()
        self.scatters = []
        names = list(class_names) or ["codes"]
        for index, name in enumerate(names):
            scatter = PassThroughScatter(size=POINT_SIZE, pen=None, symbol=CLASS_SYMBOLS[index % len(CLASS_SYMBOLS)],
                                         name=str(name))
            self.plot.addItem(scatter)
            self.legend.addItem(scatter, str(name))
            self.scatters.append(scatter)
        self.legend_view.setFixedHeight(LEGEND_MARGIN + LEGEND_ROW_HEIGHT * -(-len(names) // 2))  # two a line
        self._colour_marks()

    def _colour_marks(self) -> None:
        """The classes' and the marker's colours for the theme's plot background (see class_colours)."""
        # The plots' own colours (app/plot_theme.py gives pyqtgraph the palette's Base and Text).
        palette = self.palette()
        background, foreground = palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text)
        colours = class_colours(background, foreground)
        for index, scatter in enumerate(self.scatters):
            scatter.setBrush(pg.mkBrush(colours[index % len(colours)]))
        self.marker.setBrush(pg.mkBrush(foreground))
        self.marker.setPen(pg.mkPen(QColor(background), width=1.5))

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # View > Theme: marks readable on the new background
            self._colour_marks()

    # -- the codes -----------------------------------------------------------------------------------------
    def refresh(self, event=None) -> None:
        run = self.run
        if run is None or run.latest_snapshot is None:
            return
        if event is not None and not self.isVisible():
            return  # a hidden tab does no work per snapshot; showing it catches up
        if self._encodings.defer(self.refresh):
            return
        if self.plane_snapshot is run.latest_snapshot:
            return  # already on the plane
        snapshot, node_id = run.latest_snapshot, self.node_id
        images = run.data.test_images[:len(self.code_labels)]

        def encode(_report):
            return engine.latent.encode(self._copy.holding(run, snapshot), images, node_id)

        self._encodings.submit(encode, lambda codes: self._show_codes(run, snapshot, codes), self._encode_failed)

    def _show_codes(self, run, snapshot, codes: np.ndarray) -> None:
        if run is self.run:
            self.codes = np.asarray(codes, dtype=np.float32).reshape(len(codes), PLANE_SIZE)
            self.plane_snapshot = snapshot
            for index, scatter in enumerate(self.scatters):
                chosen = self.code_labels == index
                scatter.setData(x=self.codes[chosen, 0], y=self.codes[chosen, 1])
            self.caption.setText(f"The codes of {len(self.codes):,} test images at {self.node_id!r} with the "
                                 f"weights of step {snapshot.step}, marked by digit. Click or drag anywhere on the "
                                 "plane: the image beside is what that point decodes to.")
            if self.decoded_point is not None:  # the image follows the new weights at the same place
                self.decode_point(*self.decoded_point)

    def _encode_failed(self, message: str) -> None:
        self.caption.setText(f"Could not compute the codes: {message}")

    # -- decoding a point ----------------------------------------------------------------------------------
    def decode_point(self, x: float, y: float) -> None:
        """Show what the point (x, y) of the plane decodes to (a click or a drag there)."""
        run = self.run
        if run is None:
            return
        snapshot = self.plane_snapshot or run.latest_snapshot
        if snapshot is None:
            self.caption.setText("The plane has no weights yet: wait for the first snapshot.")
            return
        self.marker.setData(x=[x], y=[y])
        if self._decodings.defer(lambda: self.decode_point(x, y)):
            return
        node_id = self.node_id
        code = np.array([[x, y]], dtype=np.float32)

        def decode(_report):
            return engine.latent.decode(self._copy.holding(run, snapshot), code, node_id)[0]

        self._decodings.submit(decode, lambda output: self._show_decoded(run, (x, y), snapshot, output),
                               self._decode_failed)

    def _show_decoded(self, run, point, snapshot, output: np.ndarray) -> None:
        if run is self.run:
            self.decoded_output = np.asarray(output)
            self.decoded_point = point
            picture = example_picture(self.decoded_output, run.input_shape)
            self.decoded_image.setImage(picture, levels=picture_levels(picture))
            self.decoded_title.setText(f"({point[0]:.2f}, {point[1]:.2f}) decodes to")

    def _decode_failed(self, message: str) -> None:
        self.caption.setText(f"Could not decode the point: {message}")

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        side = int(max(DECODED_SIDE[0], min(DECODED_SIDE[1], self.width() * 0.28, self.height() * 0.7)))
        self.decoded_view.setFixedSize(side, side)
        self.decoded_title.setFixedWidth(side)
        self.legend_view.setFixedWidth(side)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()


def _class_indices(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Each example's class index for colouring; all 0 (one colour) where the labels are not classes."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer) or num_classes == 0:
        return np.zeros(len(labels), dtype=np.int64)
    return np.where((labels >= 0) & (labels < num_classes), labels, 0).astype(np.int64)
