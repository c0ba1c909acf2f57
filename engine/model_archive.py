"""The checks behind reading a model file's zip archive: every member judged before it is decompressed.

``engine.serialization`` reads model files through these. A model file is a hostile user's best tool:
a 1 MB deflated member can claim (and hold) a gigabyte of zeros, a member can be encrypted or use a
compression method nobody implements, a ``.npy`` header is Python literal syntax, and the arrays may
hold NaN. So, before a member is decompressed, its zip entry must say it is stored or deflated, not
encrypted, and exactly as large as the ``.npy`` file of the shape and dtype the network expects; it is
then read in bounded chunks (never more than it declared), its checksum compared, its header compared
with what was expected, and its values checked to be finite. Every refusal is a ``ModelFileError``
naming the file and the array.
"""

from __future__ import annotations

import hashlib
import io
import math
import zipfile
from dataclasses import dataclass

import numpy as np

from engine.errors import ModelFileError
from engine.user_files import GIB, MIB, reading

# The most a model file may be, on disk and unpacked: weights plus optimizer state (Adam keeps two more
# copies) of about 350 million float32 parameters, a hundred times the seed CNN's 3.3 million and more
# than any network a desktop trains, yet within the memory of the machines LayerLab runs on.
MAX_MODEL_BYTES = 4 * GIB
MAX_MEMBERS = 65_535  # a model has a few entries per layer; a zip's plain directory counts up to this
MAX_DIRECTORY_BYTES = 16 * MIB  # zipfile keeps one Python object per entry: bound it before it parses them
MAX_NPY_HEADER_BYTES = 4096  # NumPy writes 64 or 128 bytes; its own reader accepts up to 10,000
# No training run ends with a weight this large: it overflows float32 (3.4e38) as soon as it meets an
# activation of 1e8, and the run that made it would have stopped on a non-finite loss first.
MAX_WEIGHT_MAGNITUDE = 1e30
READ_CHUNK = 1 * MIB
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
_ENCRYPTED = 0x1  # general purpose flag bit 0


@dataclass(frozen=True)
class ArrayEntry:
    """One array as the manifest lists it, already checked against what the network expects."""

    name: str
    info: zipfile.ZipInfo
    shape: tuple[int, ...]
    dtype: np.dtype
    sha256: str


def open_archive(stream, path) -> zipfile.ZipFile:
    """The zip archive in ``stream``, its directory checked to be of a model's size before zipfile parses it."""
    with reading(path, error=ModelFileError, what="not a LayerLab model file, or truncated"):
        end = zipfile._EndRecData(stream)  # noqa: SLF001 - the one reader of the end record; stable since 2.x
        if end is None:
            raise ModelFileError(path, "not a LayerLab model file (not a zip archive), or truncated")
        members, directory = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]  # noqa: SLF001
        if members > MAX_MEMBERS or directory > MAX_DIRECTORY_BYTES:
            raise ModelFileError(path, f"not a LayerLab model file: its zip directory lists {members:,} entries in "
                                       f"{directory:,} bytes (a model has a few per layer)")
        stream.seek(0)
        return zipfile.ZipFile(stream)


def member_info(archive: zipfile.ZipFile, path, member: str, what: str) -> zipfile.ZipInfo:
    """The zip entry of ``member``: present, stored or deflated, not encrypted."""
    try:
        info = archive.getinfo(member)
    except KeyError:
        raise ModelFileError(path, f"{what} is missing ({member} is not in the archive)") from None
    if info.flag_bits & _ENCRYPTED:
        raise ModelFileError(path, f"{what} is encrypted ({member}); LayerLab writes and reads model files "
                                   f"without a password")
    if info.compress_type not in _METHODS:
        raise ModelFileError(path, f"{what} uses zip compression method {info.compress_type} ({member}); "
                                   f"LayerLab reads only stored or deflated members")
    return info


def read_member(archive: zipfile.ZipFile, path, info: zipfile.ZipInfo, what: str) -> bytearray:
    """The member's bytes, decompressed in bounded chunks: never more than its declared size in memory.

    (``ZipExtFile.read()`` with no size decompresses everything the member holds in one call before
    trimming it to the declared size; chunked reads never produce more than they ask for.)
    """
    data = bytearray(info.file_size)
    view = memoryview(data)
    filled = 0
    with reading(path, error=ModelFileError, what=f"{what} is damaged"), archive.open(info) as member:
        while filled < info.file_size:
            chunk = member.read(min(READ_CHUNK, info.file_size - filled))
            if not chunk:
                raise ModelFileError(path, f"{what} is truncated ({filled:,} of {info.file_size:,} bytes)")
            view[filled:filled + len(chunk)] = chunk
            filled += len(chunk)
        if member.read(1):
            raise ModelFileError(path, f"{what} holds more than its declared {info.file_size:,} bytes")
    view.release()
    return data


