"""CIFAR-10 from its binary .tar.gz: small archives written here in CIFAR's own format, good and hostile."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from dataclasses import replace

import numpy as np
import pytest

from engine.datasets import DatasetError, cifar, load, registry
from engine.datasets.cifar import CIFAR10_CLASSES, TEST_MEMBER, TRAIN_MEMBERS, read_cifar10_archive

RECORD = 3073


def records(labels, images=None) -> bytes:
    """CIFAR's binary records: a label byte, then 1,024 R, 1,024 G and 1,024 B bytes (rows in order)."""
    labels = np.asarray(labels, dtype=np.uint8)
    if images is None:
        images = np.arange(len(labels) * 3072, dtype=np.uint64).reshape(-1, 3, 32, 32) % 251
    table = np.concatenate([labels[:, None], np.asarray(images, np.uint8).reshape(len(labels), 3072)], axis=1)
    return table.tobytes()


def write_archive(path, members: dict[str, bytes], *, links: dict[str, str] = (), folder: bool = True):
    """A .tar.gz holding ``members`` (name -> bytes) and symbolic links (name -> target)."""
    with tarfile.open(path, "w:gz") as archive:
        if folder:
            entry = tarfile.TarInfo("cifar-10-batches-bin")
            entry.type = tarfile.DIRTYPE
            archive.addfile(entry)
        for name, data in members.items():
            entry = tarfile.TarInfo(name)
            entry.size = len(data)
            archive.addfile(entry, io.BytesIO(data))
        for name, target in dict(links).items():
            entry = tarfile.TarInfo(name)
            entry.type = tarfile.SYMTYPE
            entry.linkname = target
            archive.addfile(entry)
    return path


def small_members(count=2) -> dict[str, bytes]:
    """Five train batches and a test batch of ``count`` records each; labels tell the records apart."""
    members = {name: records([(i * count + j) % 10 for j in range(count)]) for i, name in enumerate(TRAIN_MEMBERS)}
    members[TEST_MEMBER] = records([9] * count)
    members["cifar-10-batches-bin/batches.meta.txt"] = b"airplane\nautomobile\n"
    return members


def test_classes_are_cifars_ten_in_order():
    assert CIFAR10_CLASSES == ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                               "truck")


def test_reads_all_batches_in_order_with_planes_as_channels(tmp_path):
    members = small_members(count=3)
    # The first train record: a red plane that grows left to right, a green one that grows downwards,
    # a blue one that is a single bright pixel at row 5, column 7.
    red = np.tile(np.arange(32, dtype=np.uint8) * 8, (32, 1))
    green = red.T.copy()
    blue = np.zeros((32, 32), np.uint8)
    blue[5, 7] = 255
    known = np.stack([red, green, blue])
    first = records([3], known[None])
    members[TRAIN_MEMBERS[0]] = first + members[TRAIN_MEMBERS[0]][RECORD:]
    path = write_archive(tmp_path / "cifar-10-binary.tar.gz", members)

    train_x, train_y, test_x, test_y = read_cifar10_archive(path)

    assert train_x.shape == (15, 3, 32, 32) and train_x.dtype == np.uint8
    assert test_x.shape == (3, 3, 32, 32) and test_x.dtype == np.uint8
    assert train_y.dtype == np.int64 and test_y.dtype == np.int64
    np.testing.assert_array_equal(train_x[0], known)
    assert train_x[0, 0, 0, 31] == 248 and train_x[0, 1, 31, 0] == 248 and train_x[0, 2, 5, 7] == 255
    assert train_y.tolist() == [3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4]  # data_batch_1 first, 5 last
    assert test_y.tolist() == [9, 9, 9]
    expected_second = (np.arange(2 * 3072, dtype=np.uint64).reshape(-1, 3, 32, 32) % 251)[1]
    np.testing.assert_array_equal(train_x[1], expected_second)


