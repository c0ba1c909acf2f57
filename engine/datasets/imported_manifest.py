"""What one imported set's ``manifest.json`` says, and reading it back as data to check, field by field.

The store (engine/datasets/user_sets.py) is a folder on disk anyone can edit, so a manifest is read bounded
and every field is checked; a bad one is refused naming the file and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from engine.datasets.errors import DatasetError, DatasetFileError
from engine.datasets.importing import MAX_CLASSES
from engine.datasets.registry import DatasetInfo
from engine.datasets.storage import imported_dir
from engine.user_files import MIB, read_json

STORE_FORMAT = "layerlab-imported-dataset"
STORE_VERSION = 1
MANIFEST = "manifest.json"
ARRAY_FILES = {"train_images": "train-images-idx4-ubyte.gz", "train_labels": "train-labels-idx1-int32.gz",
               "test_images": "test-images-idx4-ubyte.gz", "test_labels": "test-labels-idx1-int32.gz"}
# 10,000 class names of 200 characters and 1,000 warning lines of 1,000 fit in ~4 MB; 8 MiB bounds the read.
MAX_MANIFEST_BYTES = 8 * MIB
MAX_STORED_WARNINGS = 1_000  # the rest are counted in one more line


@dataclass(frozen=True)
class ImportedSet:
    """What the manifest of one stored set says (the arrays are read by ``load_imported``)."""

    name: str
    title: str
    shape: tuple[int, int, int]  # (C, H, W)
    class_names: tuple[str, ...]
    num_train: int
    num_test: int
    sha256: str  # dataset_sha256 of the arrays
    source: str  # the path it was imported from
    imported_at: str  # ISO 8601, UTC
    warnings: tuple[str, ...] = ()  # the files skipped when it was imported
    notes: tuple[str, ...] = ()

    @property
    def folder(self) -> Path:
        return imported_dir() / self.name

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def info(self) -> DatasetInfo:
        """A registry-style entry, so pickers, models and the CLI treat it like a built-in set."""
        return DatasetInfo(name=self.name, title=self.title, shape=self.shape, class_names=self.class_names,
                           source=self.source, license="your own data (imported)")

    def to_dict(self) -> dict:
        return {"format": STORE_FORMAT, "version": STORE_VERSION, "name": self.name, "title": self.title,
                "shape": list(self.shape), "class_names": list(self.class_names), "num_train": self.num_train,
                "num_test": self.num_test, "sha256": self.sha256, "source": self.source,
                "imported_at": self.imported_at, "warnings": list(self.warnings), "notes": list(self.notes),
                "files": dict(ARRAY_FILES)}


def read_manifest(folder: Path) -> ImportedSet:
    """The checked manifest of the set in ``folder``; DatasetError naming the folder and the bad field."""
    path = folder / MANIFEST
    if not path.exists():
        raise DatasetError(f"{folder}: damaged imported data set: {MANIFEST} is missing")
    data = read_json(path, max_bytes=MAX_MANIFEST_BYTES, error=DatasetFileError)
    field = _ManifestFields(path, data)
    if field.text("format") != STORE_FORMAT:
        raise DatasetError(f"{path}: expected format {STORE_FORMAT!r}; received {data.get('format')!r:.60}")
    version = field.integer("version", 1, 10**6)
    if version > STORE_VERSION:
        raise DatasetError(f"{path}: written by a newer LayerLab (store version {version}; this one reads "
                           f"{STORE_VERSION}); update LayerLab to use this data set")
    name = field.text("name")
    if name != folder.name:
        raise DatasetError(f"{path}: records the name {name!r:.80} but lies in the folder {folder.name!r}")
    shape = field.integers("shape", 3, 1, 65_536)
    class_names = field.texts("class_names", MAX_CLASSES)
    if len(class_names) < 2:
        raise DatasetError(f"{path}: class_names: expected at least two classes; received {len(class_names)}")
    sha256 = field.text("sha256")
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise DatasetError(f"{path}: sha256: expected 64 hexadecimal digits; received {sha256!r:.80}")
    return ImportedSet(name=name, title=field.text("title"), shape=tuple(shape), class_names=tuple(class_names),
                       num_train=field.integer("num_train", 1, 2**40), num_test=field.integer("num_test", 0, 2**40),
                       sha256=sha256, source=field.text("source"), imported_at=field.text("imported_at"),
                       warnings=tuple(field.texts("warnings", MAX_STORED_WARNINGS + 1, required=False)),
                       notes=tuple(field.texts("notes", 100, required=False)))


class _ManifestFields:
    """Typed reads of the manifest's fields, each refusing a wrong value with the field's name."""

    def __init__(self, path: Path, data) -> None:
        if not isinstance(data, dict):
            raise DatasetError(f"{path}: expected a JSON object; received {type(data).__name__}")
        self.path, self.data = path, data

    def _bad(self, key: str, expected: str) -> DatasetError:
        value = self.data.get(key, "nothing")
        return DatasetError(f"{self.path}: {key}: expected {expected}; received {value!r:.80}")

    def text(self, key: str) -> str:
        value = self.data.get(key)
        if not isinstance(value, str):
            raise self._bad(key, "text")
        return value

    def integer(self, key: str, low: int, high: int) -> int:
        value = self.data.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise self._bad(key, f"a whole number from {low:,} to {high:,}")
        return value

    def integers(self, key: str, count: int, low: int, high: int) -> list[int]:
        value = self.data.get(key)
        if (not isinstance(value, list) or len(value) != count
                or not all(isinstance(v, int) and not isinstance(v, bool) and low <= v <= high for v in value)):
            raise self._bad(key, f"a list of {count} whole numbers from {low} to {high:,}")
        return value

    def texts(self, key: str, most: int, *, required: bool = True) -> list[str]:
        value = self.data.get(key, None if required else [])
        if not isinstance(value, list) or len(value) > most or not all(isinstance(v, str) for v in value):
            raise self._bad(key, f"a list of at most {most:,} texts")
        return value
