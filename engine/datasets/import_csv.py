"""Import images stored as CSV rows: a label column plus one column per pixel (0-255), like Kaggle's MNIST.

    label,pixel0,pixel1,...,pixel783
    5,0,0,...,0

The header row is optional; the label is the column named "label" when there is one, else the
first column (or ``label_column``). Pixels are in (C, H, W) order; the shape is inferred for
square grayscale (784 -> 1x28x28) or square RGB (3072 -> 3x32x32) images, else pass ``shape``.
A malformed row is refused with the file and line number.
"""

from __future__ import annotations

import csv
import math
import os
import warnings
from pathlib import Path

import numpy as np

from engine.datasets.errors import DatasetError
from engine.datasets.importing import DEFAULT_TEST_FRACTION, default_class_names, imported_dataset


def import_csv(path: str | os.PathLike, *, shape: tuple[int, int, int] | None = None, label_column=None,
               test_path: str | os.PathLike | None = None, class_names=None,
               test_fraction: float = DEFAULT_TEST_FRACTION, seed: int = 0):
    """A Dataset from ``path`` (and ``test_path`` for the test split, else a seeded held-out fraction)."""
    path = Path(path)
    images, labels = read_pixel_csv(path, shape=shape, label_column=label_column)
    test = None
    if test_path is not None:
        test = read_pixel_csv(Path(test_path), shape=tuple(images.shape[1:]), label_column=label_column)
    if class_names is None:
        class_names = default_class_names(path, labels, *(test[1:] if test else ()))
    return imported_dataset(path, images, labels, class_names, test=test, test_fraction=test_fraction, seed=seed)


def read_pixel_csv(path: Path, *, shape=None, label_column=None) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 images (N, C, H, W), int64 labels) from one CSV file."""
    header, first_line = _read_header(path)
    label_index = _label_index(path, header, label_column)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data": reported below instead
            table = np.loadtxt(path, delimiter=",", dtype=np.int32, skiprows=first_line - 1, ndmin=2,
                               encoding="utf-8-sig", comments=None)
    except ValueError as exc:
        raise DatasetError(_first_bad_row(path, first_line, label_index) or f"{path}: {exc}") from None
    if table.shape[0] == 0:
        raise DatasetError(f"{path}: no data rows")
    labels = table[:, label_index]
    pixels = np.delete(table, label_index, axis=1)
    if labels.min() < 0 or pixels.min() < 0 or pixels.max() > 255:
        raise DatasetError(_first_bad_row(path, first_line, label_index) or f"{path}: values out of range")
    shape = _image_shape(path, pixels.shape[1], shape)
    return pixels.astype(np.uint8).reshape(len(table), *shape), labels.astype(np.int64)


def _read_header(path: Path) -> tuple[list[str] | None, int]:
    """(header fields or None, 1-based line number of the first data row)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as stream:
            for line_number, row in enumerate(csv.reader(stream), start=1):
                if not row:
                    raise DatasetError(f"{path}, line {line_number}: blank line before the data")
                if all(_is_int(field) for field in row):
                    return None, line_number
                return [field.strip() for field in row], line_number + 1
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: expected a UTF-8 text CSV file; received binary data") from None
    except csv.Error as exc:
        raise DatasetError(f"{path}: not a readable CSV file ({exc})") from None
    raise DatasetError(f"{path}: empty file; expected rows of label and pixel values")


def _label_index(path: Path, header: list[str] | None, label_column) -> int:
    if label_column is None:
        lowered = [name.lower() for name in header or ()]
        return lowered.index("label") if "label" in lowered else 0
    if isinstance(label_column, str):
        if header is None or label_column not in header:
            raise DatasetError(f"{path}: no column named {label_column!r}; header is {header!r:.200}")
        return header.index(label_column)
    return int(label_column)


def _first_bad_row(path: Path, first_line: int, label_index: int) -> str | None:
    """The precise complaint about the first malformed data row, found by reading row by row."""
    with open(path, newline="", encoding="utf-8-sig") as stream:
        width = None
        for line_number, row in enumerate(csv.reader(stream), start=1):
            if line_number < first_line:
                continue
            where = f"{path}, line {line_number}"
            if not any(field.strip() for field in row):
                continue  # blank lines are skipped, as np.loadtxt does
            if width is None:
                width = len(row)
            if len(row) != width:
                return f"{where}: expected {width} values like the first data row; received {len(row)}"
            for column, field in enumerate(row, start=1):
                kind = "label" if column - 1 == label_index else "pixel"
                low, high = (0, None) if kind == "label" else (0, 255)
                if not _is_int(field) or int(field) < low or (high is not None and int(field) > high):
                    expected = "a class index >= 0" if kind == "label" else "a whole pixel value from 0 to 255"
                    return f"{where}, column {column}: expected {expected}; received {field!r:.40}"
    return None


def _image_shape(path: Path, num_pixels: int, shape) -> tuple[int, int, int]:
    if shape is not None:
        shape = tuple(int(d) for d in shape)
        if len(shape) != 3 or math.prod(shape) != num_pixels:
            raise DatasetError(f"{path}: shape {shape} (C, H, W) does not hold the {num_pixels} pixels of a row")
        return shape
    for channels in (1, 3):
        side = math.isqrt(num_pixels // channels)
        if channels * side * side == num_pixels:
            return channels, side, side
    raise DatasetError(f"{path}: cannot infer the image shape from {num_pixels} pixels per row; "
                       f"pass shape=(channels, height, width)")


def _is_int(field: str) -> bool:
    field = field.strip()
    return field.lstrip("+-").isdigit()
