"""What the three importers share: turning the user's arrays into a ``Dataset`` with a test split."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.datasets.dataset import Dataset
from engine.datasets.errors import DatasetError
from engine.datasets.registry import DatasetInfo
from engine.datasets.splits import split_off

DEFAULT_TEST_FRACTION = 0.2


def imported_dataset(source: Path, images: np.ndarray, labels: np.ndarray, class_names, *,
                     test: tuple[np.ndarray, np.ndarray] | None = None, test_fraction: float = DEFAULT_TEST_FRACTION,
                     seed: int = 0, warnings=()) -> Dataset:
    """A Dataset of user data. Without ``test`` arrays, a seeded ``test_fraction`` of the examples is held out."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[:, None]
    if test is None:
        if not 0 <= test_fraction < 1:
            raise DatasetError(f"{source}: expected 0 <= test_fraction < 1; received test_fraction={test_fraction}")
        count = int(round(len(labels) * test_fraction))
        images, labels, test_images, test_labels = split_off(images, labels, count, seed)
    else:
        test_images, test_labels = test
        test_images = np.asarray(test_images)
        if test_images.ndim == 3:
            test_images = test_images[:, None]
    info = DatasetInfo(
        name=source.stem if source.is_file() else source.name,
        title=f"Imported from {source}",
        shape=tuple(int(d) for d in images.shape[1:]),
        class_names=tuple(str(name) for name in class_names),
        source=str(source),
        license="the user's own data",
    )
    try:
        return Dataset(info, images, labels, test_images, test_labels, warnings=tuple(warnings))
    except DatasetError as exc:
        raise DatasetError(f"{source}: {exc}") from None


def default_class_names(source: Path, *label_arrays: np.ndarray) -> tuple[str, ...]:
    """"0", "1", ... up to the largest label present."""
    present = [np.asarray(labels) for labels in label_arrays if len(labels)]
    if not present:
        raise DatasetError(f"{source}: no labels found")
    smallest = min(int(labels.min()) for labels in present)
    if smallest < 0:
        raise DatasetError(f"{source}: expected class indices >= 0 as labels; received {smallest}")
    return tuple(str(k) for k in range(max(int(labels.max()) for labels in present) + 1))
