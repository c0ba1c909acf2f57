"""Atomic file writes: a crash or a full disk never leaves half a file, and never destroys the old one.

    atomic_write(path, lambda f: f.write(data))

``write`` gets a binary file object for a temporary file in the same folder; once it returns, the data
is flushed to disk and the file renamed over ``path`` (atomic on POSIX and Windows). If anything fails,
the temporary file is removed and ``path`` is untouched.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def atomic_write(path, write: Callable[[BinaryIO], object]) -> Path:
    path = Path(path)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file private (0600); give it the permissions the old file had, or else
        # what a plain open() would give (0666 less the umask).
        os.chmod(temp_name, _mode_for(path))
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return path


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
