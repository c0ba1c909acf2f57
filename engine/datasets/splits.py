"""Train / validation / test splits and normalisation, computed once so batching only has to index.

    splits = prepare(load("mnist"))                  # 55,000 / 5,000 / 10,000, float32 in [0, 1]
    for x, y in splits.batches("train", batch_size=128, seed=0):
        ...

Validation is carved from the training set: by default the *last* 5,000 training examples (or a
tenth of the training set when that is smaller), so the split is the same everywhere without a
seed; pass ``seed`` for a seeded random split instead. Per-channel mean subtraction, when asked
for, uses a mean computed on the training part only, so no validation or test data leaks into it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.datasets.augment import Augmentation
from engine.datasets.batching import BatchIterator
from engine.datasets.dataset import Dataset
from engine.datasets.errors import DatasetError
from engine.datasets.registry import DatasetInfo

DEFAULT_VALIDATION = 5000


@dataclass(frozen=True)
class Splits:
    """Normalised float32 images (N, C, H, W) and int64 labels for each split."""

    info: DatasetInfo
    train_images: np.ndarray
    train_labels: np.ndarray
    val_images: np.ndarray
    val_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    channel_mean: np.ndarray | None  # (C,) float32 subtracted from every split, or None

    def arrays(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        if split not in ("train", "val", "test"):
            raise DatasetError(f"unknown split {split!r}; expected 'train', 'val' or 'test'")
        return getattr(self, f"{split}_images"), getattr(self, f"{split}_labels")

    def batches(self, split: str = "train", batch_size: int = 128, *, seed: int = 0, shuffle: bool | None = None,
                drop_last: bool = False, augment: Augmentation | None = None) -> BatchIterator:
        """Mini-batches of one split; shuffled by default for "train" only. Augmentation fills with black."""
        images, labels = self.arrays(split)
        if augment is not None and self.channel_mean is not None:
            # Black in the normalised space is -mean, not 0.
            augment = augment.with_fill(-self.channel_mean)
        return BatchIterator(images, labels, batch_size, seed=seed,
                             shuffle=(split == "train") if shuffle is None else shuffle,
                             drop_last=drop_last, augment=augment)


def prepare(dataset: Dataset, *, validation: int | float | None = None, seed: int | None = None,
            subtract_mean: bool = False) -> Splits:
    """Split off validation from train, scale pixels to [0, 1] float32, optionally subtract the train mean.

    ``validation``: a count, a fraction in (0, 1), or None for min(5,000, a tenth of train); 0 for none.
    ``seed``: None takes the last examples of train as validation; an int takes a seeded random subset.
    """
    count = validation_count(dataset.num_train, validation)
    train_x, train_y, val_x, val_y = split_off(dataset.train_images, dataset.train_labels, count, seed)
    train_x, val_x, test_x = to_float(train_x), to_float(val_x), to_float(dataset.test_images)
    mean = None
    if subtract_mean:
        mean = channel_mean(train_x)
        for array in (train_x, val_x, test_x):
            array -= mean[None, :, None, None]
    return Splits(dataset.info, train_x, np.array(train_y), val_x, np.array(val_y),
                  test_x, np.array(dataset.test_labels), mean)


def validation_count(num_train: int, validation: int | float | None) -> int:
    if validation is None:
        return min(DEFAULT_VALIDATION, num_train // 10)
    if isinstance(validation, float) and 0 < validation < 1:
        return int(round(num_train * validation))
    if isinstance(validation, (int, np.integer)) and 0 <= validation < num_train:
        return int(validation)
    raise DatasetError(f"validation: expected a count from 0 to {num_train - 1} or a fraction between 0 and 1; "
                       f"received {validation!r}")


def split_off(images: np.ndarray, labels: np.ndarray, count: int, seed: int | None = None):
    """(rest_images, rest_labels, part_images, part_labels): ``count`` examples split off.

    Without a seed the part is the last ``count`` examples, in order; with one, a seeded random subset
    (both parts keep their original relative order).
    """
    n = len(labels)
    if not 0 <= count <= n:
        raise DatasetError(f"cannot split off {count} examples; expected 0 to {n}")
    if seed is None:
        return images[: n - count], labels[: n - count], images[n - count :], labels[n - count :]
    chosen = np.zeros(n, dtype=bool)
    chosen[np.random.default_rng(seed).permutation(n)[:count]] = True
    return images[~chosen], labels[~chosen], images[chosen], labels[chosen]


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 pixels as float32 in [0, 1] (a new, writable array)."""
    # One pass, and a division rather than * (1/255), so 255 maps to exactly 1.0.
    return np.divide(images, np.float32(255), dtype=np.float32)


def channel_mean(images: np.ndarray) -> np.ndarray:
    """Per-channel mean of (N, C, H, W) float images, accumulated in float64, returned as float32 (C,)."""
    if len(images) == 0:
        raise DatasetError("cannot compute a channel mean of an empty training set")
    return images.mean(axis=(0, 2, 3), dtype=np.float64).astype(np.float32)
