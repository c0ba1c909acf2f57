"""Autosave and recovery: while there are unsaved changes, a copy goes to a recovery file every minute.

Recovery files live in the user's data folder (platformdirs), one per project (keyed by its path; one
for an untitled network), and are ordinary project files plus a ``recovery`` note saying which project
they belong to. Saving, or closing and choosing not to keep the changes, removes them; a recovery file
still there at the next start means LayerLab did not close cleanly, and the window offers it back.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from PySide6.QtCore import QObject, QTimer

from app.document.project_file import (
    PROJECT_SUFFIX,
    Project,
    ProjectFileError,
    project_data,
    read_project,
    write_json_atomically,
)

AUTOSAVE_INTERVAL_MS = 60_000


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
        self.path.unlink(missing_ok=True)


def _recovery_file(path: Path) -> RecoveryFile | None:
    """The recovery file at ``path``, or None if it is damaged (it is then removed: it is only a copy)."""
    try:
        read_project(path)  # checked like any project: a damaged copy is no use to anyone
        note = json.loads(path.read_text(encoding="utf-8")).get("recovery")
        saved_at = path.stat().st_mtime
    except (ProjectFileError, OSError, ValueError):
        path.unlink(missing_ok=True)
        return None
    owner = note.get("project_path") if isinstance(note, dict) else None
    return RecoveryFile(path, Path(owner) if isinstance(owner, str) else None, saved_at)


def recovery_for(project_path: Path) -> RecoveryFile | None:
    """Unsaved changes to ``project_path`` that are newer than the file itself, if there are any."""
    path = recovery_path(project_path)
    if not path.exists():
        return None
    recovery = _recovery_file(path)
    if recovery is None:
        return None
    try:
        saved = Path(project_path).stat().st_mtime
    except OSError:
        saved = 0.0  # the project is gone: the recovery copy is all there is
    return recovery if recovery.saved_at > saved else None


def pending_recoveries() -> list[RecoveryFile]:
    """Every recovery file newer than its project, newest first (what a crash left behind)."""
    found = []
    folder = recovery_dir()
    for path in sorted(folder.glob(f"*{PROJECT_SUFFIX}")) if folder.is_dir() else []:
        recovery = _recovery_file(path)
        if recovery is None:
            continue
        if recovery.project_path is not None and recovery_for(recovery.project_path) is None:
            continue
        found.append(recovery)
    return sorted(found, key=lambda r: r.saved_at, reverse=True)


class Autosaver(QObject):
    """Writes the editor's document to its recovery file on a timer, only when there is something new."""

    def __init__(self, editor, parent: QObject | None = None, interval_ms: int = AUTOSAVE_INTERVAL_MS):
        super().__init__(parent)
        self.editor = editor
        self.project_path: Path | None = None
        self._changed = False
        editor.undo_stack.indexChanged.connect(self._note_change)
        editor.undo_stack.cleanChanged.connect(self._clean_changed)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.save_now)
        self.timer.start()

    def set_project_path(self, path: Path | None) -> None:
        """The document now belongs to ``path``: forget the recovery file kept under the old name."""
        if path != self.project_path:
            self.discard()
        self.project_path = Path(path) if path is not None else None

    def save_now(self) -> Path | None:
        """Write the recovery file if the document changed since the last one; returns its path if written."""
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
        recovery_path(self.project_path).unlink(missing_ok=True)
        self._changed = False

    def _note_change(self, _index: int) -> None:
        self._changed = True

    def _clean_changed(self, clean: bool) -> None:
        if clean:
            self.discard()
