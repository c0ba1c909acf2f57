"""The Draw panel's image mode, for a network that reads colour images (3xHxW): instead of a drawing pad, a
drop target. A person drops an image file on it, pastes (Ctrl+V or the Paste button: an image or an image
file copied in a file manager) or opens one; the picture is read off the GUI thread, resized to the model's
H x W (app/draw/picture.py) and handed on as ``picture_ready``; a file that cannot be read is named in
``message`` and whatever was shown stays.

    images = ImageInput()
    images.set_shape((3, 32, 32))                  # the model's input; a picture already in is read again
    images.picture_ready.connect(read_it)          # ModelPicture: .pixels (C, H, W) float32, .display
    images.load_file("cat.png")                    # what a drop, Open Image… and pasting a file URL call
    images.pad.set_overlay(heat_qimage_or_None)    # a saliency map over the whole picture
"""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import QEvent, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QImage, QKeySequence, QPainter
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

import engine
from app.draw.picture import ModelPicture, picture_from_file, picture_from_rgb
from app.file_dialogs import open_file_name
from app.tones import follow_tone

PLACEHOLDER = "Drop or paste an image"
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp)"


def local_files(mime) -> list[str]:
    """The local file paths a drag or the clipboard carries (a web address is not a file we can read)."""
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile()] if mime.hasUrls() else []


