"""One entry point for every import: ``import_path`` looks at what it was given and calls the right importer.

    dataset = import_path("~/my_digits")                 # a folder with one sub-folder per class
    dataset = import_path("train.csv", label_column="label")
    dataset = import_path("arrays.npz", progress=lambda done, total: ...)

``detect_format`` decides from the content, not only the name: a folder with IDX files is "idx", a folder
with sub-folders is "images", a zip archive is "npz", text is "csv". Anything else is a ``DatasetError``
saying what was found and what LayerLab imports. ``size`` and ``color`` apply to image folders and
``label_column`` to CSV files; given for another format they are noted as unused, never silently wrong.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from engine.datasets.errors import DatasetError, DatasetFileError
from engine.datasets.import_csv import import_csv
from engine.datasets.import_idx import find_idx_files, import_idx_folder, is_idx_name
from engine.datasets.import_images import import_image_folder
from engine.datasets.import_npz import import_npz
from engine.datasets.importing import DEFAULT_TEST_FRACTION
from engine.user_files import open_regular

IMPORT_FORMATS = ("images", "idx", "csv", "npz")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
_WHAT_WE_IMPORT = ("a folder with one sub-folder of images per class, a folder of IDX files, a .csv file "
                   "(a label column and one column per pixel) or a NumPy .npz file (images and labels)")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members, an empty zip


def detect_format(path: str | os.PathLike) -> str:
    """"images" | "idx" | "csv" | "npz" for what ``path`` holds; DatasetError in words for anything else."""
    path = Path(path)
    if path.is_dir():
        return _folder_format(path)
    if not path.exists():
        raise DatasetError(f"{path}: no such file or folder")
    with open_regular(path, max_bytes=2**62, error=DatasetFileError) as stream:
        try:
            head = stream.read(512)
        except OSError as exc:
            raise DatasetError(f"{path}: cannot be read ({(exc.strerror or str(exc)).lower()})") from None
    name = path.name.lower()
    if head.startswith(_ZIP_MAGIC):
        return "npz"
    if is_idx_name(name):
        return "idx"  # imported with the other IDX files of its folder
    if name.endswith(IMAGE_SUFFIXES):
        raise DatasetError(f"{path}: is a single image; to import images, choose the folder that holds one "
                           f"sub-folder per class")
    if name.endswith((".csv", ".txt")) or _looks_like_text(head):
        return "csv"
    if name.endswith(".npz"):
        raise DatasetError(f"{path}: is named .npz but is not a zip archive; expected a file saved with numpy.savez")
    raise DatasetError(f"{path}: not a format LayerLab imports; expected {_WHAT_WE_IMPORT}")


def import_path(path: str | os.PathLike, *, size: tuple[int, int] | None = None, color: str = "auto",
                label_column=None, test_fraction: float = DEFAULT_TEST_FRACTION, seed: int = 0, progress=None):
    """A Dataset from whatever ``path`` holds (see ``detect_format``); ``progress(done, total)`` as it goes.

    Raising ``ImportCancelled`` from ``progress`` stops the import; nothing is written either way (saving
    is ``save_imported``'s job).
    """
    path = Path(path).expanduser()
    kind = detect_format(path)
    common = {"test_fraction": test_fraction, "seed": seed, "progress": progress}
    if kind == "images":
        return import_image_folder(path, size=size, color=color, **common)
    if kind == "idx":
        dataset = import_idx_folder(path if path.is_dir() else path.parent, **common)
    elif kind == "csv":
        dataset = import_csv(path, label_column=label_column, **common)
    else:
        dataset = import_npz(path, **common)
    notes = []
    if size is not None or color != "auto":
        notes.append(f"size and color apply to image folders only; not used for {kind} data")
    if label_column is not None and kind != "csv":
        notes.append(f"the label column applies to CSV files only; not used for {kind} data")
    return dataclasses.replace(dataset, notes=(*dataset.notes, *notes)) if notes else dataset


def _folder_format(folder: Path) -> str:
    try:
        entries = [entry for entry in folder.iterdir() if not entry.name.startswith(".")]
    except OSError as exc:
        raise DatasetError(f"{folder}: cannot be read ({(exc.strerror or str(exc)).lower()})") from None
    if not entries:
        raise DatasetError(f"{folder}: the folder is empty; expected {_WHAT_WE_IMPORT}")
    if "train_images" in find_idx_files(folder):
        return "idx"
    if any(entry.is_dir() for entry in entries):
        return "images"
    images = [entry for entry in entries if entry.name.lower().endswith(IMAGE_SUFFIXES)]
    if images:
        raise DatasetError(f"{folder}: holds {len(images):,} images but no sub-folders; expected one sub-folder "
                           f"per class (e.g. {folder / 'cat'}), each holding that class's images")
    raise DatasetError(f"{folder}: holds no class sub-folders and no IDX files; expected {_WHAT_WE_IMPORT} "
                       f"(to import a .csv or .npz file in it, choose the file itself)")


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(head) - 4  # a character cut at the end of the 512 bytes read
    return True
