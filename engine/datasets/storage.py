"""Where data set files live on this machine, and whether a copy found there is the genuine one.

Three places are searched, in order: the copy bundled in ``resources/datasets/<name>/``, the
download folder ``<data dir>/<name>/``, and read-only copies from OS packages (Debian's
``/usr/share/datasets/fashion-mnist/``). The data dir is ``$LAYERLAB_DATA_DIR`` when set,
otherwise ``<platformdirs user cache dir for "layerlab">/datasets``.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.resources
import os
import zlib
from collections.abc import Iterator
from pathlib import Path

from engine.datasets.errors import DatasetError, DatasetFileError
from engine.datasets.registry import DataFile, DatasetInfo
from engine.user_files import GIB, open_regular

DATA_DIR_ENV = "LAYERLAB_DATA_DIR"
# Imported sets are the user's own data, not a cache that can be downloaded again: they live in the user
# data folder (platformdirs), not beside the downloads.
IMPORTED_DIR_ENV = "LAYERLAB_IMPORTED_DIR"
_HASH_CHUNK = 1 << 20
# The largest data set file checksummed (and what a gzip may unpack to): as read_idx's limit, twenty times
# the largest classic IDX data set.
MAX_DATA_FILE_BYTES = 4 * GIB


def data_dir() -> Path:
    """The folder downloads go to (one sub-folder per data set); not created here."""
    override = os.environ.get(DATA_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    import platformdirs  # imported here so `import engine` needs only NumPy (e.g. on a bare GPU box)

    return Path(platformdirs.user_cache_dir("layerlab")) / "datasets"


def imported_dir() -> Path:
    """The folder of imported data sets (one sub-folder per set); not created here.

    ``$LAYERLAB_IMPORTED_DIR`` when set (the tests point it at a temporary folder), otherwise
    ``<platformdirs user data dir for "layerlab">/datasets``.
    """
    override = os.environ.get(IMPORTED_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("layerlab")) / "datasets"


def download_folder(info: DatasetInfo) -> Path:
    return data_dir() / info.name


def bundled_folder(info: DatasetInfo) -> Path | None:
    """``resources/datasets/<name>/`` wherever the ``resources`` package is installed, or None."""
    if not info.bundled:
        return None
    root = importlib.resources.files("resources") / "datasets" / info.name
    # A regular install (and PyInstaller) gives a real folder; anything else falls back to a download.
    return Path(str(root)) if root.is_dir() and Path(str(root)).is_dir() else None


def candidate_folders(info: DatasetInfo) -> Iterator[Path]:
    """The folders to search, in order, each worked out only when the search gets to it: the download
    folder needs platformdirs, which a bare GPU box reading the bundled MNIST may not have."""
    bundled = bundled_folder(info)
    if bundled is not None:
        yield bundled
    yield download_folder(info)
    yield from (Path(p) for p in info.system_folders)


def find_file(folder: Path, data_file: DataFile) -> Path | None:
    """The published file in ``folder``, or its gunzipped form (same name without .gz), or None.

    The gunzipped form only where the registry knows its content checksum: without one it could never be
    verified (CIFAR-10's archive gunzipped to ``.tar`` would only ever fail its check).
    """
    names = [data_file.filename]
    if data_file.content_sha256 is not None:
        names.append(data_file.filename.removesuffix(".gz"))
    for name in names:
        path = folder / name
        if path.is_file():
            return path
    return None


def find_local_copy(info: DatasetInfo) -> dict[str, Path] | None:
    """role -> path of every file, from the first folder that holds all of them; None when none does.

    Only checks that the files exist (cheap enough for a listing); ``verify_file`` checks content.
    """
    for folder in candidate_folders(info):
        found = {data_file.role: find_file(folder, data_file) for data_file in info.files}
        if found and all(found.values()):
            return found
    return None


def file_sha256(path: Path, *, max_bytes: int = MAX_DATA_FILE_BYTES) -> str:
    """SHA-256 of a regular file of at most ``max_bytes`` (a FIFO or ``/dev/zero`` is refused, never read)."""
    digest = hashlib.sha256()
    with open_regular(path, max_bytes=max_bytes, error=DatasetFileError) as stream:
        while chunk := stream.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def content_sha256(path: Path, *, max_bytes: int = MAX_DATA_FILE_BYTES) -> str:
    """SHA-256 of the uncompressed bytes: gzip is undone when the file starts with the gzip magic.

    Both the file and what it unpacks to are limited to ``max_bytes``: a small gzip can unpack to terabytes.
    """
    digest = hashlib.sha256()
    with open_regular(path, max_bytes=max_bytes, error=DatasetFileError) as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
        unpacked = 0
        try:
            while chunk := stream.read(_HASH_CHUNK):
                unpacked += len(chunk)
                if unpacked > max_bytes:
                    raise DatasetError(f"{path}: unpacks to more than {max_bytes:,} bytes; no data set file is "
                                       f"that large, so this is not one")
                digest.update(chunk)
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise DatasetError(f"{path}: corrupt gzip data ({exc}); the file is damaged or was cut short") from None
    return digest.hexdigest()


def verify_file(path: Path, data_file: DataFile) -> None:
    """Raise ``DatasetError`` unless ``path`` is the published file, byte for byte or in content.

    The published .gz is checked first (fast); a re-gzipped copy (Debian re-gzips) or a gunzipped
    one is accepted when its uncompressed content matches ``content_sha256``.
    """
    try:
        actual = file_sha256(path)
        if actual == data_file.sha256:
            return
        if data_file.content_sha256 is not None:
            content = content_sha256(path)
            if content == data_file.content_sha256:
                return
            raise DatasetError(
                f"{path}: checksum mismatch: expected uncompressed content SHA-256 {data_file.content_sha256} "
                f"(or {data_file.sha256} for the published .gz); received {content} (file SHA-256 {actual}). "
                f"The file is damaged, incomplete or a different version; delete it and load again"
            )
    except OSError as exc:
        raise DatasetError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    raise DatasetError(
        f"{path}: checksum mismatch: expected SHA-256 {data_file.sha256} (the published {data_file.filename}); "
        f"received {actual}. The file is damaged, incomplete or a different version; delete it and load again"
    )
