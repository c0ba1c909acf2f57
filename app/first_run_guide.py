"""The first-run guide: a card with the three steps of a first session (design, train, draw).

    guide = FirstRunGuide(anchor=window.inspector_dock, parent=window)
    guide.show()           # it keeps to the top of the anchor, as wide as it, as the window resizes
    guide.dismissed.connect(...)

The main window anchors it on the inspector, which is empty until a layer is selected, so the card hides
none of the network, the layer list or the draw pad.

It is a child widget, not a dialog: nothing is blocked while it is open, and it appears in renders of
the window (``layerlab screenshot --guide``). The main window shows it on the first launch only and
from Help > Getting Started.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsDropShadowEffect,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

TITLE = "Welcome to LayerLab"
STEPS = (
    ("Design", "The seed CNN is on the canvas. Drag layers from the Layers list and connect their ports: "
               "every layer shows its output shape as you edit."),
    ("Train", "MNIST is selected. Press <b>F5</b> (or open <b>Train</b>, top right, and press Start) and "
              "watch the loss fall and the accuracy rise."),
    ("Draw", "Draw a digit on the black pad at the left, in either workspace. A model trained on MNIST reads "
             "it now; your own network reads it once it trains."),
)
FOOTNOTE = "Help ▸ Getting Started shows this again."
MIN_WIDTH, MAX_WIDTH = 260, 360
MARGIN = 8  # from the anchor's edges
ACCENT = "#3b4cca"  # the icon's blue


class FirstRunGuide(QFrame):
    dismissed = Signal()

    def __init__(self, anchor: QWidget, parent: QWidget):
        super().__init__(parent)
        self.setObjectName("FirstRunGuide")
        self.anchor = anchor
        self.setFixedWidth(MAX_WIDTH)
        self.setAutoFillBackground(True)
        self.setStyleSheet(
            "#FirstRunGuide { background: palette(base); border: 1px solid #c5cae9; border-radius: 10px; }"
            f"#FirstRunGuide QLabel#step_number {{ background: {ACCENT}; color: white; border-radius: 12px;"
            " font-weight: bold; }"
        )
        shadow = QGraphicsDropShadowEffect(self)
        shadow.setBlurRadius(24)
        shadow.setOffset(0, 4)
        shadow.setColor(QColor(0, 0, 0, 90))
        self.setGraphicsEffect(shadow)

        title = QLabel(f"<b>{TITLE}</b>")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        title.setFont(font)
        steps = QGridLayout()
        steps.setHorizontalSpacing(10)
        steps.setVerticalSpacing(10)
        self.step_labels: list[QLabel] = []
        for row, (name, text) in enumerate(STEPS):
            number = QLabel(str(row + 1))
            number.setObjectName("step_number")
            number.setFixedSize(24, 24)
            number.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label = QLabel(f"<b>{name}.</b> {text}")
            label.setWordWrap(True)
            self.step_labels.append(label)
            steps.addWidget(number, row, 0, Qt.AlignmentFlag.AlignTop)
            steps.addWidget(label, row, 1)
        footnote = QLabel(FOOTNOTE)
        footnote.setWordWrap(True)
        footnote.setStyleSheet("color: palette(placeholder-text);")
        self.close_button = QPushButton("Got it")
        self.close_button.setDefault(True)
        self.close_button.clicked.connect(self.dismiss)
        footer = QHBoxLayout()
        footer.addWidget(footnote, 1)
        footer.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addLayout(steps)
        layout.addLayout(footer)
        anchor.installEventFilter(self)
        self.hide()

    def step_names(self) -> list[str]:
        return [name for name, _text in STEPS]

    def show(self) -> None:
        self.place()
        super().show()
        self.raise_()

    def dismiss(self) -> None:
        if self.isVisible():
            self.hide()
            self.dismissed.emit()

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.dismiss()
        else:
            super().keyPressEvent(event)

    def place(self) -> None:
        """Across the top of the anchor (or of the window, when the anchor is hidden or floats on its own)."""
        parent = self.parentWidget()
        anchor = self.anchor if self.anchor.isVisible() and not self.anchor.isWindow() else parent
        width = min(MAX_WIDTH, max(MIN_WIDTH, anchor.width() - 2 * MARGIN))
        self.setFixedWidth(width)
        self.setFixedHeight(self.heightForWidth(width))  # the frame's, borders included
        corner = anchor.mapTo(parent, QPoint(anchor.width(), 0)) if anchor is not parent else QPoint(parent.width(), 0)
        self.move(corner.x() - width - MARGIN, corner.y() + MARGIN)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.anchor and event.type() in (QEvent.Type.Resize, QEvent.Type.Move):
            self.place()
        return False