def rgb_array(image: QImage) -> np.ndarray:
    """A QImage as an (h, w, 3) uint8 RGB array, a copy (rows are padded to 4 bytes in the QImage)."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    rows = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.sizeInBytes()).reshape(height, stride)
    return rows[:, :3 * width].reshape(height, width, 3).copy()


class ImagePad(QWidget):
    """Shows the picture the network reads (kept in proportion) or, before one, says what to do; takes drops."""

    file_dropped = Signal(str)
    image_dropped = Signal(object)  # a QImage dragged from another application
    drop_refused = Signal(str)  # why a drop holds nothing to read
    pointer_entered = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # a click on it, then Ctrl+V
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(140, 140)
        self.setToolTip("Drop an image file here, or paste one (Ctrl+V)")
        self.picture: QImage | None = None
        self.overlay: QImage | None = None
        self._drag_over = False

    def set_picture(self, display: np.ndarray | None) -> None:
        if display is None:
            self.picture = None
        else:
            height, width = display.shape[:2]
            data = np.ascontiguousarray(display)
            self.picture = QImage(data.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
        self.overlay = None
        self.update()

    def set_overlay(self, overlay: QImage | None) -> None:
        self.overlay = overlay
        self.update()

    def picture_rect(self) -> QRectF:
        """Where the picture lies in the widget: as large as fits, in proportion, centred."""
        if self.picture is None:
            return QRectF(self.rect())
        scale = min(self.width() / self.picture.width(), self.height() / self.picture.height())
        width, height = self.picture.width() * scale, self.picture.height() * scale
        return QRectF((self.width() - width) / 2, (self.height() - height) / 2, width, height)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.base())
        if self.picture is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            target = self.picture_rect()
            painter.drawImage(target, self.picture)
            if self.overlay is not None:
                painter.drawImage(target, self.overlay)
        else:
            faint = QColor(palette.text().color())
            faint.setAlpha(160)
            painter.setPen(faint)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             f"{PLACEHOLDER}\n(PNG, JPEG, BMP, GIF, TIFF, WebP)")
        if self._drag_over or self.hasFocus():
            painter.setPen(palette.highlight().color())
            painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        painter.end()

    def enterEvent(self, event) -> None:
        self.pointer_entered.emit()
        super().enterEvent(event)

    def mousePressEvent(self, event) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        super().mousePressEvent(event)

    def focusInEvent(self, event) -> None:
        self.update()
        super().focusInEvent(event)

    def focusOutEvent(self, event) -> None:
        self.update()
        super().focusOutEvent(event)

    # -- drag and drop ------------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        mime = event.mimeData()
        if local_files(mime) or mime.hasImage():
            event.acceptProposedAction()
            self._drag_over = True
            self.update()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        mime = event.mimeData()
        if local_files(mime) or mime.hasImage():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event) -> None:
        self._drag_over = False
        self.update()

    def dropEvent(self, event) -> None:
        self._drag_over = False
        self.update()
        mime = event.mimeData()
        files = local_files(mime)
        event.acceptProposedAction()
        if files:
            self.file_dropped.emit(files[0])  # one picture is read at a time: the first of several
        elif mime.hasImage():
            self.image_dropped.emit(QImage(mime.imageData()))
        else:
            self.drop_refused.emit("The drop held no image file on this computer.")


class ImageInput(QWidget):
    """The image pad, its Open Image… and Paste buttons, and a line for a file that could not be read."""

    picture_ready = Signal(object)  # ModelPicture
    _read_done = Signal(int, object, str)  # (request, picture or None, why): from the reading thread

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.pad = ImagePad()
        self.open_button = QToolButton()
        self.open_button.setText("Open Image…")
        self.open_button.setToolTip("Choose an image file for the network to read")
        self.paste_button = QToolButton()
        self.paste_button.setText("Paste")
        self.paste_button.setToolTip("Read the image on the clipboard, or the image file copied there (Ctrl+V)")
        for button in (self.open_button, self.paste_button):
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.hide()  # until a colour model's shape comes (set_shape): no control in the tab order unseen
        self.message = QLabel()
        self.message.setWordWrap(True)
        follow_tone(self.message, "error")
        self.message.hide()
        buttons = QHBoxLayout()
        buttons.setSpacing(3)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.paste_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addWidget(self.pad, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        self.shape: tuple | None = None
        self.picture: ModelPicture | None = None
        self._source = None  # ("file", path) or ("rgb", array, name): read again when the shape changes
        self._reads = 0  # the newest read started; an older one finishing later is dropped
        self._pending_source = None  # the source of the newest read, kept once it succeeds
        self._read_done.connect(self._finished)
        self.pad.file_dropped.connect(self.load_file)
        self.pad.image_dropped.connect(lambda image: self.load_qimage(image, "the dropped image"))
        self.pad.drop_refused.connect(self.show_problem)
        self.open_button.clicked.connect(self._choose_file)
        self.paste_button.clicked.connect(self.paste)

    def set_shape(self, shape: tuple | None) -> None:
        """The model's input (C, H, W); a picture in already is read again at the new size. None: not in use."""
        shape = tuple(int(size) for size in shape) if shape is not None else None
        for button in (self.open_button, self.paste_button):
            button.setVisible(shape is not None)
            button.setEnabled(shape is not None)  # Draw > Open Image… and Paste Image follow them
        if shape is not None and shape != self.shape:
            self.shape = shape
            if self._source is not None:
                self._read(*self._source)

    def pixels(self) -> np.ndarray | None:
        """What the network reads, (C, H, W) float32 in [0, 1], or None before a picture."""
        return self.picture.pixels if self.picture is not None else None

    def clear(self) -> None:
        self._reads += 1
        self.picture, self._source = None, None
        self.pad.set_picture(None)

    def load_file(self, path: str) -> None:
        self._read("file", str(path))

    def load_qimage(self, image: QImage, name: str) -> None:
        if image.isNull():
            self.show_problem(f"{name[:1].upper()}{name[1:]} is empty.")
            return
        if image.width() * image.height() > engine.user_files.MAX_IMAGE_PIXELS:
            self.show_problem(f"{name[:1].upper()}{name[1:]} is {image.width():,} x {image.height():,} pixels; "
                              f"LayerLab reads images of at most {engine.user_files.MAX_IMAGE_PIXELS:,} pixels.")
            return
        self._read("rgb", rgb_array(image), name)

    def paste(self) -> None:
        """What the clipboard holds: an image file copied in a file manager, or an image."""
        mime = QGuiApplication.clipboard().mimeData()
        files = local_files(mime) if mime is not None else []
        if files:
            self.load_file(files[0])
        elif mime is not None and mime.hasImage():
            self.load_qimage(QImage(mime.imageData()), "the pasted image")
        else:
            self.show_problem("The clipboard holds no image: copy an image, or an image file, then paste.")

    def show_problem(self, text: str) -> None:
        self.message.setText(text)
        self.message.setToolTip(text)
        self.message.setVisible(bool(text))

    def event(self, event) -> bool:
        # Ctrl+V here is ours: the main window's Edit > Paste (the canvas's) must not take it as a shortcut.
        if event.type() == QEvent.Type.ShortcutOverride and event.matches(QKeySequence.StandardKey.Paste):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        # Ctrl+V (the platform's paste keys) anywhere in the image input: the pad, or a button with focus.
        if event.matches(QKeySequence.StandardKey.Paste):
            self.paste()
            event.accept()
        else:
            super().keyPressEvent(event)

    def _choose_file(self) -> None:
        path = open_file_name(self, "Open an image for the network to read", IMAGE_FILTER)
        if path:
            self.load_file(path)

    def _read(self, kind: str, *source) -> None:
        """Decode and resize on a thread of its own: a large photo takes a noticeable moment, and the GUI
        thread never waits for a file."""
        if self.shape is None:
            return
        self._reads += 1
        request, shape = self._reads, self.shape

        def work():
            try:
                if kind == "file":
                    picture = picture_from_file(source[0], shape)
                else:
                    picture = picture_from_rgb(source[0], shape, source[1])
            except engine.UserFileError as exc:
                picture, why = None, str(exc)
            except Exception as exc:  # noqa: BLE001 - a picture that cannot be read is a message, never a crash
                picture, why = None, f"{source[-1] if kind == 'rgb' else source[0]}: {engine.describe_error(exc)}"
            else:
                why = ""
            try:
                self._read_done.emit(request, picture, why)
            except RuntimeError:  # the panel was closed meanwhile
                pass

        self._pending_source = (kind, *source)
        threading.Thread(target=work, name="layerlab-image-read", daemon=True).start()

    def _finished(self, request: int, picture: ModelPicture | None, why: str) -> None:
        if request != self._reads:
            return  # a newer picture is on its way
        if picture is None:
            self.show_problem(f"Could not read {why}")
            return
        self._source = self._pending_source
        self.show_problem("")
        self.picture = picture
        self.pad.set_picture(picture.display)
        self.picture_ready.emit(picture)
