"""Reading a file a user gave us: bounded, typed, and every failure in words that name the file.

Every reader in engine and app goes through here, so one place decides what a hostile or careless file
can do to us:

- only regular files are read. A FIFO would block forever, ``/dev/zero`` never ends and a device may do
  anything, so they are refused before they are opened for reading (the open itself does not block);
- nothing is read past the format's own size limit, whatever the file claims;
- JSON is parsed with a depth limit (``'[' * 100000`` is refused, never a recursion), integers of at most
  ``MAX_JSON_INT_DIGITS`` digits and finite numbers only;
- images open only as the formats a person means (PNG, JPEG, BMP, GIF, TIFF, WebP): never a Pillow
  plugin that runs a program (EPS starts Ghostscript), and never more pixels than ``MAX_IMAGE_PIXELS``.

Each function takes ``error``: the calling module's own exception type, built as ``error(path, problem)``
(``ModelFileError``, ``ProjectFileError``, or a small adapter for messages of one string), so a caller
catches exactly what it always caught. ``UserFileError`` is the default.

    data = read_json(path, max_bytes=10 * MIB, error=ProjectFileError)
    with open_regular(path, max_bytes=4 * GIB, error=dataset_file_error) as stream: ...
    with reading(path, error=ModelFileError):      # whatever a library raises becomes ModelFileError
        archive = zipfile.ZipFile(stream)
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import math
import os
import re
import stat
import warnings
from collections.abc import Callable, Iterator
from typing import BinaryIO

import numpy as np

from engine.design_limits import format_bytes
from engine.errors import UserFileError, describe_error

KIB, MIB, GIB = 1024, 1024**2, 1024**3
MAX_JSON_DEPTH = 64  # a project nests about 6 deep; 64 keeps every later walk (copy, dump) far from recursion
MAX_JSON_INT_DIGITS = 30  # a 64-bit integer has 20; bigger fields are refused with a range by their readers
IMAGE_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP")
MAX_IMAGE_PIXELS = 64 * 1024 * 1024  # 8192 x 8192: far beyond a photo of a digit, far below a decompression bomb
MAX_IMAGE_BYTES = 256 * MIB

ErrorFactory = Callable[[str | os.PathLike, str], Exception]


# ---------------------------------------------------------------------------------------------- files


def check_regular_file(path, *, error: ErrorFactory = UserFileError, max_bytes: int | None = None) -> os.stat_result:
    """The file's stat if it is a regular file (symbolic links followed) of at most ``max_bytes``."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise error(path, _os_problem(exc)) from None
    _check_stat(path, info, error, max_bytes)
    return info


def open_regular(path, *, max_bytes: int, error: ErrorFactory = UserFileError) -> BinaryIO:
    """A binary file object for ``path``, once it is known to be a regular file within ``max_bytes``.

    The open does not block: a FIFO put in a file's place after the check opens at once and is then
    refused by its fstat.
    """
    check_regular_file(path, error=error, max_bytes=max_bytes)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as exc:
        raise error(path, _os_problem(exc)) from None
    try:
        _check_stat(path, os.fstat(descriptor), error, max_bytes)
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def read_bytes(path, *, max_bytes: int, error: ErrorFactory = UserFileError) -> bytes:
    """The whole file, refused if it is (or grows while being read to) more than ``max_bytes``."""
    with open_regular(path, max_bytes=max_bytes, error=error) as stream:
        try:
            data = stream.read(max_bytes + 1)
        except OSError as exc:
            raise error(path, _os_problem(exc)) from None
    if len(data) > max_bytes:
        raise error(path, f"is larger than {format_bytes(max_bytes)}, the most this kind of file may be")
    return data


def read_text(path, *, max_bytes: int, error: ErrorFactory = UserFileError) -> str:
    """The file as UTF-8 text (a byte-order mark is allowed)."""
    return decode_utf8(read_bytes(path, max_bytes=max_bytes, error=error), path, error)


def decode_utf8(data: bytes, path, error: ErrorFactory = UserFileError) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(path, f"is not UTF-8 text (byte {exc.start:,} cannot be read)") from None


def read_json(path, *, max_bytes: int, error: ErrorFactory = UserFileError, max_depth: int = MAX_JSON_DEPTH):
    """The JSON value in ``path`` (checked as ``parse_json`` does)."""
    text = read_text(path, max_bytes=max_bytes, error=error)
    try:
        return parse_json(text, max_depth=max_depth)
    except JsonError as exc:
        raise error(path, str(exc)) from None


