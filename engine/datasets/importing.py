"""What the three importers share: turning the user's arrays into a ``Dataset`` with a test split.

Labels come from the user's files, so they are checked before anything is built from them: a label is
a whole number from 0 to ``MAX_CLASSES - 1``. Without that limit one int32 label of 2**31 - 1 made the
default class names "0" ... "2147483647" (3.9 GB, then MemoryError), and a NaN label from a float
file had no class at all.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from engine.datasets.dataset import Dataset
from engine.datasets.errors import DatasetError
from engine.datasets.registry import DatasetInfo

DEFAULT_TEST_FRACTION = 0.2
# The most classes an imported data set may have. ImageNet-21k has ~21,800 but EMNIST has 62 and a
# workbench user's folders a handful; 10,000 names cost nothing, a label of 2**31 would cost gigabytes.
MAX_CLASSES = 10_000


def checked_labels(source, labels, *, where: Callable[[int], str] = lambda index: f"label {index:,}") -> np.ndarray:
    """``labels`` as int64 class indices, or ``DatasetError`` naming ``source``, the first bad label and its value.

    ``where(index)`` words the position of a label in its file ("label 12", "line 14").
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise DatasetError(f"{source}: expected a 1-D list of labels; received an array of shape {labels.shape}")
    if not (np.issubdtype(labels.dtype, np.integer) or np.issubdtype(labels.dtype, np.floating)):
        raise DatasetError(f"{source}: expected class indices as labels; received values of type {labels.dtype}")
    if np.issubdtype(labels.dtype, np.floating):
        bad = np.flatnonzero(~np.isfinite(labels) | (labels != np.floor(labels)))
        if len(bad):
            index = int(bad[0])
            raise DatasetError(f"{source}, {where(index)}: expected a class index (a whole number from 0 to "
                               f"{MAX_CLASSES - 1:,}); received {labels[index]}")
    bad = np.flatnonzero((labels < 0) | (labels >= MAX_CLASSES))
    if len(bad):
        index = int(bad[0])
        value = labels[index].item()
        raise DatasetError(f"{source}, {where(index)}: expected a class index from 0 to {MAX_CLASSES - 1:,} "
                           f"(LayerLab imports at most {MAX_CLASSES:,} classes); received {value}")
    return labels.astype(np.int64)


def check_one_label_per_image(source, images, labels, *, images_name: str = "", labels_name: str = "") -> None:
    """``DatasetError`` with both counts unless there are as many labels as images."""
    if len(images) != len(labels):
        files = f" ({images_name} and {labels_name})" if images_name and labels_name else ""
        raise DatasetError(f"{source}: expected one label per image; received {len(images):,} images and "
                           f"{len(labels):,} labels{files}")


