"""The registry's colour sets: CIFAR-10 (one archive, downloaded and checked by SHA-256) and the generated
colour shapes (no files), and ``load`` / ``list_datasets`` for each kind of entry. Never the network: a
small archive in CIFAR-10's own binary format is written here and served from 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import tarfile

import numpy as np
import pytest

from engine import datasets
from engine.datasets import registry
from engine.datasets.registry import DataFile, DatasetInfo


def cifar_archive(train_per_batch: int = 3, test: int = 4, seed: int = 0) -> tuple[bytes, dict[str, np.ndarray]]:
    """A cifar-10-binary.tar.gz in the official layout, with a few records per batch; and its arrays."""
    rng = np.random.default_rng(seed)
    arrays: dict[str, list] = {"train_images": [], "train_labels": [], "test_images": [], "test_labels": []}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        members = [(f"data_batch_{i}.bin", "train", train_per_batch) for i in range(1, 6)]
        for member, split, count in [*members, ("test_batch.bin", "test", test)]:
            images = rng.integers(0, 256, (count, 3, 32, 32), dtype=np.uint8)
            labels = rng.integers(0, 10, count).astype(np.uint8)
            body = b"".join(bytes([label]) + image.tobytes() for label, image in zip(labels, images, strict=True))
            entry = tarfile.TarInfo(f"cifar-10-batches-bin/{member}")
            entry.size = len(body)
            archive.addfile(entry, io.BytesIO(body))
            arrays[f"{split}_images"].append(images)
            arrays[f"{split}_labels"].append(labels.astype(np.int64))
    return buffer.getvalue(), {key: np.concatenate(parts) for key, parts in arrays.items()}


def small_cifar_entry(body: bytes, mirrors=()) -> DatasetInfo:
    """The registry's CIFAR-10 entry with the small archive's checksum and size in place of the real one's."""
    real = registry.CIFAR_10
    archive = DataFile("archive", real.files[0].filename, hashlib.sha256(body).hexdigest(), len(body))
    return DatasetInfo(**{**real.__dict__, "files": (archive,), "mirrors": tuple(mirrors)})


def test_cifar10_entry_names_the_official_archive_and_its_checksum():
    info = datasets.get_info("CIFAR10")
    assert info is datasets.get_info("cifar_10") is registry.REGISTRY["cifar-10"]
    assert info.format == "cifar10-binary" and info.shape == (3, 32, 32) and info.num_classes == 10
    assert info.class_names[0] == "airplane" and info.class_names[-1] == "truck"
    (archive,) = info.files
    assert (archive.role, archive.filename, archive.size) == ("archive", "cifar-10-binary.tar.gz", 170_052_171)
    assert archive.sha256 == "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"
    assert info.mirrors == ("https://www.cs.toronto.edu/~kriz/",)


def test_cifar10_downloads_one_archive_verifies_it_and_reads_it(file_server, data_dir, monkeypatch):
    body, arrays = cifar_archive()
    file_server.files["/kriz/cifar-10-binary.tar.gz"] = body
    monkeypatch.setitem(registry.REGISTRY, "cifar-10", small_cifar_entry(body, [file_server.base_url + "kriz/"]))
    status = {s.name: s for s in datasets.list_datasets()}["cifar-10"]
    assert (status.kind, status.available_offline, status.sha256) == ("download", False, None)

    calls = []
    cifar = datasets.load("cifar10", progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (len(body), len(body))
    assert cifar.train_images.shape == (15, 3, 32, 32) and cifar.test_images.shape == (4, 3, 32, 32)
    for key, expected in arrays.items():
        np.testing.assert_array_equal(getattr(cifar, key), expected)
    assert [p.name for p in (data_dir / "cifar-10").iterdir()] == ["cifar-10-binary.tar.gz"]
    status = {s.name: s for s in datasets.list_datasets()}["cifar-10"]
    assert status.available_offline and status.location == str(data_dir / "cifar-10")

    # Another process reads it without the network, verifying the archive's checksum first.
    datasets.clear_cache()
    requests = len(file_server.requests)
    assert datasets.load("cifar-10", download=False).num_train == 15
    assert len(file_server.requests) == requests


def test_a_damaged_cifar10_archive_is_refused_by_its_checksum(data_dir, monkeypatch):
    body, _ = cifar_archive()
    monkeypatch.setitem(registry.REGISTRY, "cifar-10", small_cifar_entry(body))
    folder = data_dir / "cifar-10"
    folder.mkdir(parents=True)
    (folder / "cifar-10-binary.tar.gz").write_bytes(body[:-10] + bytes(10))
    with pytest.raises(datasets.DatasetError, match=r"cifar-10-binary\.tar\.gz: checksum mismatch"):
        datasets.load("cifar-10", download=False)


def test_cifar10_offline_says_where_to_put_the_one_archive(data_dir):
    with pytest.raises(datasets.DatasetError) as caught:
        datasets.load("cifar-10", download=False)
    message = str(caught.value)
    assert f"put these files in {data_dir / 'cifar-10'}" in message
    assert "cifar-10-binary.tar.gz" in message and registry.CIFAR_10.files[0].sha256 in message
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz" in message


def test_a_gunzipped_archive_is_not_taken_for_the_published_one(data_dir, monkeypatch):
    body, _ = cifar_archive()
    monkeypatch.setitem(registry.REGISTRY, "cifar-10", small_cifar_entry(body))
    folder = data_dir / "cifar-10"
    folder.mkdir(parents=True)
    (folder / "cifar-10-binary.tar").write_bytes(b"a tar without its gzip: no checksum could ever accept it")
    assert not {s.name: s for s in datasets.list_datasets()}["cifar-10"].available_offline


def test_colour_shapes_are_generated_offline_with_nine_colour_classes(data_dir):
    status = {s.name: s for s in datasets.list_datasets()}["colour-shapes"]
    assert (status.kind, status.available_offline, status.location, status.sha256) == ("generated", True, None, None)
    assert status.to_dict()["kind"] == "generated" and status.to_dict()["format"] == "generated"
    shapes = datasets.load("color-shapes", download=False)
    assert shapes is datasets.load("colour-shapes")  # made once per process
    assert shapes.info.format == "generated" and shapes.info.num_classes == 9
    assert shapes.info.class_names[:3] == ("red circle", "red square", "red triangle")
    assert shapes.train_images.shape[1:] == (3, 32, 32) and shapes.train_images.dtype == np.uint8
    assert not any(p.exists() for p in data_dir.parent.glob("layerlab-data*"))  # nothing written


def test_list_datasets_says_what_kind_of_set_each_is(data_dir):
    kinds = {s.name: s.kind for s in datasets.list_datasets()}
    assert kinds == {"mnist": "bundled", "fashion-mnist": "download", "kuzushiji-mnist": "download",
                     "cifar-10": "download", "colour-shapes": "generated"}