def test_members_may_come_in_any_order_and_with_a_dot_slash(tmp_path):
    members = small_members()
    shuffled = {f"./{name}": members[name] for name in reversed(list(members))}
    train_x, train_y, _, _ = read_cifar10_archive(write_archive(tmp_path / "a.tar.gz", shuffled))
    assert train_y.tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]


@pytest.mark.parametrize("member", [TRAIN_MEMBERS[2], TEST_MEMBER])
def test_a_missing_batch_is_named(tmp_path, member):
    members = small_members()
    del members[member]
    path = write_archive(tmp_path / "cifar.tar.gz", members)
    with pytest.raises(DatasetError, match=rf"cifar\.tar\.gz: {member}: missing from the archive"):
        read_cifar10_archive(path)


@pytest.mark.parametrize(("change", "received"), [
    (lambda data: data[:-10], "6,136 bytes"),  # a record cut short
    (lambda data: data + b"\0", "6,147 bytes"),  # a byte too many
    (lambda data: b"", "0 bytes"),  # empty
])
def test_a_batch_that_is_not_whole_records_is_refused(tmp_path, change, received):
    members = small_members()
    members[TRAIN_MEMBERS[1]] = change(members[TRAIN_MEMBERS[1]])
    path = write_archive(tmp_path / "cifar.tar.gz", members)
    with pytest.raises(DatasetError, match=rf"cifar\.tar\.gz: {TRAIN_MEMBERS[1]}: expected 1 to 10,000 records "
                                           rf"of 3,073 bytes .*received {received}"):
        read_cifar10_archive(path)


def test_more_than_ten_thousand_records_in_a_batch_is_refused(tmp_path):
    members = small_members()
    members[TEST_MEMBER] = bytes(10_001 * RECORD)
    path = write_archive(tmp_path / "cifar.tar.gz", members)
    with pytest.raises(DatasetError, match=r"test_batch\.bin: expected 1 to 10,000 records.*30,733,073 bytes"):
        read_cifar10_archive(path)


def test_a_label_above_nine_is_refused(tmp_path):
    members = small_members()
    members[TEST_MEMBER] = records([1, 10])
    path = write_archive(tmp_path / "cifar.tar.gz", members)
    with pytest.raises(DatasetError, match=r"test_batch\.bin: record 2 has label 10; expected 0 to 9"):
        read_cifar10_archive(path)


def test_a_batch_that_is_a_symbolic_link_is_refused_not_followed(tmp_path):
    members = small_members()
    del members[TRAIN_MEMBERS[0]]
    path = write_archive(tmp_path / "cifar.tar.gz", members, links={TRAIN_MEMBERS[0]: "/etc/passwd"})
    with pytest.raises(DatasetError, match=r"data_batch_1\.bin: is a link, not a regular file"):
        read_cifar10_archive(path)


def test_a_link_under_another_name_is_skipped(tmp_path):
    path = write_archive(tmp_path / "cifar.tar.gz", small_members(), links={"cifar-10-batches-bin/x": "/etc/passwd"})
    assert len(read_cifar10_archive(path)[0]) == 10


def test_a_batch_twice_is_refused(tmp_path):
    path = tmp_path / "cifar.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for name, data in [*small_members().items(), (TEST_MEMBER, records([0]))]:
            entry = tarfile.TarInfo(name)
            entry.size = len(data)
            archive.addfile(entry, io.BytesIO(data))
    with pytest.raises(DatasetError, match=r"test_batch\.bin: appears twice"):
        read_cifar10_archive(path)


def test_too_much_besides_the_batches_is_refused(tmp_path):
    members = small_members()
    members["cifar-10-batches-bin/padding"] = bytes(17 * 1024**2)
    path = write_archive(tmp_path / "cifar.tar.gz", members)
    with pytest.raises(DatasetError, match=r"cifar\.tar\.gz: holds more than 16 MB besides the CIFAR-10 batches"):
        read_cifar10_archive(path)


