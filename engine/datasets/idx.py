"""Read and write IDX files (the MNIST format), raw or gzipped, without trusting their headers.

An IDX file is a 4-byte magic number ``00 00 <dtype code> <ndim>``, then ``ndim`` big-endian
uint32 dimensions, then the values in row-major order, big-endian. A file comes from the internet
or a user, so every claim in its header is checked against what the file really holds *before*
memory is committed for it: a header declaring 10^12 images fails at once, with a message naming
the file and the problem.

    images = read_idx("train-images-idx3-ubyte.gz")    # uint8, shape (60000, 28, 28)
    write_idx("out/labels-idx1-ubyte.gz", labels.astype(np.uint8))
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from engine.datasets.errors import DatasetError, DatasetFileError
from engine.files import atomic_write
from engine.user_files import open_regular

# dtype code -> big-endian dtype, as defined by the IDX format.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES_BY_DTYPE = {dtype.newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}

# Four gibibytes: twenty times the largest classic IDX data set, far below what a header can claim.
DEFAULT_MAX_BYTES = 4 * 1024**3
# Deflate cannot expand data by more than about 1032:1, so a .gz of n bytes holds at most ~1032*n.
_MAX_DEFLATE_RATIO = 1032
_MAX_NDIM = 16
_CHUNK = 1 << 20  # decompress in bounded 1 MiB steps
_GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path: str | os.PathLike, *, max_bytes: int = DEFAULT_MAX_BYTES) -> np.ndarray:
    """Read an IDX file (gzip detected from its content) into a native-byte-order NumPy array.

    Raises ``DatasetError`` naming the file for a missing file, anything but a regular file (a FIFO, a
    device, a folder), a bad magic number, an unknown dtype code, a declared size over ``max_bytes`` or
    more than the file can hold, a truncated payload, trailing bytes, or a corrupt gzip stream.
    """
    path = Path(path)
    # open_regular refuses a FIFO, a device (/dev/zero) or a folder before reading, and any file longer
    # than the largest IDX file of max_bytes (a gzip can be a little larger than what it holds).
    with open_regular(path, max_bytes=_max_file_bytes(max_bytes), error=DatasetFileError) as raw:
        file_size = os.fstat(raw.fileno()).st_size
        try:
            compressed = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            if compressed:
                with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                    return _read_stream(stream, path, file_size, compressed=True, max_bytes=max_bytes)
            return _read_stream(raw, path, file_size, compressed=False, max_bytes=max_bytes)
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise DatasetError(f"{path}: corrupt gzip data ({exc}); the file is damaged or was cut short") from None
        except OSError as exc:
            raise DatasetError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _max_file_bytes(max_payload_bytes: int) -> int:
    """The largest IDX file that can hold ``max_payload_bytes``: header, plus gzip's worst-case growth
    (stored blocks add 5 bytes per 64 KiB) and its own header and trailer."""
    return max_payload_bytes + max_payload_bytes // 1000 + 1024**2


def _read_stream(stream, path: Path, file_size: int, *, compressed: bool, max_bytes: int) -> np.ndarray:
    dtype, shape, header_size = _read_header(stream, path)
    count = math.prod(shape)
    payload_bytes = count * dtype.itemsize  # Python ints: no overflow, whatever the header says
    if payload_bytes > max_bytes:
        raise DatasetError(
            f"{path}: header declares shape {shape} ({payload_bytes:,} bytes of data), more than the "
            f"{max_bytes:,}-byte limit; the file is corrupt or not an IDX file"
        )
    if compressed:
        if header_size + payload_bytes > file_size * _MAX_DEFLATE_RATIO + 1024:
            raise DatasetError(
                f"{path}: header declares shape {shape} ({payload_bytes:,} bytes of data), but a gzip file "
                f"of {file_size:,} bytes cannot hold that much; the header is corrupt"
            )
    else:
        actual = file_size - header_size
        if actual != payload_bytes:
            problem = "truncated" if actual < payload_bytes else "has trailing bytes after the data"
            raise DatasetError(
                f"{path}: {problem}: header declares shape {shape}, i.e. {payload_bytes:,} bytes of data; "
                f"received {actual:,} bytes after the {header_size}-byte header"
            )

    flat = np.empty(count, dtype=dtype)
    buffer = flat.view(np.uint8)  # the same memory as bytes (works for zero-length arrays too)
    filled = 0
    while filled < payload_bytes:
        got = stream.readinto(buffer[filled : min(filled + _CHUNK, payload_bytes)])
        if not got:
            raise DatasetError(
                f"{path}: truncated: header declares shape {shape}, i.e. {payload_bytes:,} bytes of data; "
                f"received only {filled:,} bytes"
            )
        filled += got
    if stream.read(1):  # also makes gzip check its CRC and length trailer
        raise DatasetError(
            f"{path}: has trailing bytes after the data: header declares shape {shape} "
            f"({payload_bytes:,} bytes of data), but the file goes on"
        )
    native = flat if dtype.itemsize == 1 else flat.astype(dtype.newbyteorder("="))
    return native.reshape(shape)


def _read_header(stream, path: Path) -> tuple[np.dtype, tuple[int, ...], int]:
    magic = stream.read(4)
    if len(magic) < 4:
        raise DatasetError(f"{path}: truncated: expected a 4-byte IDX magic number; received {len(magic)} bytes")
    if magic[0] != 0 or magic[1] != 0:
        raise DatasetError(
            f"{path}: bad magic number 0x{magic.hex().upper()}: expected 0x0000 followed by a dtype code and "
            f"the number of dimensions (e.g. 0x00000803 for images); this is not an IDX file"
        )
    code, ndim = magic[2], magic[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X} ({d.name})" for c, d in IDX_DTYPES.items())
        raise DatasetError(f"{path}: unknown IDX dtype code 0x{code:02X}; expected one of {known}")
    if not 1 <= ndim <= _MAX_NDIM:
        raise DatasetError(f"{path}: header declares {ndim} dimensions; expected 1 to {_MAX_NDIM}")
    raw_dims = stream.read(4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise DatasetError(f"{path}: truncated inside the header: expected {ndim} dimension sizes")
    shape = struct.unpack(f">{ndim}I", raw_dims)
    return IDX_DTYPES[code], tuple(int(d) for d in shape), 4 + 4 * ndim


def write_idx(path: str | os.PathLike, array, *, compresslevel: int = 9) -> Path:
    """Write ``array`` as an IDX file, gzipped when ``path`` ends in ``.gz``; atomic (temp file, then rename).

    Supported dtypes: uint8, int8, int16, int32, float32, float64. ``compresslevel`` is gzip's (1 fast to
    9 small). Returns the path written.
    """
    path = Path(path)
    array = np.asarray(array)
    code = _CODES_BY_DTYPE.get(array.dtype.newbyteorder("="))
    if code is None:
        names = ", ".join(d.newbyteorder("=").name for d in IDX_DTYPES.values())
        raise DatasetError(f"{path}: cannot write dtype {array.dtype} as IDX; expected one of {names} "
                           f"(cast first, e.g. labels.astype(np.uint8))")
    if not 1 <= array.ndim <= _MAX_NDIM or any(d >= 2**32 for d in array.shape):
        raise DatasetError(f"{path}: cannot write shape {array.shape} as IDX; expected 1 to {_MAX_NDIM} "
                           f"dimensions, each below 2**32")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = np.ascontiguousarray(array, dtype=IDX_DTYPES[code])
    _atomic_write(path, header, payload.reshape(-1).view(np.uint8), compress=path.name.endswith(".gz"),
                  compresslevel=compresslevel)
    return path


def _atomic_write(path: Path, header: bytes, payload: np.ndarray, *, compress: bool, compresslevel: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(raw):
        if compress:
            # mtime=0 makes the same array give byte-identical files.
            with gzip.GzipFile(filename=path.name[:-3], mode="wb", fileobj=raw, mtime=0,
                               compresslevel=compresslevel) as stream:
                stream.write(header)
                stream.write(payload)
        else:
            raw.write(header)
            raw.write(payload)

    atomic_write(path, write)
