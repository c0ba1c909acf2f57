"""Download data set files: resumable, checksum-verified, atomic, with a progress callback.

A file is fetched into ``<name>.part`` next to its destination. A dropped connection keeps the
``.part`` and the next try asks the server for the rest (HTTP Range); only a ``.part`` whose
SHA-256 matches the registry is renamed into place, so a half or wrong file is never mistaken
for a good one. ``progress(done_bytes, total_bytes)`` is called after every chunk (``total_bytes``
is None when unknown); raising from it cancels the download and keeps the ``.part`` for later.

Nothing past a file's expected size is ever written: a server announcing a larger Content-Length is
refused before the body is read, and one that keeps sending is cut off one byte past the size (the
``.part`` is removed). Without an expected size the cap is ``MAX_DOWNLOAD_BYTES``.
"""

from __future__ import annotations

import http.client
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from engine.datasets.errors import DatasetError
from engine.datasets.registry import DatasetInfo, get_info
from engine.datasets.storage import DATA_DIR_ENV, download_folder, file_sha256, find_file, verify_file

ProgressCallback = Callable[[int, "int | None"], None]

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_RETRIES = 3  # resumes after a dropped connection, per file and mirror
# The cap on a download whose size is not known in advance; registered files are capped at their own size.
MAX_DOWNLOAD_BYTES = 1024**3
_CHUNK = 1 << 16
_USER_AGENT = "LayerLab dataset downloader (urllib)"
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


class _Unreachable(Exception):
    """This mirror could not be used (offline, refused, HTTP error); another one may work."""


class _Dropped(Exception):
    """The connection ended before the whole file arrived; the .part holds what did."""


def download_file(url: str, dest: str | os.PathLike, *, sha256: str, progress: ProgressCallback | None = None,
                  expected_size: int | None = None, timeout: float = DEFAULT_TIMEOUT_S,
                  retries: int = DEFAULT_RETRIES) -> Path:
    """Download ``url`` to ``dest`` and verify its SHA-256; resumes a ``dest.part`` left by an earlier try.

    Raises ``DatasetError`` when the server is unreachable, the connection keeps dropping (the
    ``.part`` is kept), the server sends more than ``expected_size`` (or ``MAX_DOWNLOAD_BYTES``), or the
    checksum is wrong (the ``.part`` is deleted in both last cases).
    """
    try:
        return _download_verified(url, Path(dest), sha256, progress, expected_size, timeout, retries)
    except _Unreachable as exc:
        raise DatasetError(f"{url}: cannot download ({exc})") from None
    except _Dropped as exc:
        raise DatasetError(f"{url}: {exc}") from None


def fetch(info: DatasetInfo | str, *, progress: ProgressCallback | None = None, timeout: float = DEFAULT_TIMEOUT_S,
          retries: int = DEFAULT_RETRIES) -> dict[str, Path]:
    """Make every file of ``info`` present and verified in its download folder; role -> path.

    Files already there are verified, not downloaded again. ``progress`` sees the whole data set:
    ``done_bytes`` and ``total_bytes`` add up over its files.
    """
    info = get_info(info) if isinstance(info, str) else info
    folder = download_folder(info)
    total = sum(data_file.size for data_file in info.files)
    done_before = 0
    paths: dict[str, Path] = {}
    for data_file in info.files:
        present = find_file(folder, data_file)
        if present is not None:
            verify_file(present, data_file)
            paths[data_file.role] = present
        else:
            def file_progress(done: int, _file_total: int | None, offset: int = done_before) -> None:
                if progress is not None:
                    progress(offset + done, total)

            paths[data_file.role] = _download_from_mirrors(info, folder, data_file, file_progress, timeout, retries)
        done_before += data_file.size
        if progress is not None:
            progress(done_before, total)
    return paths


def _download_from_mirrors(info, folder, data_file, progress, timeout, retries) -> Path:
    failures = []
    for base in info.mirrors:
        url = base.rstrip("/") + "/" + data_file.filename
        try:
            return _download_verified(url, folder / data_file.filename, data_file.sha256, progress,
                                      data_file.size, timeout, retries)
        except (_Unreachable, _Dropped) as exc:
            failures.append(f"{url}: {exc}")
        except DatasetError as exc:  # a wrong checksum: this mirror serves something else; try the next
            failures.append(str(exc))
    raise DatasetError(manual_install_message(info, folder, failures))


