"""Import a folder of images with one sub-folder per class, resized to one size with Pillow.

    my_digits/                     or     my_digits/train/<class>/...  and  my_digits/test/<class>/...
        cat/001.png  cat/002.jpg ...
        dog/...

Classes are the sub-folder names in sorted order. Images are read through ``engine.user_files.read_image``:
regular files only, bounded, and decoded only as PNG, JPEG, BMP, GIF, TIFF or WebP, whatever the
extension (never EPS, whose plugin runs Ghostscript). A file that cannot be read as an image, and a
link to a folder (never followed, so a link loop cannot recurse), is skipped and reported in
``dataset.warnings``; if nothing usable is left, ``DatasetError`` is raised.
Without train/test sub-folders a seeded fraction of the images is held out for testing.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from engine.datasets.errors import DatasetError, DatasetFileError
from engine.datasets.importing import DEFAULT_TEST_FRACTION, imported_dataset
from engine.user_files import read_image, reading

_MODES = {"grayscale": "L", "rgb": "RGB"}


def import_image_folder(folder: str | os.PathLike, *, size: tuple[int, int] = (28, 28), color: str = "grayscale",
                        test_fraction: float = DEFAULT_TEST_FRACTION, seed: int = 0):
    """A Dataset of uint8 images (N, 1 or 3, H, W) resized to ``size`` = (height, width)."""
    from PIL import Image  # imported here: only importing needs Pillow

    folder = Path(folder)
    if color not in _MODES:
        raise DatasetError(f"{folder}: expected color 'grayscale' or 'rgb'; received color={color!r}")
    height, width = (int(v) for v in size)
    if not (1 <= height <= 4096 and 1 <= width <= 4096):
        raise DatasetError(f"{folder}: expected a size (height, width) from 1 to 4096; received size={size}")
    if not folder.is_dir():
        raise DatasetError(f"{folder}: expected a folder with one sub-folder per class; received "
                           f"{'a file' if folder.exists() else 'a path that does not exist'}")
    split_folders = {p.name.lower(): p for p in _subfolders(folder)}
    has_splits = "train" in split_folders and "test" in split_folders
    train_root = split_folders["train"] if has_splits else folder
    class_names = tuple(p.name for p in _subfolders(train_root))
    if not class_names:
        raise DatasetError(f"{folder}: expected one sub-folder per class (e.g. {folder / 'cat'}); found none")

    problems: list[str] = []
    reader = _ImageReader(Image, _MODES[color], (width, height), problems)
    train = _read_split(train_root, class_names, reader)
    test = None
    if has_splits:
        test_root = split_folders["test"]
        unknown = sorted({p.name for p in _subfolders(test_root)} - set(class_names))
        if unknown:
            raise DatasetError(f"{test_root}: class folders {unknown} have no counterpart in {train_root}")
        test = _read_split(test_root, class_names, reader)
        if len(test[1]) == 0:
            raise DatasetError(f"{test_root}: no usable images" + _listing(problems))
    if len(train[1]) == 0:
        raise DatasetError(f"{train_root}: no usable images in {', '.join(class_names)}" + _listing(problems))
    for index, name in enumerate(class_names):
        if not np.any(train[1] == index):
            problems.append(f"{train_root / name}: class {name!r} has no usable training images")
    return imported_dataset(folder, *train, class_names, test=test, test_fraction=test_fraction, seed=seed,
                            warnings=problems)


class _ImageReader:
    def __init__(self, image_module, mode: str, size: tuple[int, int], problems: list[str]):
        self.Image = image_module
        self.mode = mode
        self.size = size
        self.problems = problems

    def read(self, path: Path) -> np.ndarray | None:
        """(C, H, W) uint8, or None after recording why the file was skipped."""
        Image = self.Image
        try:
            # read_image: a regular file only (a FIFO would block, /dev/zero never ends), bounded, opened only
            # as PNG/JPEG/BMP/GIF/TIFF/WebP whatever its name (EPS never reaches Ghostscript), and a
            # decompression bomb refused by its header against user_files.MAX_IMAGE_PIXELS.
            image = read_image(path, error=DatasetFileError)
            with reading(path, error=DatasetFileError, what="is a damaged image"), image:
                pixels = image.convert(self.mode).resize(self.size, Image.Resampling.BILINEAR)
        except DatasetFileError as exc:
            self.problems.append(f"{path}: skipped ({exc.problem})")
            return None
        array = np.asarray(pixels, dtype=np.uint8)
        return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


def _read_split(root: Path, class_names, reader: _ImageReader) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    for label, name in enumerate(class_names):
        class_folder = root / name
        if not class_folder.is_dir():
            continue
        for path in _files_under(class_folder, reader.problems):
            pixels = reader.read(path)
            if pixels is not None:
                images.append(pixels)
                labels.append(label)
    channels = 1 if reader.mode == "L" else 3
    width, height = reader.size
    stacked = np.stack(images) if images else np.zeros((0, channels, height, width), dtype=np.uint8)
    return stacked, np.asarray(labels, dtype=np.int64)


def _subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _files_under(folder: Path, problems: list[str]) -> list[Path]:
    """Every non-hidden file below ``folder``, sorted.

    A symbolic link to a folder is not followed (it may lead back up: ``cat/loop -> ..`` would recurse
    forever) and is noted in ``problems``; a link to a file is read like the file.
    """
    found = []

    def unreadable(exc: OSError) -> None:
        problems.append(f"{exc.filename}: skipped (a folder that cannot be read: {(exc.strerror or '').lower()})")

    for parent, dirs, files in os.walk(folder, onerror=unreadable):  # os.walk never follows links by default
        linked = sorted(d for d in dirs if not d.startswith(".") and os.path.islink(os.path.join(parent, d)))
        problems += [f"{Path(parent) / d}: skipped (a link to a folder; links inside a class folder are not "
                     f"followed)" for d in linked]
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in linked)
        found += [Path(parent) / f for f in sorted(files) if not f.startswith(".")]
    return found


def _listing(problems: list[str]) -> str:
    shown = problems[:10]
    more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
    return ("; problems:\n  " + "\n  ".join(shown) + more) if shown else ""
