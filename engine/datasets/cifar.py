"""CIFAR-10 read straight from the official ``cifar-10-binary.tar.gz``, never extracted to disk.

    train_x, train_y, test_x, test_y = read_cifar10_archive(path)   # uint8 (N, 3, 32, 32), int64 labels

The archive (https://www.cs.toronto.edu/~kriz/cifar.html) holds ``cifar-10-batches-bin/data_batch_1.bin``
to ``data_batch_5.bin`` and ``test_batch.bin``: 10,000 records each of 1 label byte and 3,072 pixel bytes,
the 1,024 red bytes first, then green, then blue, each plane row by row. That is already channel-first,
so a record reshapes to (3, 32, 32) without a transpose.

The archive is read as a stream (tarfile mode ``r|gz``): nothing is written, members come in the order
they are stored, and only the six expected names are read, as regular files of whole records. Links are
refused, never followed; every other member is skipped under a byte and count budget, so a hostile archive
cannot make the reader decompress without end.
"""

from __future__ import annotations

import gzip
import os
import tarfile

import numpy as np

from engine.datasets.errors import DatasetFileError
from engine.design_limits import format_bytes
from engine.user_files import GIB, MIB, open_regular, reading

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

ARCHIVE_FOLDER = "cifar-10-batches-bin"
TRAIN_MEMBERS = tuple(f"{ARCHIVE_FOLDER}/data_batch_{i}.bin" for i in range(1, 6))
TEST_MEMBER = f"{ARCHIVE_FOLDER}/test_batch.bin"
IMAGE_SHAPE = (3, 32, 32)
RECORD_BYTES = 1 + 3 * 32 * 32  # a label byte, then the R, G and B planes
MAX_RECORDS = 10_000  # per member, as published; tests write members of a few records
MAX_ARCHIVE_BYTES = 1 * GIB  # the official archive is 170 MB
MAX_MEMBERS = 64  # the official archive has 9 (a folder, a readme, a meta file and the six batches)
MAX_SKIPPED_BYTES = 16 * MIB  # what the members we do not read may add up to (the official ones: ~200 bytes)
# All the archive may unpack to: the six batches at most, the skipped members and room for tar headers. Checked
# as the gzip stream is read, so no header (a pax or GNU long name tarfile reads whole) can unpack a bomb.
MAX_UNPACKED_BYTES = 6 * MAX_RECORDS * RECORD_BYTES + MAX_SKIPPED_BYTES + 1 * MIB
GZIP_SIGNATURE = b"\x1f\x8b"


def read_cifar10_archive(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The train and test images (uint8 N x 3 x 32 x 32) and labels (int64 0-9) in the archive at ``path``.

    Raises ``DatasetError`` naming the archive (and the member, when one is at fault) for a file that is
    not a gzip tar, a missing or duplicated batch, a batch that is a link or not a whole number of
    1-10,000 records, and a label above 9.
    """
    path = str(path)
    batches: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    with open_regular(path, max_bytes=MAX_ARCHIVE_BYTES, error=DatasetFileError) as stream, \
            reading(path, error=DatasetFileError, what="is not a readable CIFAR-10 archive (.tar.gz)"):
        signature = stream.read(2)
        if signature != GZIP_SIGNATURE:
            raise DatasetFileError(path, "is empty; expected the CIFAR-10 binary archive (.tar.gz)" if not signature
                                   else "is not a gzip file; expected the CIFAR-10 binary archive (.tar.gz)")
        stream.seek(0)
        unpacked = _LimitedReader(gzip.GzipFile(fileobj=stream, mode="rb"), MAX_UNPACKED_BYTES, path)
        with tarfile.open(fileobj=unpacked, mode="r|") as archive:
            members = skipped_bytes = 0
            for member in archive:
                members += 1
                if members > MAX_MEMBERS:
                    raise DatasetFileError(path, f"has more than {MAX_MEMBERS} members; the CIFAR-10 archive has 9")
                name = member.name.removeprefix("./")
                if name not in TRAIN_MEMBERS and name != TEST_MEMBER:
                    skipped_bytes += member.size if member.isreg() else 0
                    if skipped_bytes > MAX_SKIPPED_BYTES:
                        raise DatasetFileError(path, "holds more than 16 MB besides the CIFAR-10 batches; "
                                                     "it is not the CIFAR-10 binary archive")
                    continue
                if name in batches:
                    raise DatasetFileError(path, f"{name}: appears twice in the archive")
                batches[name] = _read_batch(archive, member, path, name)
    missing = [name for name in (*TRAIN_MEMBERS, TEST_MEMBER) if name not in batches]
    if missing:
        raise DatasetFileError(path, f"{missing[0]}: missing from the archive; expected the CIFAR-10 binary "
                                     f"version (cifar-10-binary.tar.gz) with {', '.join(_short(TRAIN_MEMBERS))} "
                                     f"and {_short((TEST_MEMBER,))[0]}")
    train_images = np.concatenate([batches[name][0] for name in TRAIN_MEMBERS])
    train_labels = np.concatenate([batches[name][1] for name in TRAIN_MEMBERS])
    test_images, test_labels = batches[TEST_MEMBER]
    return train_images, train_labels, test_images, test_labels


def _read_batch(archive: tarfile.TarFile, member: tarfile.TarInfo, path: str, name: str):
    """One batch member's images and labels, after checking it is a regular file of whole records."""
    where = name
    if not member.isreg():
        kind = "a link" if member.issym() or member.islnk() else "a folder" if member.isdir() else "not a file"
        raise DatasetFileError(path, f"{where}: is {kind}, not a regular file; links in an archive are never "
                                     "followed")
    records, extra = divmod(member.size, RECORD_BYTES)
    if extra or not 1 <= records <= MAX_RECORDS:
        raise DatasetFileError(path, f"{where}: expected 1 to {MAX_RECORDS:,} records of {RECORD_BYTES:,} bytes "
                                     f"({MAX_RECORDS * RECORD_BYTES:,} bytes as published); received "
                                     f"{member.size:,} bytes")
    data = archive.extractfile(member).read(member.size)
    if len(data) != member.size:  # tarfile raises for a short member in a stream; this is the belt to its braces
        raise DatasetFileError(path, f"{where}: ends after {len(data):,} of its {member.size:,} bytes")
    table = np.frombuffer(data, dtype=np.uint8).reshape(records, RECORD_BYTES)
    labels = table[:, 0].astype(np.int64)
    if labels.max() >= len(CIFAR10_CLASSES):
        record = int(np.argmax(labels >= len(CIFAR10_CLASSES)))
        raise DatasetFileError(path, f"{where}: record {record + 1:,} has label {labels[record]}; expected 0 to 9")
    images = table[:, 1:].reshape(records, *IMAGE_SHAPE).copy()  # a copy: frees the 30 MB byte string's view
    return images, labels


class _LimitedReader:
    """A stream that refuses to give more than ``limit`` bytes in all (tarfile's stream mode only calls read)."""

    def __init__(self, stream, limit: int, path: str) -> None:
        self.stream, self.left, self.limit, self.path = stream, limit, limit, path

    def read(self, size: int = -1) -> bytes:
        wanted = self.left + 1 if size is None or size < 0 else min(size, self.left + 1)
        data = self.stream.read(wanted)
        self.left -= len(data)
        if self.left < 0:
            raise DatasetFileError(self.path, f"unpacks to more than {format_bytes(self.limit)}; the CIFAR-10 "
                                              "binary archive unpacks to about 184 MB")
        return data


def _short(names) -> list[str]:
    return [name.rsplit("/", 1)[-1] for name in names]
