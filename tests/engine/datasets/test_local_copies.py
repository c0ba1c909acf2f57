"""Where data sets are looked for, and how a local copy is recognised as genuine (Debian re-gzips)."""

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest

from engine import datasets
from engine.datasets import registry
from engine.datasets.registry import DataFile, DatasetInfo
from engine.datasets.storage import DATA_DIR_ENV, data_dir, verify_file

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


def _gzip(data: bytes, mtime: int, name: str) -> bytes:
    import io

    buffer = io.BytesIO()
    with gzip.GzipFile(filename=name, mode="wb", fileobj=buffer, mtime=mtime) as stream:
        stream.write(data)
    return buffer.getvalue()


def test_data_dir_defaults_to_the_user_cache_and_obeys_the_environment(monkeypatch, tmp_path):
    pytest.importorskip("platformdirs")  # the app's dependency; a bare engine box (the GPU checks) may lack it
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    assert data_dir().parts[-2:] == ("layerlab", "datasets")
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert data_dir() == tmp_path


def test_verify_accepts_the_published_gz_a_regzipped_copy_and_a_gunzipped_one(tmp_path):
    content = bytes(range(256)) * 40
    published = _gzip(content, mtime=1, name="data")
    data_file = DataFile("train_images", "data.gz", hashlib.sha256(published).hexdigest(), len(published),
                         content_sha256=hashlib.sha256(content).hexdigest())
    (tmp_path / "published.gz").write_bytes(published)
    (tmp_path / "regzipped.gz").write_bytes(_gzip(content, mtime=99, name=""))
    (tmp_path / "plain").write_bytes(content)
    assert (tmp_path / "regzipped.gz").read_bytes() != published
    for name in ("published.gz", "regzipped.gz", "plain"):
        verify_file(tmp_path / name, data_file)

    (tmp_path / "other.gz").write_bytes(_gzip(content[:-1] + b"x", mtime=1, name="data"))
    with pytest.raises(datasets.DatasetError, match=r"other\.gz: checksum mismatch: expected uncompressed content"):
        verify_file(tmp_path / "other.gz", data_file)


def test_without_a_content_checksum_only_the_published_file_is_accepted(tmp_path):
    data_file = DataFile("train_images", "data.gz", "0" * 64, 10)
    (tmp_path / "data.gz").write_bytes(b"not it")
    with pytest.raises(datasets.DatasetError, match=r"data\.gz: checksum mismatch: expected SHA-256 0000"):
        verify_file(tmp_path / "data.gz", data_file)


def _tiny_dataset(folder: Path, *, name: str = "tiny", mirrors=()) -> DatasetInfo:
    """Write a 2-class 4x4 data set as published .gz files in ``folder``; return its registry entry."""
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, (12, 4, 4), dtype=np.uint8),
        "train_labels": np.arange(12, dtype=np.uint8) % 2,
        "test_images": rng.integers(0, 256, (4, 4, 4), dtype=np.uint8),
        "test_labels": np.arange(4, dtype=np.uint8) % 2,
    }
    files = []
    folder.mkdir(parents=True, exist_ok=True)
    for role, array in arrays.items():
        path = datasets.write_idx(folder / f"{role}.gz", array)
        raw = gzip.decompress(path.read_bytes())
        files.append(DataFile(role, path.name, hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size,
                              content_sha256=hashlib.sha256(raw).hexdigest()))
    return DatasetInfo(name=name, title="Tiny test set", shape=(1, 4, 4), class_names=("even", "odd"),
                       source="tests", license="CC0", files=tuple(files), mirrors=tuple(mirrors))


def test_load_reads_hand_placed_files_from_the_data_dir_and_verifies_them(data_dir, monkeypatch, tmp_path):
    info = _tiny_dataset(data_dir / "tiny")
    monkeypatch.setitem(registry.REGISTRY, "tiny", info)
    tiny = datasets.load("tiny", download=False)
    assert tiny.train_images.shape == (12, 1, 4, 4) and tiny.test_labels.tolist() == [0, 1, 0, 1]

    datasets.clear_cache()
    (data_dir / "tiny" / "test_labels.gz").write_bytes(gzip.compress(bytes(12)))
    with pytest.raises(datasets.DatasetError, match=r"test_labels\.gz: checksum mismatch"):
        datasets.load("tiny", download=False)


def test_load_without_download_says_where_to_put_the_files(data_dir, monkeypatch):
    info = registry.KUZUSHIJI_MNIST
    with pytest.raises(datasets.DatasetError) as caught:
        datasets.load("kuzushiji-mnist", download=False)
    message = str(caught.value)
    assert str(data_dir / "kuzushiji-mnist") in message
    for data_file in info.files:
        assert data_file.filename in message and data_file.sha256 in message


@pytest.mark.skipif(not (DEBIAN_FASHION / "train-images-idx3-ubyte.gz").is_file(),
                    reason="Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)")
def test_debian_fashion_mnist_is_used_without_a_download(data_dir):
    status = {s.name: s for s in datasets.list_datasets()}["fashion-mnist"]
    assert status.available_offline and Path(status.location) == DEBIAN_FASHION
    fashion = datasets.load("fashion-mnist", download=False)  # verifies the re-gzipped files' content
    assert fashion.train_images.shape == (60_000, 1, 28, 28) and fashion.test_images.shape == (10_000, 1, 28, 28)
    assert np.bincount(fashion.train_labels).tolist() == [6000] * 10
    assert np.bincount(fashion.test_labels).tolist() == [1000] * 10
    assert not data_dir.exists()
