"""Where a command writes: checked before any work starts, and every write failure one line in words.

A run that trains for an hour must not find out at the end that ``-o`` names a folder, a device or a name
longer than the file system allows: the outputs are checked first (``check_output_file``,
``check_output_folder``). The metrics stream (``MetricsStream``) may be a file, a pipe another program
reads (``--metrics /dev/stdout``) or a disk that fills up: it never blocks on a pipe nobody reads, and a
failed write stops the metrics, not the run.

    output = check_output_file(args.output, "-o")          # CommandError naming the path and the problem
    metrics = MetricsStream.open(args.metrics)              # None when not asked for
    metrics.write({"event": "step", ...}); metrics.close(); metrics.problem   # None, or what went wrong

Nothing here imports NumPy or Qt.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

from app.commands.command_error import CommandError

# Used where the system cannot say (os.pathconf is missing on Windows); every common file system allows 255.
DEFAULT_NAME_MAX = 255


def write_problem(exc: OSError) -> str:
    """An operating-system error on writing, in words and without its errno or class."""
    words = {
        errno.ENAMETOOLONG: "the name is too long for this system",
        errno.ENOSPC: "the disk is full",
        getattr(errno, "EDQUOT", errno.ENOSPC): "the disk is full",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "the file system is read-only",
        errno.EISDIR: "it is a folder",
        errno.ENOTDIR: "a part of the path is a file, not a folder",
        errno.ENOENT: "the folder does not exist",
        errno.ENXIO: "it is a named pipe that no program is reading",
        errno.EPIPE: "the program reading it has stopped",
    }
    return words.get(exc.errno) or (exc.strerror or "the system refused the write").lower()


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return DEFAULT_NAME_MAX


def _check_name(path: Path, folder: Path, option: str) -> None:
    limit = _name_max(folder)
    if len(os.fsencode(path.name)) > limit:
        raise CommandError(f"cannot write {option} {path.name[:40]}…: the name is {len(path.name):,} characters; "
                           f"this system allows file names of at most {limit}", 2)


def _existing_folder(path: Path) -> Path:
    """The nearest folder above ``path`` that exists (the one new folders would be made in)."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def check_output_file(name: str, option: str, example: str = "model.llmodel") -> Path:
    """``name`` as a path a command may write a file to (replacing a regular file there), else CommandError.

    Refused: a name too long for its file system, a folder, a device or pipe (an atomic save would replace
    it with a plain file), a missing folder, or a folder we may not write in.
    """
    path = Path(name).expanduser()
    folder = path.parent if str(path.parent) else Path(".")
    _check_name(path, folder, option)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise CommandError(f"cannot write {name}: {write_problem(exc)}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise CommandError(f"cannot write {name}: it is a folder; give a file name such as {path / example}")
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise CommandError(f"cannot write {name}: it is not a regular file (a device or a pipe)")
    if not folder.is_dir():
        raise CommandError(f"cannot write {name}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise CommandError(f"cannot write {name}: no permission to write in {folder}")
    return path


def check_output_folder(name: str, option: str) -> Path:
    """``name`` as a folder a command may write files into (made later if missing), else CommandError."""
    path = Path(name).expanduser()
    for part in (path, *path.parents):
        if part.name:
            _check_name(part, _existing_folder(part), option)
    if path.exists() and not path.is_dir():
        raise CommandError(f"cannot write {option} {name}: it is a file, not a folder")
    folder = path if path.is_dir() else _existing_folder(path)
    if not folder.is_dir():
        raise CommandError(f"cannot write {option} {name}: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK):
        raise CommandError(f"cannot write {option} {name}: no permission to write in {folder}")
    return path


class MetricsStream:
    """JSON lines to a file or a pipe. The first failed write is kept in ``problem`` and ends the metrics only."""

    def __init__(self, name: str, stream):
        self.name = name
        self.stream = stream
        self.problem: str | None = None

    @staticmethod
    def check(name: str | None) -> None:
        """Refuse at once what cannot be a metrics file (a folder, a name too long, a missing folder); the
        rest (permissions, a pipe nobody reads) is found when it is opened, without truncating it before."""
        if not name:
            return
        path = Path(name).expanduser()
        if path.is_dir():
            raise CommandError(f"cannot write --metrics {name}: it is a folder; give a file name such as "
                               f"{path / 'metrics.jsonl'}")
        folder = path.parent if str(path.parent) else Path(".")
        _check_name(path, folder, "--metrics")
        if not folder.is_dir():
            raise CommandError(f"cannot write --metrics {name}: folder {folder} does not exist")

    @classmethod
    def open(cls, name: str | None) -> MetricsStream | None:
        if not name:
            return None
        cls.check(name)
        path = Path(name).expanduser()
        # Non-blocking, so a pipe that nobody reads is refused at once (ENXIO) instead of waiting forever.
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
        try:
            descriptor = os.open(path, flags, 0o666)
        except OSError as exc:
            raise CommandError(f"cannot write --metrics {name}: {write_problem(exc)}") from None
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)  # a reader that is slow for a moment must not lose lines
        return cls(name, os.fdopen(descriptor, "w", encoding="utf-8"))

    def write(self, record: dict) -> None:
        if self.problem is not None:
            return
        try:
            self.stream.write(json.dumps(record) + "\n")
            self.stream.flush()
        except OSError as exc:
            self.problem = write_problem(exc)

    def close(self) -> None:
        try:
            self.stream.close()
        except OSError as exc:  # the last buffered line could not be written
            self.problem = self.problem or write_problem(exc)
