"""Python's cyclic garbage collector, run on the GUI thread only.

Left to itself, CPython collects cycles in whichever thread happens to allocate, and under PySide6 6.12 a
collection on a worker thread that frees Qt objects can deadlock the app: the worker destroys a QObject
while holding Qt's connection lock and waits for the GIL, while the GUI thread, holding the GIL, destroys
a widget that shiboken had handed back to it and waits for that lock (seen: the activations view building
a network on a pool thread while the GUI thread started a run; py-spy showed both stacks). So automatic
collection is switched off and a timer on the GUI thread collects instead, as soon as Python's own
thresholds say a collection is due (the same generations, at most INTERVAL_MS late).

    install_gui_thread_gc(app)        # once, on the GUI thread, after the QApplication exists
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer

INTERVAL_MS = 250


class GuiThreadGarbageCollector(QObject):
    def __init__(self, parent: QObject):
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self.collect_if_due)
        self.timer.start()

    def collect_if_due(self) -> int | None:
        """Collect the oldest generation whose count has passed its threshold; the generation, or None."""
        counts = gc.get_count()
        if counts[0] <= self.thresholds[0]:
            return None
        generation = 2 if counts[2] > self.thresholds[2] else 1 if counts[1] > self.thresholds[1] else 0
        gc.collect(generation)
        return generation


def install_gui_thread_gc(app: QCoreApplication) -> GuiThreadGarbageCollector:
    """Collect garbage only on the GUI thread from now on (idempotent: one collector per application)."""
    if QThread.currentThread() is not app.thread():
        raise RuntimeError("the garbage collector must be installed from the GUI thread")
    existing = app.findChild(GuiThreadGarbageCollector)
    return existing if existing is not None else GuiThreadGarbageCollector(app)