def manual_install_message(info: DatasetInfo, folder: Path, failures: list[str]) -> str:
    """What went wrong, then where to put the files by hand: exact folder, names and checksums."""
    lines = [f"Could not download {info.title} ({info.name})."]
    lines += [f"  - {failure}" for failure in failures] or ["  - no download mirror is known for it"]
    lines.append(f"To install it by hand, put these files in {folder}{os.sep}")
    for data_file in info.files:
        urls = " or ".join(base.rstrip("/") + "/" + data_file.filename for base in info.mirrors)
        lines.append(f"  {data_file.filename}  (SHA-256 {data_file.sha256}{'; from ' + urls if urls else ''})")
    lines.append(f"Set {DATA_DIR_ENV} to use another folder (files then go in ${DATA_DIR_ENV}/{info.name}/).")
    if info.system_folders:
        package = f"; on Debian or Ubuntu: sudo apt-get install {info.system_package}" if info.system_package else ""
        lines.append(f"A copy in {' or '.join(info.system_folders)} is also used{package}")
    return "\n".join(lines)


def _download_verified(url, dest: Path, sha256, progress, expected_size, timeout, retries) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    if expected_size is not None and part.exists() and part.stat().st_size > expected_size:
        part.unlink()  # longer than the published file: cannot be a prefix of it
    for attempt in range(retries + 1):
        try:
            _fetch_into(url, part, progress, expected_size, timeout)
            break
        except _Dropped:
            if attempt == retries:
                size = part.stat().st_size if part.exists() else 0
                raise _Dropped(f"connection dropped {retries + 1} times; {size:,} bytes kept in {part}, "
                               f"the next try resumes from there") from None
    actual = file_sha256(part)
    if actual != sha256:
        part.unlink(missing_ok=True)
        raise DatasetError(f"{url}: checksum mismatch: expected SHA-256 {sha256}; received {actual}. "
                           f"The download was discarded; the server may be serving a different or damaged file")
    os.replace(part, dest)
    return dest


def _fetch_into(url: str, part: Path, progress, expected_size: int | None, timeout: float) -> None:
    start = part.stat().st_size if part.exists() else 0
    if expected_size is not None and start == expected_size:
        return  # already whole: the checksum decides
    headers = {"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"}
    if start:
        headers["Range"] = f"bytes={start}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and start:
            return  # nothing left to send: the .part is whole (or wrong, which the checksum catches)
        raise _Unreachable(f"HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        raise _Unreachable(f"offline or unreachable: {getattr(exc, 'reason', exc)}") from None

    with response:
        resumed = False
        if start and response.status == 206:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            resumed = bool(match) and int(match.group(1)) == start
            if not resumed:
                part.unlink()  # cannot tell what the server sent; start over on the next try
                raise _Dropped("the server answered the resume request with a different range")
        if not resumed:
            start = 0  # the server ignored Range and sends the whole file
        length_header = response.headers.get("Content-Length")
        remaining = int(length_header) if length_header and length_header.isdigit() else None
        limit = expected_size if expected_size is not None else MAX_DOWNLOAD_BYTES
        if remaining is not None and start + remaining > limit:
            part.unlink(missing_ok=True)
            raise DatasetError(f"{url}: the server offers {start + remaining:,} bytes, more than the {limit:,} bytes "
                               f"expected; refused before downloading")
        total = start + remaining if remaining is not None else expected_size
        done = start
        with open(part, "ab" if resumed else "wb") as out:
            while done <= limit:  # never more than one byte past the limit, whatever the server keeps sending
                try:
                    chunk = response.read(min(_CHUNK, limit + 1 - done))
                except (http.client.HTTPException, OSError) as exc:
                    raise _Dropped(f"connection dropped after {done:,} bytes ({exc})") from None
                if not chunk:
                    break
                out.write(chunk)
                done += len(chunk)
                if progress is not None and done <= limit:
                    progress(done, total)
        if done > limit:
            part.unlink(missing_ok=True)
            raise DatasetError(f"{url}: the server sent more than the {limit:,} bytes expected; the download was "
                               f"stopped and discarded")
        # urllib returns b"" rather than raising when the peer closes early, so count the bytes.
        if remaining is not None and done - start < remaining:
            raise _Dropped(f"connection dropped after {done:,} of {total:,} bytes")
