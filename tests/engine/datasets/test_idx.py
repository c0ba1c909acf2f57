"""IDX reading and writing: round trips, and every kind of bad file refused with a clear message."""

import gzip
import struct
import tracemalloc

import numpy as np
import pytest

from engine.datasets import DatasetError, read_idx, write_idx


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize(
    "dtype, shape",
    [
        (np.uint8, (5, 28, 28)),
        (np.uint8, (7,)),
        (np.int8, (3, 4)),
        (np.int16, (2, 3, 4)),
        (np.int32, (6, 2)),
        (np.float32, (3, 2, 5, 5)),
        (np.float64, (4, 1)),
        (np.uint8, (0, 28, 28)),
    ],
)
def test_round_trip_keeps_values_dtype_and_shape(tmp_path, dtype, shape, suffix, rng):
    info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else None
    if info is not None:
        array = rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
    else:
        array = rng.standard_normal(shape).astype(dtype)
    path = write_idx(tmp_path / f"data-idx{len(shape)}{suffix}", array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    assert back.shape == shape
    np.testing.assert_array_equal(back, array)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_gz_suffix_writes_gzip_and_raw_writes_the_documented_header(tmp_path):
    labels = np.array([5, 0, 4], dtype=np.uint8)
    write_idx(tmp_path / "labels.gz", labels)
    write_idx(tmp_path / "labels", labels)
    assert (tmp_path / "labels.gz").read_bytes()[:2] == b"\x1f\x8b"
    assert (tmp_path / "labels").read_bytes() == bytes([0, 0, 8, 1]) + struct.pack(">I", 3) + bytes([5, 0, 4])
    assert gzip.decompress((tmp_path / "labels.gz").read_bytes()) == (tmp_path / "labels").read_bytes()


def test_write_refuses_unsupported_dtype_and_keeps_the_existing_file(tmp_path):
    path = write_idx(tmp_path / "labels", np.arange(3, dtype=np.uint8))
    before = path.read_bytes()
    with pytest.raises(DatasetError, match=r"cannot write dtype int64.*uint8"):
        write_idx(path, np.arange(3, dtype=np.int64))
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]


def _header(code: int, dims) -> bytes:
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


def _write(path, data: bytes):
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


@pytest.fixture(params=["", ".gz"], ids=["raw", "gz"])
def suffix(request):
    return request.param


def test_bad_magic_is_refused(tmp_path, suffix):
    path = _write(tmp_path / f"bad{suffix}", b"\x12\x34\x08\x01" + struct.pack(">I", 1) + b"\x00")
    with pytest.raises(DatasetError, match=r"bad.*bad magic number 0x12340801.*not an IDX file"):
        read_idx(path)


def test_unknown_dtype_code_is_refused(tmp_path, suffix):
    path = _write(tmp_path / f"code{suffix}", _header(0x0A, [1]) + b"\x00")
    with pytest.raises(DatasetError, match=r"code.*unknown IDX dtype code 0x0A; expected one of 0x08"):
        read_idx(path)


def test_zero_dimensions_are_refused(tmp_path, suffix):
    path = _write(tmp_path / f"nodims{suffix}", bytes([0, 0, 8, 0]))
    with pytest.raises(DatasetError, match="declares 0 dimensions"):
        read_idx(path)


def test_truncated_payload_is_refused(tmp_path, suffix):
    path = _write(tmp_path / f"short{suffix}", _header(0x08, [10, 28, 28]) + bytes(28 * 28 * 10 - 1))
    with pytest.raises(DatasetError, match=r"short.*truncated.*7,840 bytes"):
        read_idx(path)


def test_truncated_header_is_refused(tmp_path, suffix):
    path = _write(tmp_path / f"stub{suffix}", bytes([0, 0, 8, 3]) + struct.pack(">I", 10))
    with pytest.raises(DatasetError, match="truncated inside the header"):
        read_idx(path)


def test_empty_file_is_refused(tmp_path):
    path = _write(tmp_path / "empty", b"")
    with pytest.raises(DatasetError, match="truncated: expected a 4-byte IDX magic number; received 0 bytes"):
        read_idx(path)


def test_trailing_garbage_is_refused(tmp_path, suffix):
    path = _write(tmp_path / f"long{suffix}", _header(0x08, [3]) + bytes([1, 2, 3]) + b"junk")
    with pytest.raises(DatasetError, match="trailing bytes"):
        read_idx(path)


def test_gzip_cut_short_is_refused(tmp_path):
    whole = gzip.compress(_header(0x08, [1000]) + bytes(range(256)) * 4)
    path = tmp_path / "cut.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DatasetError, match="cut"):
        read_idx(path)


def test_gzip_with_bad_crc_is_refused(tmp_path):
    whole = bytearray(gzip.compress(_header(0x08, [4]) + b"abcd"))
    whole[-8] ^= 0xFF  # the CRC-32 of the trailer
    path = tmp_path / "crc.gz"
    path.write_bytes(bytes(whole))
    with pytest.raises(DatasetError, match=r"crc\.gz: corrupt gzip data"):
        read_idx(path)


def test_missing_file_and_folder_are_named(tmp_path):
    with pytest.raises(DatasetError, match=r"nothing-here: no such file"):
        read_idx(tmp_path / "nothing-here")
    with pytest.raises(DatasetError, match="is a folder, not a file"):
        read_idx(tmp_path)


@pytest.mark.parametrize("dims", [(4_000_000_000, 28, 28), (1_000_000, 1_000_000)], ids=["4e9 images", "1e12 items"])
def test_absurd_header_fails_before_allocating(tmp_path, suffix, dims):
    # 3e12 and 1e12 bytes declared, a handful present: refused from the header alone.
    path = _write(tmp_path / f"absurd{suffix}", _header(0x08, dims) + bytes(100))
    tracemalloc.start()
    try:
        with pytest.raises(DatasetError, match=r"absurd.*header declares shape"):
            read_idx(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024**2


def test_gzip_claiming_more_than_it_can_hold_fails_before_allocating(tmp_path):
    # 400 MB declared (under the 4 GiB limit) in a ~150-byte .gz: no deflate stream expands that far.
    path = _write(tmp_path / "bomb.gz", _header(0x08, [500_000, 28, 28]) + bytes(100))
    tracemalloc.start()
    try:
        with pytest.raises(DatasetError, match=r"bomb\.gz.*cannot hold that much"):
            read_idx(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024**2


def test_max_bytes_limit_is_adjustable(tmp_path):
    path = write_idx(tmp_path / "images", np.zeros((10, 28, 28), dtype=np.uint8))
    with pytest.raises(DatasetError, match="more than the 1,000-byte limit"):
        read_idx(path, max_bytes=1000)
    assert read_idx(path, max_bytes=10 * 28 * 28).shape == (10, 28, 28)
