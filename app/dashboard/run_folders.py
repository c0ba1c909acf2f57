"""The temporary folder each training run writes its checkpoints to, and cleaning up after it.

    folder = new_run_folder()          # <temp>/layerlab-run-<this process's id>-<random>
    remove_run_folder(folder)          # when the run's checkpoints were taken (or the window closes)
    sweep_stale_run_folders()          # at start: the folders of LayerLab processes that died

A run's trainer writes ``best.llmodel`` and ``last.llmodel`` there at each epoch's end (the seed CNN's
are ~37 MB each with their optimizer moments). The app reads only ``best.llmodel`` (Save best), so each
folder goes once the run has ended and its best weights are in memory. A crashed app cannot clean up, so
its process id is in each folder's name: a later start removes the folders whose process is gone, and
never a folder of a LayerLab that is still running (or of another user).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

import engine

RUN_FOLDER_PREFIX = "layerlab-run-"
# The id of the process that made it, then mkdtemp's random part (letters, digits, '_'; never '-'). Folders
# of older LayerLab versions have no id ("layerlab-run-k2x9_a1b") and are left alone: whose they are is unknown.
_RUN_FOLDER_NAME = re.compile(re.escape(RUN_FOLDER_PREFIX) + r"(\d+)-[a-z0-9_]+")


def new_run_folder() -> Path:
    """A new, private (0700) folder for one run's checkpoints, named after this process (OSError if none)."""
    return Path(tempfile.mkdtemp(prefix=f"{RUN_FOLDER_PREFIX}{os.getpid()}-"))


def remove_run_folder(folder: Path | None) -> None:
    """Remove a run's folder and whatever is in it (a half-written checkpoint included); gone already is fine."""
    if folder is not None and folder.name.startswith(RUN_FOLDER_PREFIX):
        shutil.rmtree(folder, ignore_errors=True)


def sweep_stale_run_folders(temp_dir: str | Path | None = None) -> list[Path]:
    """Remove the run folders left by LayerLab processes that are no longer running; the ones removed.

    Only folders (never a link to one) named by ``new_run_folder``, owned by this user, whose process is
    gone. A process id reused by another program keeps its folder until that program ends: better kept
    than a living run's checkpoints removed.
    """
    folder = Path(temp_dir or tempfile.gettempdir())
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    removed = []
    for entry in entries:
        match = _RUN_FOLDER_NAME.fullmatch(entry.name)
        if match is None:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or not _owned_by_this_user(info):
            continue
        pid = int(match.group(1))
        if pid == os.getpid() or engine.process_is_running(pid):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(Path(entry.path))
    return removed


def _owned_by_this_user(info: os.stat_result) -> bool:
    return not hasattr(os, "getuid") or info.st_uid == os.getuid()
