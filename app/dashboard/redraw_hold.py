"""Postponing a view's expensive redraws while the person draws on the draw pad.

A redraw of the Curves plots costs the GUI thread ~12 ms in two events (the scene's update, then the
paint; p95 ~25 ms while training on a 2-core machine); when one lands in the middle of a stroke, the
mouse events behind it wait, and so do the probability bars. While held, a redraw that is asked for is
only noted; it runs once when the hold ends (the pen lifts), or after ``MAX_HELD_MS`` if the hold lasts
that long, so a view never looks frozen during a long stroke.

    hold = RedrawHold(panel.redraw, parent=panel)
    hold.request()          # draws now, or later while held
    hold.set_held(True)     # the pen went down
    hold.set_held(False)    # the pen lifted: one redraw shows everything that arrived meanwhile
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

# A stroke of a digit lasts 0.3-1 s. Held up to a second, a stroke of up to a second sees no repaint at all
# (at 250 ms most strokes would get one or two, as with no hold at all: the Curves redrew every 333 ms then), and
# live views that refresh once a second (the snapshots) stay as live as they are.
MAX_HELD_MS = 1000


class RedrawHold(QObject):
    """Runs ``redraw`` when asked, or, while held, once when the hold ends or ``MAX_HELD_MS`` after the first
    postponed request."""

    def __init__(self, redraw: Callable[[], None], parent: QObject | None = None, max_held_ms: int = MAX_HELD_MS):
        super().__init__(parent)
        self._redraw = redraw
        self.held = False
        self.pending = False  # a redraw was asked for while held and has not run yet
        self._deadline = QTimer(self)
        self._deadline.setSingleShot(True)
        self._deadline.setInterval(max_held_ms)
        self._deadline.timeout.connect(self._catch_up)

    def request(self) -> None:
        """Redraw now, or (while held) note that a redraw is due."""
        if not self.held:
            self._redraw()
            return
        self.pending = True
        if not self._deadline.isActive():
            self._deadline.start()

    def set_held(self, held: bool) -> None:
        """Hold (True) or release (False); a release runs the postponed redraw, if any, at once."""
        self.held = bool(held)
        if not self.held:
            self._catch_up()

    def _catch_up(self) -> None:
        self._deadline.stop()
        if self.pending:
            self.pending = False
            self._redraw()
