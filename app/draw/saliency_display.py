"""The Draw panel's "Why?" map: the choice of method, the note about the map, and the heat drawn over the drawing
and over the preview of what the network sees. The panel decides when a map is asked for and which answer is
current; this part only shows it.

    why = SaliencyDisplay(preview, pad, picture_pad)
    why.method.currentData()                      # the method's key (app/draw/reader.py SALIENCY_METHODS)
    why.show(saliency, placement, picture=False)  # an answer for the drawing on screen
    why.show_heat(None)                           # no map
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QComboBox, QLabel

from app.draw.overlay import heat_rgba, rgba_image
from app.draw.reader import SALIENCY_METHODS

MAP_NOTE_LINES = 4  # the room for a word about the "Why?" map: its longest note wraps to 4 lines at ~300 px


class SaliencyDisplay(QObject):
    updated = Signal(object)  # the heat map just shown over the drawing, (field, field) in [0, 1]

    def __init__(self, preview, pad, picture_pad, parent: QObject | None = None):
        super().__init__(parent)
        self.preview, self.pad, self.picture_pad = preview, pad, picture_pad
        self.heat: np.ndarray | None = None  # the map shown, if any
        self.method = QComboBox()
        for index, (key, (label, meaning)) in enumerate(SALIENCY_METHODS.items()):
            self.method.addItem(label, key)
            self.method.setItemData(index, meaning, Qt.ItemDataRole.ToolTipRole)
        self.method.setToolTip("How the map is computed (hover over a choice for what it shows)")
        # Its room is kept while Why? is on, said or not: a note appearing with a reading must not shrink the
        # pad under the pen mid-stroke.
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.note.setFixedHeight(MAP_NOTE_LINES * self.note.fontMetrics().lineSpacing())
        self.note.hide()

    def show(self, saliency, placement, picture: bool) -> None:
        """Show ``saliency`` (app/draw/reader.py Saliency), the answer for the drawing on screen, whose square
        lies at ``placement`` on the pad (``picture``: over a colour model's whole picture)."""
        if saliency.heat is None:
            if saliency.why_missing != "skipped for a newer drawing":
                self.show_note(f"No map: {saliency.why_missing}.")
            return  # a skipped map keeps the last one, drawn over the square it was computed for
        self.show_note(saliency.remark)
        self.show_heat(saliency.heat, placement, picture)

    def show_note(self, text: str) -> None:
        """What to know about the map on screen, under the buttons; the caption keeps saying which network
        reads."""
        self.note.setText(text)
        self.note.setToolTip(text)  # should a long one not fit its lines

    def show_heat(self, heat: np.ndarray | None, placement=None, picture: bool = False) -> None:
        self.heat = heat
        if heat is None or placement is None:
            self.preview.set_heat(None)
            self.pad.set_overlay(None)
            self.picture_pad.set_overlay(None)
            return
        rgba = heat_rgba(heat)
        self.preview.set_heat(rgba)
        if picture:  # over the whole picture, which the network read resized
            self.picture_pad.set_overlay(rgba_image(rgba))
        else:
            self.pad.set_overlay(rgba_image(rgba), (placement.left, placement.top, placement.side))
        self.updated.emit(heat)