def imported_dataset(source: Path, images: np.ndarray, labels: np.ndarray, class_names, *,
                     test: tuple[np.ndarray, np.ndarray] | None = None, test_fraction: float = DEFAULT_TEST_FRACTION,
                     seed: int = 0, warnings=(), notes=()) -> Dataset:
    """A Dataset of user data. Without ``test`` arrays, a seeded ``test_fraction`` of the examples is held out.
    The training examples are put in a seeded random order (the test examples keep theirs).

    Refused unless at least two classes have training examples: a classifier of one class learns nothing.
    """
    images = np.asarray(images)
    used = np.unique(np.asarray(labels))
    if len(used) < 2:
        names = tuple(str(name) for name in class_names)
        found = f"only the class {names[int(used[0])]!r}" if len(used) and int(used[0]) < len(names) else "no class"
        raise DatasetError(f"{source}: found {found} with training examples; a data set needs at least two "
                           f"classes" + listing(warnings))
    if images.ndim == 3:
        images = images[:, None]
    check_one_label_per_image(source, images, labels)  # before the holdout indexes one with the other
    notes = list(notes)
    if test is None:
        if not 0 <= test_fraction < 1:
            raise DatasetError(f"{source}: expected 0 <= test_fraction < 1; received test_fraction={test_fraction}")
        held_out = stratified_holdout(labels, test_fraction, seed)
        test_images, test_labels = images[held_out], np.asarray(labels)[held_out]
        images, labels = images[~held_out], np.asarray(labels)[~held_out]
        notes.append(f"test set: {len(test_labels):,} of the {len(held_out):,} examples held out at random, the "
                     f"same share of each class ({test_fraction:.0%}, seed {seed})")
    else:
        test_images, test_labels = test
        test_images = np.asarray(test_images)
        if test_images.ndim == 3:
            test_images = test_images[:, None]
        check_one_label_per_image(source, test_images, test_labels)
    # A folder gives its examples class by class, and a validation split is taken from the end of train
    # (engine.datasets.prepare, `layerlab train`): it would hold only the last class, which training would
    # then never see. Stored in a seeded random order instead, as MNIST's own files are.
    order = training_order(len(labels), seed)
    images, labels = images[order], np.asarray(labels)[order]
    notes.append(f"training examples stored in a random order (seed {seed}), so that any part of them holds "
                 f"every class")
    info = DatasetInfo(
        name=source.stem if source.is_file() else source.name,
        title=f"Imported from {source}",
        shape=tuple(int(d) for d in images.shape[1:]),
        class_names=tuple(str(name) for name in class_names),
        source=str(source),
        license="the user's own data",
    )
    try:
        return Dataset(info, images, labels, test_images, test_labels, warnings=tuple(warnings), notes=tuple(notes))
    except DatasetError as exc:
        raise DatasetError(f"{source}: {exc}") from None


def training_order(count: int, seed: int) -> np.ndarray:
    """The seeded random order an import stores its ``count`` training examples in."""
    return np.random.default_rng([seed, 1]).permutation(count)


def stratified_holdout(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A mask of the examples held out for testing: ``fraction`` of each class, chosen at random (seeded).

    Per class, so that a small set's rare class still has test examples (a plain random 20% of 108 colour
    shapes left one class with none): a class of two or more examples gives at least one and keeps at least
    one for training. Both parts keep their order.
    """
    labels = np.asarray(labels)
    held_out = np.zeros(len(labels), dtype=bool)
    rng = np.random.default_rng(seed)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        count = int(round(len(members) * fraction))
        if fraction > 0 and len(members) >= 2:
            count = min(max(count, 1), len(members) - 1)
        held_out[rng.permutation(members)[:count]] = True
    return held_out


def listing(problems) -> str:
    """The first ten problems as an indented list after "; problems:", for a message that refuses a whole import."""
    problems = list(problems)
    shown = problems[:10]
    more = f"\n  ... and {len(problems) - 10:,} more" if len(problems) > 10 else ""
    return ("; problems:\n  " + "\n  ".join(shown) + more) if shown else ""


def report_progress(progress, done: int, total: int) -> None:
    """Call an importer's ``progress(done, total)``; what it raises (``ImportCancelled``) stops the import."""
    if progress is not None:
        progress(done, total)


def default_class_names(source: Path, *label_arrays: np.ndarray) -> tuple[str, ...]:
    """"0", "1", ... up to the largest label present; the labels must have passed ``checked_labels``."""
    present = [np.asarray(labels) for labels in label_arrays if len(labels)]
    if not present:
        raise DatasetError(f"{source}: no labels found")
    smallest = min(int(labels.min()) for labels in present)
    largest = max(int(labels.max()) for labels in present)
    if smallest < 0 or largest >= MAX_CLASSES:  # a caller that skipped checked_labels: still never build 2**31 names
        raise DatasetError(f"{source}: expected class indices from 0 to {MAX_CLASSES - 1:,} as labels; received "
                           f"values from {smallest} to {largest}")
    return tuple(str(k) for k in range(largest + 1))
