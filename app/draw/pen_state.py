"""When the pen is down on the draw pad, as the rest of the app should see it.

The pen counts as lifted once the finished stroke's reading is on screen (or ``LIFT_TIMEOUT_MS`` after the
lift, whichever comes first), not at the mouse release itself. What waits for the lift is heavy GUI-thread
work: the dashboard's held plot redraws (~12-25 ms), the snapshot views, the held training snapshot. Done
at the release, it lands while the stroke's last reading is on its way, and those bars wait for all of it:
the slowest readings of a stroke while training. A new stroke starting before the lift counts as the
same pen-down.

    pen = PenState(lambda: panel.reading_is_current)
    pad.stroke_started.connect(pen.stroke_started); pad.stroke_finished.connect(pen.stroke_finished)
    pen.changed.connect(...)      # True: the pen went down; False: its stroke is over and read
    bars.painted.connect(pen.reading_shown)   # a reading is on screen
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

LIFT_TIMEOUT_MS = 250  # a reading takes 5-10 ms; a reader that is slower than this should not hold the app


class PenState(QObject):
    changed = Signal(bool)

    def __init__(self, reading_is_current: Callable[[], bool], parent: QObject | None = None):
        super().__init__(parent)
        self._reading_is_current = reading_is_current
        self.down = False
        self._lift_pending = False
        self._timeout = QTimer(self)
        self._timeout.setSingleShot(True)
        self._timeout.setInterval(LIFT_TIMEOUT_MS)
        self._timeout.timeout.connect(self._lift)

    def stroke_started(self) -> None:
        if self._lift_pending:  # still down, as far as the app knows
            self._lift_pending = False
            self._timeout.stop()
            return
        self.down = True
        self.changed.emit(True)

    def stroke_finished(self) -> None:
        if not self.down:
            return
        self._lift_pending = True
        if self._reading_is_current():
            self._lift()
        else:
            self._timeout.start()

    def reading_shown(self) -> None:
        """Bars were painted: if they show the finished stroke's reading, the pen has lifted (said from the
        event loop, after the paint has been handed on)."""
        if self._lift_pending and self._reading_is_current():
            QTimer.singleShot(0, self, self._lift)

    def _lift(self) -> None:
        self._timeout.stop()
        if self._lift_pending:
            self._lift_pending = False
            self.down = False
            self.changed.emit(False)
