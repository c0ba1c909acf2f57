"""The design as a picture: PNG (at twice the screen's resolution, for slides) or SVG (QtSvg, in
PySide6-Essentials). Selection and the grid are left out; the background is plain white, and the items are
drawn in their light colours whatever the theme on screen (a picture for slides and papers).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QIODevice, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgGenerator

import engine
from app.canvas.style import EXPORT_BASE, CanvasColors

MARGIN = 24
PNG_SCALE = 2.0


class ExportError(OSError):
    """The picture could not be written; the message names the file."""


def _write(path: Path, buffer: QBuffer) -> None:
    """The rendered bytes to ``path`` through ``engine.atomic_write``: never a half-written picture."""
    data = bytes(buffer.data())
    try:
        engine.atomic_write(path, lambda handle: handle.write(data))
    except OSError as error:
        raise ExportError(f"{path}: cannot be written ({error.strerror or error})") from None


def _picture_rect(scene) -> QRectF:
    rect = scene.network_rect()
    if rect.isNull():
        raise ExportError("there is nothing to export: the network has no nodes")
    return rect.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)


def _render(scene, painter: QPainter, target: QRectF, source: QRectF) -> None:
    selected = scene.selectedItems()
    for item in selected:  # a picture shows the design, not what happened to be selected
        item.setSelected(False)
    scene.use_colors(CanvasColors.for_export())
    try:
        painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        painter.fillRect(target, QColor(EXPORT_BASE))
        # The scene's own background (grid dots) is skipped by rendering with no background brush.
        scene.render(painter, target, source, Qt.AspectRatioMode.KeepAspectRatio)
    finally:
        scene.use_colors(None)
        for item in selected:
            item.setSelected(True)


def export_png(scene, path) -> Path:
    path = Path(path)
    source = _picture_rect(scene)
    size = QSize(round(source.width() * PNG_SCALE), round(source.height() * PNG_SCALE))
    image = QImage(size, QImage.Format.Format_ARGB32)
    image.fill(QColor(EXPORT_BASE))
    painter = QPainter(image)
    _render(scene, painter, QRectF(0, 0, size.width(), size.height()), source)
    painter.end()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise ExportError(f"{path}: cannot be written (Qt could not encode the PNG)")
    _write(path, buffer)
    return path


def export_svg(scene, path) -> Path:
    path = Path(path)
    source = _picture_rect(scene)
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(QSize(round(source.width()), round(source.height())))
    generator.setViewBox(QRectF(0, 0, source.width(), source.height()))
    generator.setTitle(scene.document.name)
    generator.setDescription("A LayerLab network design")
    painter = QPainter()
    if not painter.begin(generator):
        raise ExportError(f"{path}: cannot be written (Qt could not start the SVG)")
    _render(scene, painter, QRectF(0, 0, source.width(), source.height()), source)
    painter.end()
    _write(path, buffer)
    return path
