"""Importing and storing off the GUI thread, with progress and a Cancel that really stops the work.

    jobs = ImportJobs(parent)
    jobs.imported.connect(show)          # ImportResult: the Dataset and the format it was read as
    jobs.failed.connect(show_error)      # a DatasetError's words, naming the file
    jobs.progressed.connect(bar_update)  # (done, total)
    jobs.start_import(path, size=None, color="auto", label_column=None)
    jobs.cancel()                        # the importer's next progress call raises ImportCancelled

Cancelling works through the engine's own hook: the progress callback raises
``engine.datasets.ImportCancelled``, which the importers let propagate after removing what they made.
A newer import supersedes an older one: the older one is cancelled and whatever it still reports is
ignored (each job has a number; only the latest job's signals reach the dialog).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

import engine
from app.dashboard.background import BackgroundTasks

PROGRESS_EVERY_SECONDS = 0.05  # a 10,000-file folder reports 10,000 times; the bar needs ~20 a second


@dataclass(frozen=True)
class ImportResult:
    path: Path
    format: str  # "images" | "idx" | "csv" | "npz"
    dataset: object  # engine.datasets.Dataset


_CANCELLED = object()


@dataclass(frozen=True)
class _Refused:
    """A DatasetError's words: returned rather than raised, so BackgroundTasks logs no traceback for bad data."""

    message: str


def label_column_value(text: str):
    """The label column as typed: a number is the column's index (from 0), other text its header name."""
    text = text.strip()
    if not text:
        return None
    return int(text) if text.isdigit() else text


class ImportJobs(QObject):
    progressed = Signal(object, object)  # done, total
    imported = Signal(object)  # ImportResult
    stored = Signal(object)  # engine.datasets.ImportedSet
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.tasks = BackgroundTasks(self)
        self._job = 0
        self._cancel_flag: threading.Event | None = None
        self.busy = False

    def start_import(self, path: str | Path, *, size=None, color: str = "auto", label_column=None) -> None:
        self.cancel(quietly=True)
        self._job += 1
        job = self._job
        flag = self._cancel_flag = threading.Event()
        self.busy = True
        path = Path(path)

        def work(report):
            last = 0.0

            def progress(done, total):
                nonlocal last
                if flag.is_set():
                    raise engine.datasets.ImportCancelled("the import was cancelled")
                now = time.monotonic()
                if now - last >= PROGRESS_EVERY_SECONDS or done >= total:
                    last = now
                    report(done, total)

            try:
                kind = engine.datasets.detect_format(path)
                dataset = engine.datasets.import_path(path, size=size, color=color, label_column=label_column,
                                                      progress=progress)
            except engine.datasets.ImportCancelled:
                return _CANCELLED
            except engine.datasets.DatasetError as problem:  # the person's data, not a fault: no traceback logged
                return _Refused(str(problem))
            return ImportResult(path, kind, dataset)

        self.tasks.submit(work, lambda result: self._finished(job, result), lambda message: self._failed(job, message),
                          lambda done, total: self._progressed(job, done, total))

    def start_store(self, dataset, name: str, *, replace: bool) -> None:
        """``save_imported`` off the GUI thread (a large set takes seconds to compress and checksum)."""
        self._job += 1
        job = self._job
        self._cancel_flag = None
        self.busy = True

        def work(_report):
            try:
                return engine.datasets.save_imported(dataset, name, replace=replace)
            except engine.datasets.DatasetError as problem:
                return _Refused(str(problem))

        self.tasks.submit(work, lambda result: self._finished(job, result), lambda message: self._failed(job, message))

    def cancel(self, quietly: bool = False) -> None:
        """Stop the running import at its next progress report; ``cancelled`` is sent unless ``quietly``."""
        if self._cancel_flag is not None:
            self._cancel_flag.set()
            self._cancel_flag = None
            self._job += 1  # whatever the cancelled job still sends is stale
            if self.busy:
                self.busy = False
                if not quietly:
                    self.cancelled.emit()

    def wait(self, timeout_ms: int = 30_000) -> bool:
        return self.tasks.wait_for_all(timeout_ms)

    def _progressed(self, job: int, done, total) -> None:
        if job == self._job:
            self.progressed.emit(done, total)

    def _finished(self, job: int, result) -> None:
        if job != self._job:
            return
        self.busy = False
        self._cancel_flag = None
        if result is _CANCELLED:
            self.cancelled.emit()
        elif isinstance(result, _Refused):
            self.failed.emit(result.message)
        elif isinstance(result, ImportResult):
            self.imported.emit(result)
        else:
            self.stored.emit(result)

    def _failed(self, job: int, message: str) -> None:
        if job == self._job:
            self.busy = False
            self._cancel_flag = None
            self.failed.emit(message)
