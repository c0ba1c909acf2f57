"""Autosave and recovery: a copy of unsaved changes goes to a recovery file shortly after each edit.

Recovery files live in the user's data folder (platformdirs), one per project (keyed by its path; one
for an untitled network), and are ordinary project files plus a ``recovery`` note saying which project
they belong to. Saving, or closing and choosing not to keep the changes, removes them; a recovery file
still there at the next start means LayerLab did not close cleanly, and the window offers it back.

The copy is written ``AUTOSAVE_DELAY_MS`` after the last edit (a burst of edits is one write), and at
least every ``AUTOSAVE_MAX_DELAY_MS`` while edits keep coming: a crash loses seconds of work, not a minute.

The recovery folder is read like any user file: an entry that is not a readable project (a folder, a
FIFO, a damaged or hostile file) is skipped with a message naming it, never a hang or a failed start.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from PySide6.QtCore import QObject, QTimer

import engine
from app.document.project_file import (
    PROJECT_SUFFIX,
    Project,
    ProjectFileError,
    project_data,
    project_from_data,
    read_project,
    read_project_json,
    write_json_atomically,
)

AUTOSAVE_DELAY_MS = 2_000  # after the last edit: one write for a burst of edits (a drag, typing)
AUTOSAVE_MAX_DELAY_MS = 10_000  # edits that never pause are still saved this often


def recovery_dir() -> Path:
    return Path(platformdirs.user_data_dir("LayerLab", "LayerLab")) / "recovery"


def recovery_path(project_path: Path | None) -> Path:
    """Where unsaved changes to ``project_path`` (None: an untitled network) are kept."""
    if project_path is None:
        key = "untitled"
    else:
        key = hashlib.sha256(str(Path(project_path).resolve()).encode("utf-8")).hexdigest()[:16]
    return recovery_dir() / f"{key}{PROJECT_SUFFIX}"


@dataclass(frozen=True)
class RecoveryFile:
    path: Path
    project_path: Path | None  # the project these changes belong to; None for an untitled network
    saved_at: float  # seconds since the epoch

    def read(self) -> Project:
        return read_project(self.path)

    def describe(self) -> str:
        what = self.project_path.name if self.project_path else "an untitled network"
        return f"{what}, autosaved {time.strftime('%Y-%m-%d %H:%M', time.localtime(self.saved_at))}"

    def discard(self) -> None:
        try:
            self.path.unlink(missing_ok=True)
        except OSError:
            pass  # a copy that cannot be removed is skipped again next time; it must not stop anything


def read_recovery_file(path: Path) -> RecoveryFile:
    """The recovery file at ``path``, checked like any project (one bounded read); ProjectFileError if not."""
    data = read_project_json(path)  # a regular file within the size limit: never a FIFO, folder or device
    project_from_data(path, data)  # a damaged copy is no use to anyone
    note = data.get("recovery")
    owner = note.get("project_path") if isinstance(note, dict) else None
    if not (isinstance(owner, str) and owner and "\0" not in owner and len(owner) < 4096):
        owner = None  # no project it can be saved back to (a damaged note): recovered as an untitled network
    try:
        saved_at = path.stat().st_mtime
    except OSError as error:
        raise ProjectFileError(path, f"cannot be read ({error.strerror or error})") from None
    return RecoveryFile(path, Path(owner) if owner else None, saved_at)


def _drop(path: Path) -> bool:
    """Remove an unreadable recovery entry (it is only a copy); folders are left alone. True if removed."""
    try:
        if path.is_dir() and not path.is_symlink():
            return False
        path.unlink(missing_ok=True)
    except OSError:
        return False
    return True


def _recovery_file(path: Path) -> RecoveryFile | None:
    """The recovery file at ``path``, or None if it cannot be read (then it is removed when it is a file)."""
    try:
        return read_recovery_file(path)
    except ProjectFileError:
        _drop(path)
        return None


def _project_saved_at(project_path: Path) -> float:
    try:
        return project_path.stat().st_mtime
    except (OSError, ValueError):
        return 0.0  # the project is gone (or its name cannot be looked up): the recovery copy is all there is


def recovery_for(project_path: Path) -> RecoveryFile | None:
    """Unsaved changes to ``project_path`` that are newer than the file itself, if there are any."""
    path = recovery_path(project_path)
    if not os.path.lexists(path):
        return None
    recovery = _recovery_file(path)
    if recovery is None:
        return None
    return recovery if recovery.saved_at > _project_saved_at(Path(project_path)) else None


@dataclass(frozen=True)
class RecoveryScan:
    """What the recovery folder holds: copies to offer (newest first), and entries that could not be read."""

    found: list[RecoveryFile]
    problems: list[str]  # one sentence per skipped entry, naming it

    def problem_summary(self) -> str | None:
        """The skipped entries in one message for the status bar, or None when there were none."""
        if not self.problems:
            return None
        count = len(self.problems)
        head = "A recovery file" if count == 1 else f"{count} recovery files"
        shown = "; ".join(self.problems[:3]) + ("; …" if count > 3 else "")
        return f"{head} could not be read and {'was' if count == 1 else 'were'} skipped: {shown}"


def scan_recoveries() -> RecoveryScan:
    """Every recovery file newer than its project (what a crash left behind), and what had to be skipped.

    Never blocks and never raises for what it finds: each entry is read through ``engine.user_files``.
    """
    found, problems = [], []
    folder = recovery_dir()
    remove_stale_temporaries(folder)
    try:
        entries = sorted(folder.glob(f"*{PROJECT_SUFFIX}")) if folder.is_dir() else []
    except OSError as error:
        return RecoveryScan([], [f"the recovery folder {folder} cannot be read ({error.strerror or error})"])
    for path in entries:
        try:
            recovery = read_recovery_file(path)
        except ProjectFileError as error:
            removed = _drop(path)
            problems.append(f"{error}{' (removed)' if removed else ''}")
            continue
        if recovery.project_path is not None and recovery.saved_at <= _project_saved_at(recovery.project_path):
            continue  # saved after the copy was made: nothing to recover
        found.append(recovery)
    return RecoveryScan(sorted(found, key=lambda r: r.saved_at, reverse=True), problems)


def remove_stale_temporaries(folder: Path) -> None:
    """Delete what killed autosaves left in ``folder``: ``.{key}.layerlab.{pid}.{random}.tmp`` files whose
    writer is gone (``engine.remove_stale_temporaries`` decides, per recovery file they were writing)."""
    marker = PROJECT_SUFFIX + "."
    try:
        names = {entry.name[1:].partition(marker)[0] for entry in os.scandir(folder)
                 if entry.name.startswith(".") and entry.name.endswith(".tmp") and marker in entry.name}
    except OSError:
        return  # no folder yet, or one we cannot list: nothing of ours to clear
    for name in names:
        engine.remove_stale_temporaries(folder / f"{name}{PROJECT_SUFFIX}")


def pending_recoveries() -> list[RecoveryFile]:
    """Every recovery file newer than its project, newest first (what a crash left behind)."""
    return scan_recoveries().found


class Autosaver(QObject):
    """Writes the editor's document to its recovery file shortly after each edit, only when there is something new.

    Each edit (re)starts a single-shot timer of ``delay_ms``, so a burst of edits is written once, when it
    pauses; the wait never exceeds ``max_delay_ms`` from the first edit not yet written, so edits that keep
    coming are still saved.
    """

    def __init__(self, editor, parent: QObject | None = None, delay_ms: int = AUTOSAVE_DELAY_MS,
                 max_delay_ms: int = AUTOSAVE_MAX_DELAY_MS):
        super().__init__(parent)
        self.editor = editor
        self.project_path: Path | None = None
        self.delay_ms, self.max_delay_ms = delay_ms, max_delay_ms
        self._changed = False
        self._first_unsaved_edit: float | None = None  # time.monotonic() of the oldest edit not yet written
        editor.undo_stack.indexChanged.connect(self._note_change)
        editor.undo_stack.cleanChanged.connect(self._clean_changed)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.save_now)

    def set_project_path(self, path: Path | None) -> None:
        """The document now belongs to ``path``: forget the recovery file kept under the old name."""
        if path != self.project_path:
            self.discard()
        self.project_path = Path(path) if path is not None else None

    def save_now(self) -> Path | None:
        """Write the recovery file if the document changed since the last one; returns its path if written."""
        self.timer.stop()
        self._first_unsaved_edit = None
        if not (self._changed and self.editor.modified):
            return None
        document = self.editor.document
        data = project_data(document.spec(), document.positions(), document.training_settings)
        data["recovery"] = {"project_path": str(self.project_path) if self.project_path else None}
        path = recovery_path(self.project_path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_json_atomically(path, data)
        except (OSError, ProjectFileError):
            return None  # recovery is a safety net; a full disk must not interrupt the person's work
        self._changed = False
        return path

    def discard(self) -> None:
        """Remove the recovery file: the changes were saved or deliberately dropped."""
        # Touches only the file: this also runs while the editor is being destroyed (its stack clears).
        self.timer.stop()
        self._first_unsaved_edit = None
        try:
            recovery_path(self.project_path).unlink(missing_ok=True)
        except OSError:
            pass  # not ours to remove (a folder put there): the next autosave simply fails to replace it
        self._changed = False

    def _note_change(self, _index: int) -> None:
        self._changed = True
        now = time.monotonic()
        if self._first_unsaved_edit is None:
            self._first_unsaved_edit = now
        left_ms = self.max_delay_ms - (now - self._first_unsaved_edit) * 1000
        self.timer.start(max(0, min(self.delay_ms, int(left_ms))))

    def _clean_changed(self, clean: bool) -> None:
        if clean:
            self.discard()
