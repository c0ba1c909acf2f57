"""Import a folder of IDX files laid out like MNIST (EMNIST, QMNIST and the like, or your own).

Files are recognised by name: "train" or "t10k"/"test" for the split, "images"/"idx3" or
"labels"/"idx1" for the kind, raw or .gz, e.g. ``train-images-idx3-ubyte.gz`` and
``emnist-letters-test-labels-idx1-ubyte``. Without test files a seeded fraction of train is held out.
Labels must be class indices from 0 to ``MAX_CLASSES - 1`` (a float labels file: whole, finite numbers),
one per image; the message names the file, the label's position and its value otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.datasets.errors import DatasetError
from engine.datasets.idx import read_idx
from engine.datasets.importing import (
    DEFAULT_TEST_FRACTION,
    check_one_label_per_image,
    checked_labels,
    default_class_names,
    imported_dataset,
    report_progress,
)
from engine.datasets.registry import SPLIT_ROLES

_EXPECTED = "train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] (t10k-... for the test split)"


def import_idx_folder(folder: str | os.PathLike, *, class_names=None, test_fraction: float = DEFAULT_TEST_FRACTION,
                      seed: int = 0, progress=None):
    """A Dataset from the IDX files in ``folder``; images must be uint8 (N, H, W) or (N, C, H, W).

    ``progress(files_read, files)`` after each file; ``ImportCancelled`` raised from it stops the import.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: expected a folder of IDX files; received "
                           f"{'a file' if folder.exists() else 'a path that does not exist'}")
    found = find_idx_files(folder)
    if "train_images" not in found or "train_labels" not in found:
        raise DatasetError(f"{folder}: expected IDX files named like {_EXPECTED}; "
                           f"received {sorted(p.name for p in folder.iterdir())[:20]}")
    if ("test_images" in found) != ("test_labels" in found):
        missing = "test_labels" if "test_images" in found else "test_images"
        raise DatasetError(f"{folder}: found one test file but not its {missing.replace('_', ' ')} partner")
    arrays = {}
    report_progress(progress, 0, len(found))
    for done, (role, path) in enumerate(found.items(), start=1):
        arrays[role] = read_idx(path)
        report_progress(progress, done, len(found))
    for split in ("train", "test"):
        if f"{split}_labels" in arrays:
            images_path, labels_path = found[f"{split}_images"], found[f"{split}_labels"]
            arrays[f"{split}_labels"] = checked_labels(labels_path, arrays[f"{split}_labels"])
            check_one_label_per_image(folder, arrays[f"{split}_images"], arrays[f"{split}_labels"],
                                      images_name=images_path.name, labels_name=labels_path.name)
    test = (arrays["test_images"], arrays["test_labels"]) if "test_images" in arrays else None
    if class_names is None:
        class_names = default_class_names(folder, arrays["train_labels"], *(test[1:] if test else ()))
    return imported_dataset(folder, arrays["train_images"], arrays["train_labels"], class_names,
                            test=test, test_fraction=test_fraction, seed=seed)


def find_idx_files(folder: Path) -> dict[str, Path]:
    """role -> path for the IDX files in ``folder``; a raw file wins over its .gz twin."""
    candidates: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        role = _role_of(path.name.lower())
        # Not is_file(): a FIFO or a device named like an IDX file is then refused by read_idx in words, not
        # skipped into a puzzling "no IDX files found".
        if role is not None and not path.is_dir():
            candidates.setdefault(role, []).append(path)
    found = {}
    for role, paths in candidates.items():
        raw = [p for p in paths if not p.name.endswith(".gz")]
        twins_only = all(p.name.removesuffix(".gz") in {r.name for r in raw} for p in paths)
        if len(paths) == 1 or (len(raw) == 1 and twins_only):
            found[role] = raw[0] if raw else paths[0]
        else:
            raise DatasetError(f"{folder}: several files could be the {role.replace('_', ' ')}: "
                               f"{', '.join(p.name for p in paths)}; keep one")
    return {role: found[role] for role in SPLIT_ROLES if role in found}


def is_idx_name(name: str) -> bool:
    """Whether a file name is one ``import_idx_folder`` recognises (e.g. train-images-idx3-ubyte.gz)."""
    return _role_of(name.lower()) is not None


def _role_of(name: str) -> str | None:
    if name.startswith(".") or not ("idx" in name or "ubyte" in name):
        return None
    split = "test" if ("t10k" in name or "test" in name) else "train" if "train" in name else None
    kind = "images" if ("image" in name or "idx3" in name) else "labels" if ("label" in name or "idx1" in name) \
        else None
    return f"{split}_{kind}" if split and kind else None
