"""The issue's headline check: MNIST digits written as PNG files in class folders, imported and stored like any
user's folder, give back exactly the built-in arrays, and the same training run on either reaches the same
test accuracy."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import engine
from engine.datasets import Dataset
from engine.training import Trainer, TrainingConfig, TrainingData

Image = pytest.importorskip("PIL.Image")

NUM_TRAIN, NUM_TEST = 6_000, 1_000


def write_pngs(root, images, labels) -> None:
    """One PNG per image in root/<label>/<index>.png; in threads, as creating files is most of the time here."""
    for label in np.unique(labels):
        (root / str(int(label))).mkdir(parents=True, exist_ok=True)

    def write(index: int) -> None:
        Image.fromarray(images[index, 0]).save(root / str(int(labels[index])) / f"{index:05d}.png", compress_level=1)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, range(len(images))))


def softmax_regression_accuracy(dataset: Dataset) -> float:
    """Softmax regression, full-batch gradient descent at 0.5 for 40 steps, seed 0: test accuracy.

    Full batches, so the run does not depend on the order the examples are stored in (the import shuffles them):
    the same examples give the same run, up to the order of a sum.
    """
    splits = engine.datasets.prepare(dataset, validation=0)
    spec = {"nodes": [{"id": "input", "type": "Input", "shape": [1, 28, 28]}, {"id": "flatten", "type": "Flatten"},
                      {"id": "logits", "type": "Dense", "units": 10, "kernel_initializer": "zeros"}]}
    network = engine.build(spec, seed=0)
    config = TrainingConfig(epochs=40, batch_size=len(splits.train_labels), optimizer={"name": "sgd", "lr": 0.5},
                            seed=0, snapshot_every_steps=None)
    Trainer(network, TrainingData.from_splits(splits), config).run()
    return engine.evaluate(network, splits.test_images, splits.test_labels).accuracy


def test_mnist_as_png_folders_imports_to_the_same_arrays_and_trains_to_the_same_accuracy(tmp_path):
    mnist = engine.datasets.load("mnist")
    train_x, train_y = mnist.train_images[:NUM_TRAIN], mnist.train_labels[:NUM_TRAIN]
    test_x, test_y = mnist.test_images[:NUM_TEST], mnist.test_labels[:NUM_TEST]
    write_pngs(tmp_path / "digits" / "train", train_x, train_y)
    write_pngs(tmp_path / "digits" / "test", test_x, test_y)

    imported = engine.datasets.import_path(tmp_path / "digits")
    assert imported.info.class_names == tuple("0123456789") and imported.warnings == ()
    assert "images are 28x28" in imported.notes and "grayscale images: 1 channel" in imported.notes
    saved = engine.datasets.save_imported(imported, "mnist as pngs")
    engine.datasets.clear_cache()
    stored = engine.datasets.load("mnist as pngs")  # read back from the store, checked by its SHA-256
    assert engine.datasets.dataset_sha256(stored) == saved.sha256

    # The same examples: the training ones in a seeded random order (the importer reads class folder by class
    # folder, then shuffles), the test ones class by class, each folder in file-name (= MNIST index) order.
    def by_content(images, labels):
        rows = np.concatenate([labels[:, None].astype(np.uint8), images.reshape(len(images), -1)], axis=1)
        return rows[np.lexsort(rows.T[::-1])]

    np.testing.assert_array_equal(by_content(stored.train_images, stored.train_labels),
                                  by_content(train_x, train_y))  # PNG: lossless
    test_order = np.argsort(test_y, kind="stable")
    np.testing.assert_array_equal(stored.test_images, test_x[test_order])
    np.testing.assert_array_equal(stored.test_labels, test_y[test_order])
    # A validation split from the end of train (prepare's default, `layerlab train`'s) holds every class.
    assert set(engine.datasets.prepare(stored).val_labels.tolist()) == set(range(10))

    on_imported = softmax_regression_accuracy(stored)
    assert on_imported > 0.8  # it learned: softmax regression on 6,000 digits
    # The same run on the built-in arrays (the same examples, in MNIST's order): the same accuracy, to half a point.
    on_builtin = softmax_regression_accuracy(Dataset(mnist.info, train_x, train_y, test_x, test_y))
    assert abs(on_imported - on_builtin) <= 0.005, (on_imported, on_builtin)
