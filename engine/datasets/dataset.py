"""A loaded data set: train and test arrays plus the registry entry that describes them.

Images are uint8, N x C x H x W; labels are int64 class indices in ``[0, num_classes)``. The
arrays are read-only (``load`` shares one decoded copy per process among all callers); take
``np.array(ds.train_images)`` for a writable copy, or use ``engine.datasets.prepare`` to get
normalised float32 arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.datasets.errors import DatasetError
from engine.datasets.registry import DatasetInfo


@dataclass(frozen=True)
class Dataset:
    info: DatasetInfo
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    warnings: tuple[str, ...] = ()  # files skipped while importing, one line each: "<path>: skipped (<reason>)"
    notes: tuple[str, ...] = ()  # facts about an import for its preview, e.g. "colour images: 3 channels"

    def __post_init__(self) -> None:
        where = self.info.name
        for split in ("train", "test"):
            images = _as_images(getattr(self, f"{split}_images"), f"{where}: {split}_images")
            labels = _as_labels(getattr(self, f"{split}_labels"), f"{where}: {split}_labels")
            if images.shape[1:] != tuple(self.info.shape):
                raise DatasetError(f"{where}: {split}_images: expected examples of shape {tuple(self.info.shape)} "
                                   f"(C, H, W); received {images.shape[1:]}")
            if len(labels) != len(images):
                raise DatasetError(f"{where}: {split}: expected one label per image; received {len(images)} images "
                                   f"and {len(labels)} labels")
            if len(labels) and (labels.min() < 0 or labels.max() >= self.info.num_classes):
                raise DatasetError(f"{where}: {split}_labels: expected classes 0 to {self.info.num_classes - 1}; "
                                   f"received values from {labels.min()} to {labels.max()}")
            object.__setattr__(self, f"{split}_images", _read_only(images))
            object.__setattr__(self, f"{split}_labels", _read_only(labels))
        object.__setattr__(self, "warnings", tuple(self.warnings))
        object.__setattr__(self, "notes", tuple(self.notes))

    @property
    def num_train(self) -> int:
        return len(self.train_labels)

    @property
    def num_test(self) -> int:
        return len(self.test_labels)

    def __repr__(self) -> str:
        return (f"Dataset({self.info.name!r}, train={self.num_train}, test={self.num_test}, "
                f"shape={tuple(self.info.shape)}, classes={self.info.num_classes})")


def _as_images(images, where: str) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise DatasetError(f"{where}: expected uint8 pixels (0-255); received dtype {images.dtype}")
    if images.ndim == 3:  # N x H x W, as in the MNIST files: one channel
        images = images[:, None, :, :]
    if images.ndim != 4:
        raise DatasetError(f"{where}: expected images of shape (N, C, H, W) or (N, H, W); received {images.shape}")
    return images


def _as_labels(labels, where: str) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise DatasetError(f"{where}: expected a 1-D array of integer class indices; "
                           f"received shape {labels.shape}, dtype {labels.dtype}")
    converted = labels.astype(np.int64, copy=False)
    return freeze(converted) if converted is not labels else converted  # a copy made here: nobody else holds it


def _read_only(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


def freeze(array: np.ndarray) -> np.ndarray:
    """Make an array this package created read-only down to its root, so no view of it can be made writable."""
    node = array
    while isinstance(node, np.ndarray):
        node.flags.writeable = False
        node = node.base
    return array