@contextlib.contextmanager
def reading(path, *, error: ErrorFactory = UserFileError, what: str = "cannot be read",
            passes: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Turn whatever a library raises while it reads ``path`` into ``error(path, ...)``.

    For readers that hand a checked file to code we do not own (zipfile, NumPy's ``.npy`` header parser,
    Pillow): their exceptions are many and undocumented (``NotImplementedError`` for a zip method,
    ``TokenError`` for a bad ``.npy`` header), and each of them means the file is bad. The caller's own
    error (whatever ``error`` builds, any ``UserFileError``, and ``passes``) goes through unchanged.
    """
    # An adapter (a function building the caller's error) is asked once which type it builds.
    own = (UserFileError, *passes, error if isinstance(error, type) else type(error(path, "")))
    try:
        yield
    except own:
        raise
    except MemoryError:
        raise error(path, f"{what}: it needs more memory than this computer has") from None
    except Exception as exc:  # noqa: BLE001 - the point: no library's exception reaches the user as a traceback
        raise error(path, f"{what} ({describe_error(exc)})") from exc


def _check_stat(path, info: os.stat_result, error: ErrorFactory, max_bytes: int | None) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise error(path, "is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        kind = ("a named pipe" if stat.S_ISFIFO(info.st_mode) else "a device" if stat.S_ISCHR(info.st_mode)
                or stat.S_ISBLK(info.st_mode) else "a socket" if stat.S_ISSOCK(info.st_mode) else "not a file")
        raise error(path, f"is {kind}, not a regular file; LayerLab reads only ordinary files")
    if max_bytes is not None and info.st_size > max_bytes:
        size, limit = format_bytes(info.st_size), format_bytes(max_bytes)
        if size == limit:  # just over the limit: rounding would say "10.5 MB ... at most 10.5 MB"
            size, limit = f"{info.st_size:,} bytes", f"{max_bytes:,} bytes"
        raise error(path, f"is {size}; this kind of file is at most {limit}")


def _os_problem(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "no such file"
    if exc.errno == errno.ELOOP:
        return "is a symbolic link that leads back to itself"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.ENAMETOOLONG:
        return "the name is too long for this system"
    if exc.errno == errno.EISDIR:
        return "is a folder, not a file"
    return f"cannot be read ({(exc.strerror or str(exc)).lower()})"


# ----------------------------------------------------------------------------------------------- JSON


class JsonError(ValueError):
    """Text that is not JSON we accept; the message says where and why, without naming a source."""


_STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_OPENERS = np.frombuffer(b"[{", dtype=np.uint8)
_CLOSERS = np.frombuffer(b"]}", dtype=np.uint8)


def parse_json(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH):
    """Parse JSON text (a file's, a paste's or a flag's), refusing what could hurt what reads it next.

    JsonError for invalid JSON (with line and column), nesting deeper than ``max_depth``, an integer of
    more than ``MAX_JSON_INT_DIGITS`` digits, or NaN, Infinity or a number beyond a float's range.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise JsonError(f"is not UTF-8 text (byte {exc.start:,} cannot be read)") from None
    depth = json_nesting_depth(text)
    if depth > max_depth:
        raise JsonError(f"is nested {depth:,} levels deep; LayerLab reads JSON at most {max_depth} levels deep")
    try:
        return json.loads(text, parse_int=_bounded_int, parse_float=_finite_float, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise JsonError(f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:  # the depth scan is approximate for text that is not JSON; this is its backstop
        raise JsonError("is nested too deeply") from None


def json_nesting_depth(text: str) -> int:
    """How deep brackets nest outside string literals: a scan in C speed, no recursion."""
    skeleton = _STRING_LITERAL.sub("", text).encode("utf-8", "surrogatepass")
    codes = np.frombuffer(skeleton, dtype=np.uint8)
    steps = np.isin(codes, _OPENERS).astype(np.int32) - np.isin(codes, _CLOSERS).astype(np.int32)
    return int(np.cumsum(steps).max(initial=0))


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_JSON_INT_DIGITS:
        raise JsonError(f"holds an integer of {len(digits.lstrip('-')):,} digits; LayerLab reads integers of at "
                        f"most {MAX_JSON_INT_DIGITS} digits")
    return int(digits)


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise JsonError(f"holds the number {literal[:40]}, beyond the range of a floating-point number")
    return value


def _no_constant(name: str):
    raise JsonError(f"holds {name}, which is not a number JSON allows")


# --------------------------------------------------------------------------------------------- images


def read_image(path, *, error: ErrorFactory = UserFileError, max_bytes: int = MAX_IMAGE_BYTES):
    """A fully loaded Pillow image from ``path``, opened only as one of ``IMAGE_FORMATS``.

    The file is read (bounded) into memory first, so Pillow never sees the path: no FIFO, no device,
    and the format is decided from the content among the allowed ones, never from the extension.
    """
    from PIL import Image, UnidentifiedImageError

    data = read_bytes(path, max_bytes=max_bytes, error=error)
    # Pillow warns about what it skips in odd files ("Tag data larger than file"; a decompression bomb,
    # which our own pixel limit below refuses in words): a person would see Python's warning text.
    with reading(path, error=error, what="is a damaged image"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
        except UnidentifiedImageError:
            raise error(path, "is not an image LayerLab can read (PNG, JPEG, BMP, GIF, TIFF or WebP)") from None
        width, height = image.size
        if width * height > MAX_IMAGE_PIXELS:
            raise error(path, f"is {width:,} x {height:,} pixels; LayerLab reads images of at most "
                              f"{MAX_IMAGE_PIXELS:,} pixels")
        image.load()
    return image
