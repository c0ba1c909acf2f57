"""The bundled MNIST: the genuine files, complete, loadable with no network, shared read-only."""

import hashlib
import importlib.resources
import re
from pathlib import Path

import numpy as np
import pytest

from engine import datasets
from engine.datasets.registry import MNIST

MNIST_FOLDER = Path(str(importlib.resources.files("resources") / "datasets" / "mnist"))
README = MNIST_FOLDER / "README.md"

TRAIN_PER_CLASS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_PER_CLASS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def _readme_sha256() -> dict[str, str]:
    rows = re.findall(r"^\| (\S+\.gz) \|.*\| ([0-9a-f]{64}) \|", README.read_text(), flags=re.MULTILINE)
    return dict(rows)


def test_bundled_files_match_the_readme_and_registry_checksums():
    published = _readme_sha256()
    assert len(published) == 4
    for data_file in MNIST.files:
        path = MNIST_FOLDER / data_file.filename
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest == published[data_file.filename] == data_file.sha256, data_file.filename
        assert path.stat().st_size == data_file.size


def test_load_mnist_counts_shapes_and_class_balance(data_dir):
    mnist = datasets.load("mnist", download=False)
    assert mnist.train_images.shape == (60_000, 1, 28, 28)
    assert mnist.test_images.shape == (10_000, 1, 28, 28)
    assert mnist.train_images.dtype == np.uint8 and mnist.train_labels.dtype == np.int64
    assert np.bincount(mnist.train_labels).tolist() == TRAIN_PER_CLASS
    assert np.bincount(mnist.test_labels).tolist() == TEST_PER_CLASS
    assert mnist.info.name == "mnist" and mnist.info.num_classes == 10 and mnist.info.shape == (1, 28, 28)
    assert mnist.train_images.max() == 255 and mnist.train_images.min() == 0
    assert not data_dir.exists()  # nothing downloaded, nothing written


def test_mnist_arrays_are_shared_and_read_only(data_dir):
    first = datasets.load("mnist")
    assert datasets.load("mnist") is first  # decoded once per process
    with pytest.raises(ValueError):
        first.train_images[0, 0, 0, 0] = 1
    with pytest.raises(ValueError):
        first.train_images.flags.writeable = True
    with pytest.raises(ValueError):
        first.train_labels[0] = 3
    copy = np.array(first.train_images[:2])
    copy[:] = 0  # a copy is the caller's to change
    assert first.train_images[:2].any()


def test_list_datasets_reports_mnist_offline(data_dir):
    listing = {status.name: status for status in datasets.list_datasets()}
    assert {"mnist", "fashion-mnist", "kuzushiji-mnist"} <= set(listing)
    assert listing["mnist"].available_offline
    assert Path(listing["mnist"].location) == MNIST_FOLDER
    assert not listing["kuzushiji-mnist"].available_offline  # the data folder is empty
    entry = listing["fashion-mnist"].to_dict()
    assert entry["shape"] == [1, 28, 28] and entry["num_classes"] == 10 and entry["class_names"][0] == "T-shirt/top"
    assert set(entry) >= {"name", "title", "class_names", "available_offline", "location", "license", "source"}


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(datasets.DatasetError, match="unknown dataset 'mnistt'; expected one of mnist, fashion-mnist"):
        datasets.load("mnistt")
    assert datasets.get_info("KMNIST").name == "kuzushiji-mnist"