def test_thousands_of_members_are_refused(tmp_path):
    members = small_members()
    members.update({f"cifar-10-batches-bin/empty{i}": b"" for i in range(100)})
    path = write_archive(tmp_path / "cifar.tar.gz", members)
    with pytest.raises(DatasetError, match=r"has more than 64 members"):
        read_cifar10_archive(path)


@pytest.mark.parametrize(("content", "problem"), [
    (b"not a gzip file at all", "is not a gzip file; expected the CIFAR-10 binary archive"),
    (b"", "is empty; expected the CIFAR-10 binary archive"),
    (b"\x1f\x8b\x08\x00garbage", "is not a readable CIFAR-10 archive"),
    (gzip.compress(b"plain text, gzipped, but no tar" * 40), "is not a readable CIFAR-10 archive"),
])
def test_a_file_that_is_not_a_gzip_tar_is_refused_in_words(tmp_path, content, problem):
    path = tmp_path / "cifar-10-binary.tar.gz"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=rf"cifar-10-binary\.tar\.gz: {problem}") as info:
        read_cifar10_archive(path)
    assert "Error" not in str(info.value)


def test_a_header_that_unpacks_past_the_limit_is_refused_as_it_is_read(tmp_path, monkeypatch):
    """A pax header (which tarfile reads whole) of 300 KB against a limit of 200 KB: stopped at the limit."""
    monkeypatch.setattr(cifar, "MAX_UNPACKED_BYTES", 200_000)
    members = small_members()
    members["cifar-10-batches-bin/" + "x" * 300_000] = b""
    path = write_archive(tmp_path / "cifar.tar.gz", members)
    with pytest.raises(DatasetError, match=r"cifar\.tar\.gz: unpacks to more than 200\.0 KB; the CIFAR-10 binary "
                                           r"archive unpacks to about 184 MB"):
        read_cifar10_archive(path)


def test_a_truncated_archive_is_refused_in_words(tmp_path):
    path = write_archive(tmp_path / "cifar-10-binary.tar.gz", small_members(count=40))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match=r"cifar-10-binary\.tar\.gz: ") as info:
        read_cifar10_archive(path)
    assert "Error" not in str(info.value)


def test_a_folder_or_missing_file_is_refused(tmp_path):
    with pytest.raises(DatasetError, match="is a folder"):
        read_cifar10_archive(tmp_path)
    with pytest.raises(DatasetError, match="no such file"):
        read_cifar10_archive(tmp_path / "absent.tar.gz")


def test_load_reads_a_local_archive_through_the_registry_and_checks_its_checksum(tmp_path, data_dir, monkeypatch):
    """engine.datasets.load("cifar-10") end to end: the archive in the data folder, verified, then read."""
    members = small_members()
    known = np.arange(3072, dtype=np.uint64).reshape(1, 3, 32, 32) % 256
    members[TEST_MEMBER] = records([7], known)
    body = write_archive(tmp_path / "small.tar.gz", members).read_bytes()
    real = registry.REGISTRY["cifar-10"]
    (archive,) = real.files
    folder = data_dir / "cifar-10"
    folder.mkdir(parents=True)
    (folder / archive.filename).write_bytes(body)

    # The real entry's checksum is not this small file's: refused before a byte of it is decoded.
    with pytest.raises(DatasetError, match=r"cifar-10-binary\.tar\.gz: checksum mismatch"):
        load("cifar-10", download=False)

    small = replace(archive, sha256=hashlib.sha256(body).hexdigest(), size=len(body))
    monkeypatch.setitem(registry.REGISTRY, "cifar-10", replace(real, files=(small,)))
    cifar = load("cifar-10", download=False)
    assert cifar.info.class_names == CIFAR10_CLASSES
    assert cifar.train_images.shape == (10, 3, 32, 32) and cifar.test_labels.tolist() == [7]
    np.testing.assert_array_equal(cifar.test_images[0], known[0])
    assert cifar.test_images[0, 0, 0, 5] == 5 and cifar.test_images[0, 1, 0, 0] == 1024 % 256
