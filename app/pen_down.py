"""While the pen is down on the Draw pad, the rest of the app gives way to it: the whole policy, in one place.

A stroke is 0.3-1 s of mouse events; each one repaints the pad and asks the draw reader (a process of its
own, app/draw/reader.py) for a reading, and the person watches the probability bars follow the pen. The
pen's events and the reader's answers must not wait behind training or the dashboard, so from the pen
going down until the stroke's reading is on screen (``DrawPanel.pen_down_changed``, app/draw/pen_state.py):

1. Training keeps to one core (``leave_a_core_to_the_pen``, app/training/priority.py): the engine shares no
   work between cores, so the GUI thread and the draw reader have a core of their own. The training thread
   uses this process's engine, so this one call covers it; it goes on at about half speed meanwhile.
2. The dashboard's plots and live views hold their repaints (``Dashboard.hold_redraws``, with
   app/dashboard/redraw_hold.py): a repaint takes the GUI thread for 8-20 ms. What arrives is recorded and
   shown when the pen lifts (or once a second during a long stroke).
3. A new weight snapshot waits for the pen to lift before the pad loads it: new weights mid-stroke cost the
   reader a swap (~2.5 ms) and a second reading of a drawing the pen has already changed.

When the pen lifts, in this order: the latest held snapshot goes to the pad, the views repaint once, and
training has every core again. Apart from the pen, training always runs at a lower OS priority
(``lower_training_priority``, the same file as 1). The figures are in benchmarks/RESULTS.md, "Draw".

    PenDownPolicy(panel, dashboard, load_snapshot)   # once, where the Draw panel meets the dashboard
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject

from app.training.priority import leave_a_core_to_the_pen


class PenDownPolicy(QObject):
    """Wires the policy above: ``panel.pen_down_changed`` and the dashboard's ``snapshot_arrived`` come in;
    ``load_snapshot(snapshot)`` hands a snapshot to the pad (at once, or when the pen lifts)."""

    def __init__(self, panel, dashboard, load_snapshot: Callable[[object], None]):
        super().__init__(panel)
        self._dashboard = dashboard
        self._load_snapshot = load_snapshot
        self.pen_down = False
        self._waiting_snapshot = None
        panel.pen_down_changed.connect(self._pen_down_changed)
        dashboard.controller.snapshot_arrived.connect(self._snapshot_arrived)

    def _snapshot_arrived(self, snapshot) -> None:
        if self.pen_down:
            self._waiting_snapshot = snapshot  # only the latest is kept: it holds the newest weights
        else:
            self._load_snapshot(snapshot)

    def _pen_down_changed(self, pen_down: bool) -> None:
        self.pen_down = pen_down
        if not pen_down and self._waiting_snapshot is not None:
            snapshot, self._waiting_snapshot = self._waiting_snapshot, None
            self._load_snapshot(snapshot)
        self._dashboard.hold_redraws(pen_down)
        leave_a_core_to_the_pen(pen_down)
