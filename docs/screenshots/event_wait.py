"""Waiting in the screenshot scripts: Qt's events run (timers, background tasks' results) until a condition holds."""

from __future__ import annotations

import time

from PySide6.QtCore import QEventLoop, QTimer


def wait(seconds: float, until=lambda: False) -> None:
    """Run the event loop until ``until()`` is true or ``seconds`` have passed, whichever comes first."""
    deadline = time.perf_counter() + seconds
    loop = QEventLoop()
    check = QTimer()
    check.timeout.connect(lambda: loop.quit() if until() or time.perf_counter() >= deadline else None)
    check.start(10)
    loop.exec()