def check_entry(archive, path, name: str, entry, shape: tuple[int, ...], dtype: np.dtype) -> ArrayEntry:
    """The manifest's ``entry`` for array ``name``, checked, without decompressing anything.

    ``shape`` and ``dtype`` are what the network built from the manifest's spec expects.
    """
    what = f"array {name!r}"
    if not isinstance(entry, dict):
        raise ModelFileError(path, f"the manifest's entry for {what} is not an object")
    for field, kind in (("file", "a member name"), ("sha256", "a checksum")):
        if not isinstance(entry.get(field), str):
            raise ModelFileError(path, f"the manifest's entry for {what} has no valid {field!r} ({kind} expected)")
    saved_shape = entry.get("shape")
    if not (isinstance(saved_shape, list) and all(isinstance(n, int) and not isinstance(n, bool) for n in saved_shape)):
        raise ModelFileError(path, f"the manifest's 'shape' of {what} is not a list of whole numbers")
    if tuple(saved_shape) != tuple(shape):
        raise ModelFileError(path, f"{what} has shape {_shape(saved_shape)} in the manifest; the network inside "
                                   f"needs {_shape(shape)}")
    if entry.get("dtype") != dtype.name:
        raise ModelFileError(path, f"the manifest's 'dtype' of {what} is {entry.get('dtype')!r:.40}; the network "
                                   f"inside needs {dtype.name}")
    info = member_info(archive, path, entry["file"], what)
    data_bytes = math.prod(shape) * dtype.itemsize
    header = info.file_size - data_bytes
    if not 10 <= header <= MAX_NPY_HEADER_BYTES:  # the .npy magic, version and length alone take 10 bytes
        raise ModelFileError(path, f"{what} declares {info.file_size:,} bytes in the archive; an array of shape "
                                   f"{_shape(shape)} and dtype {dtype.name} takes {data_bytes:,} and a short header")
    return ArrayEntry(name, info, tuple(shape), dtype, entry["sha256"])


def read_array(archive, path, entry: ArrayEntry, max_magnitude: float | None) -> np.ndarray:
    """The array ``entry`` describes, its bytes, header, values and size all checked."""
    what = f"array {entry.name!r}"
    data = read_member(archive, path, entry.info, what)
    if hashlib.sha256(data).hexdigest() != entry.sha256:
        raise ModelFileError(path, f"{what} does not match its checksum (the file was modified or damaged)")
    with reading(path, error=ModelFileError, what=f"{what} does not start with a valid NumPy header"):
        stream = io.BytesIO(bytes(data[:MAX_NPY_HEADER_BYTES]))
        version = np.lib.format.read_magic(stream)
        if version not in ((1, 0), (2, 0)):
            raise ModelFileError(path, f"{what} is a NumPy file of version {version[0]}.{version[1]}, which "
                                       f"LayerLab does not read")
        header = (np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0)
        shape, fortran_order, dtype = header(stream, max_header_size=MAX_NPY_HEADER_BYTES)
    if tuple(shape) != entry.shape or dtype != entry.dtype or dtype.hasobject:
        raise ModelFileError(path, f"{what} holds shape {_shape(shape)} and dtype {dtype}; the manifest says "
                                   f"{_shape(entry.shape)} and {entry.dtype.name}")
    offset = stream.tell()
    count = math.prod(entry.shape)
    if len(data) - offset != count * dtype.itemsize:
        raise ModelFileError(path, f"{what} holds {len(data) - offset:,} bytes of values; its shape needs "
                                   f"{count * dtype.itemsize:,}")
    array = np.frombuffer(data, dtype=dtype, count=count, offset=offset)  # no copy: the bytes were ours
    array = array.reshape(entry.shape, order="F" if fortran_order else "C")
    check_values(path, what, array, max_magnitude)
    return array


def check_values(path, what: str, array: np.ndarray, max_magnitude: float | None) -> None:
    """Refuse NaN, infinities and (with ``max_magnitude``) values no trained network holds; in chunks."""
    flat = array.reshape(-1, order="A")
    for start in range(0, flat.size, READ_CHUNK):
        chunk = flat[start:start + READ_CHUNK]
        if not np.isfinite(chunk).all():
            kind = "NaN (not a number)" if np.isnan(chunk).any() else "infinite values"
            raise ModelFileError(path, f"{what} holds {kind}: it is damaged, or comes from a run that diverged")
        if max_magnitude is not None and chunk.size and float(np.abs(chunk).max()) > max_magnitude:
            raise ModelFileError(path, f"{what} holds a value of {float(np.abs(chunk).max()):.3g}, beyond the "
                                       f"{max_magnitude:.0e} no trained network reaches: it is damaged")


def _shape(shape) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ")"
