"""Atomic file writes: a crash or a full disk never leaves half a file, never destroys the old one, and a
killed save leaves nothing behind for long.

    atomic_write(path, lambda f: f.write(data))

``write`` gets a binary file object for a temporary file in the target's folder; once it returns, the
data is flushed to disk and the file renamed over the target (atomic on POSIX and Windows). What this
guarantees:

- if ``write`` (or the disk) fails, the temporary file is removed and the target is untouched;
- a symbolic link is written through: its target gets the new content (the temporary file sits in the
  target's folder, so the rename stays atomic) and the link stays a link;
- a save killed outright (SIGKILL, power cut) cannot remove its own temporary file, so each temporary is
  named ``.{name}.{pid}.{random}.tmp`` after the process writing it, and every later ``atomic_write`` of
  the same target, and ``remove_stale_temporaries``, delete those whose process is no longer running.
  Where a process cannot be asked after (Windows), and for temporaries without a process id (written by
  LayerLab before it named them so), age decides instead: older than ``STALE_SECONDS``.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

STALE_SECONDS = 3600  # no save takes an hour; a temporary that old, of no known process, is litter
_NAME_IN_TEMPORARY = 200  # keeps ".{name}.{pid}.{random}.tmp" within the 255 bytes a file name may have
_OWN_TEMPORARY = re.compile(r"(?P<pid>\d+)\.[0-9a-f]{8}")
_OLD_TEMPORARY = re.compile(r"[a-z0-9_]{8}")  # tempfile.mkstemp's names, used before the pid was in the name


def atomic_write(path, write: Callable[[BinaryIO], object]) -> Path:
    """Write ``path`` (or, for a symbolic link, the file it points to) all at once; returns ``path``."""
    path = Path(path)
    target = Path(os.path.realpath(path))  # a link is written through, never replaced by a plain file
    _refuse_special_file(target)
    remove_stale_temporaries(target)
    temp = target.parent / f"{_prefix(target)}{os.getpid()}.{secrets.token_hex(4)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(temp, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        # The temporary is private (0600) while it is written; give it the permissions the old file had,
        # or else what a plain open() would give (0666 less the umask).
        os.chmod(temp, _mode_for(target))
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path


def _refuse_special_file(target: Path) -> None:
    """A save never renames a file over a device, a pipe or a folder (``-o /dev/full`` run as root would
    replace the device with a plain file)."""
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "a device, pipe or socket"
        raise OSError(errno.EEXIST, f"is {kind}, not a regular file; LayerLab saves only over ordinary files",
                      str(target))


def remove_stale_temporaries(path) -> list[Path]:
    """Delete the temporaries that interrupted saves of ``path`` left; returns the ones removed.

    Only files named as ``atomic_write`` names them for this very target are considered, and only those
    whose writer is gone (see the module's docstring), so a save in progress elsewhere is never disturbed.
    An app calls it at start for the files it keeps (settings, recovery copies); every save calls it too.
    """
    target = Path(os.path.realpath(path))
    prefix = _prefix(target)
    removed = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith(".tmp")):
            continue
        middle = entry.name[len(prefix):-len(".tmp")]
        own = _OWN_TEMPORARY.fullmatch(middle)
        if own is None and _OLD_TEMPORARY.fullmatch(middle) is None:
            continue  # not one of ours
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            if own is not None and _process_is_known(int(own["pid"])):
                if process_is_running(int(own["pid"])):
                    continue
            elif time.time() - entry.stat(follow_symlinks=False).st_mtime < STALE_SECONDS:
                continue
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            continue  # removed meanwhile, or not ours to remove: litter is never worth failing a save for
    return removed


def _prefix(target: Path) -> str:
    return f".{target.name[:_NAME_IN_TEMPORARY]}."


def _process_is_known(pid: int) -> bool:
    """Whether this system can tell us if ``pid`` runs (POSIX); Windows' os.kill would end the process."""
    return os.name == "posix" and pid != os.getpid()  # our own pid: perhaps another thread's save in progress


def process_is_running(pid: int) -> bool:
    """Whether process ``pid`` may still run: False only when this system says it is gone. Where that cannot
    be asked safely (Windows, where os.kill would end it; 0 or a negative pid, which name process groups),
    True: a caller deciding whether litter is stale then leaves it alone."""
    if os.name != "posix" or pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # another user's process, or a pid we cannot ask about: leave its file alone
    return True


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
