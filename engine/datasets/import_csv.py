"""Import images stored as CSV rows: a label column plus one column per pixel (0-255), like Kaggle's MNIST.

    label,pixel0,pixel1,...,pixel783
    5,0,0,...,0

The header row is optional; the label is the column named "label" when there is one, else the
first column (or ``label_column``). Pixels are in (C, H, W) order; the shape is inferred for
square grayscale (784 -> 1x28x28) or square RGB (3072 -> 3x32x32) images, else pass ``shape``.
A malformed row is refused with the file and line number: a value that is not a whole number, a pixel
outside 0-255, a label outside 0 to ``MAX_CLASSES - 1``, bytes that are not UTF-8 anywhere in the file.
Only a regular file of at most ``MAX_CSV_BYTES`` is read (a FIFO, a device or a folder is refused).
The rows are parsed in chunks of about ``CHUNK_CHARS`` characters; ``progress(done_bytes, total_bytes)`` is
called after each, and ``ImportCancelled`` raised from it stops the import.
"""

from __future__ import annotations

import csv
import io
import math
import os
import warnings
from pathlib import Path

import numpy as np

from engine.datasets.errors import DatasetError, DatasetFileError
from engine.datasets.importing import (
    DEFAULT_TEST_FRACTION,
    MAX_CLASSES,
    checked_labels,
    default_class_names,
    imported_dataset,
    report_progress,
)
from engine.errors import describe_error
from engine.user_files import GIB, read_bytes

# The largest CSV read: Kaggle's MNIST train.csv is 110 MB; the whole file is held in memory as text.
MAX_CSV_BYTES = 1 * GIB
CHUNK_CHARS = 4 * 1024**2  # Kaggle's MNIST train.csv (110 MB) reports progress ~27 times


def import_csv(path: str | os.PathLike, *, shape: tuple[int, int, int] | None = None, label_column=None,
               test_path: str | os.PathLike | None = None, class_names=None,
               test_fraction: float = DEFAULT_TEST_FRACTION, seed: int = 0, progress=None):
    """A Dataset from ``path`` (and ``test_path`` for the test split, else a seeded held-out fraction)."""
    path = Path(path)
    images, labels = read_pixel_csv(path, shape=shape, label_column=label_column, progress=progress)
    test = None
    if test_path is not None:
        test = read_pixel_csv(Path(test_path), shape=tuple(images.shape[1:]), label_column=label_column,
                              progress=progress)
    if class_names is None:
        class_names = default_class_names(path, labels, *(test[1:] if test else ()))
    return imported_dataset(path, images, labels, class_names, test=test, test_fraction=test_fraction, seed=seed)


def read_pixel_csv(path: Path, *, shape=None, label_column=None, progress=None) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 images (N, C, H, W), int64 labels) from one CSV file."""
    text, total_bytes = _read_csv_text(path)
    header, first_line = _read_header(path, text)
    label_index = _label_index(path, header, label_column)
    try:
        table = _parse_rows(text, total_bytes, first_line, progress)
    except (ValueError, OverflowError) as exc:
        problem = f"not a table of whole numbers LayerLab can read ({describe_error(exc)})"
        raise DatasetError(_first_bad_row(path, text, first_line, label_index) or f"{path}: {problem}") from None
    if table.shape[0] == 0:
        raise DatasetError(f"{path}: no data rows")
    if not 0 <= label_index < table.shape[1]:
        raise DatasetError(f"{path}: label_column={label_column!r} is not one of the {table.shape[1]} columns")
    labels = table[:, label_index]
    pixels = np.delete(table, label_index, axis=1)
    if pixels.shape[1] == 0:
        raise DatasetError(f"{path}: expected a label and pixel values on each row; received only one column")
    if labels.min() < 0 or labels.max() >= MAX_CLASSES or pixels.min() < 0 or pixels.max() > 255:
        raise DatasetError(_first_bad_row(path, text, first_line, label_index) or f"{path}: values out of range")
    labels = checked_labels(path, labels, where=lambda index: f"data row {index + 1:,}")  # a backstop: checked above
    shape = _image_shape(path, pixels.shape[1], shape)
    return pixels.astype(np.uint8).reshape(len(table), *shape), labels


def _parse_rows(text: str, total_bytes: int, first_line: int, progress) -> np.ndarray:
    """The data rows as one int64 table, parsed a chunk of whole lines at a time so progress can be reported.

    int64: a label or pixel too big for int32 is then refused with its line by the caller, not overflowed.
    """
    start = 0
    for _ in range(first_line - 1):  # past the header
        start = text.find("\n", start) + 1 or len(text)
    tables = []
    while start < len(text):
        end = text.find("\n", min(start + CHUNK_CHARS, len(text)))
        end = len(text) if end == -1 else end + 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data": reported by the caller
            table = np.loadtxt(io.StringIO(text[start:end], newline=""), delimiter=",", dtype=np.int64, ndmin=2,
                               comments=None, quotechar='"')
        if table.shape[0]:
            tables.append(table)
        start = end
        # Bytes, estimated in proportion to the characters parsed: exact for ASCII, and exact at the end.
        report_progress(progress, round(total_bytes * start / len(text)), total_bytes)
    if not tables:
        return np.zeros((0, 0), dtype=np.int64)
    return np.concatenate(tables)  # rows of different widths in different chunks: ValueError, as within one


def _read_csv_text(path: Path) -> tuple[str, int]:
    """The whole file as text: a regular file (not a FIFO, device or folder) of at most MAX_CSV_BYTES, all
    of it UTF-8. Decoding it all here means bad bytes anywhere (not only in the first 8 KB the header
    check sees) are refused with their line, before any parser meets them."""
    data = read_bytes(path, max_bytes=MAX_CSV_BYTES, error=DatasetFileError)
    try:
        return data.decode("utf-8-sig"), len(data)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DatasetError(f"{path}, line {line:,}: expected a UTF-8 text CSV file; received bytes that are not "
                           f"UTF-8 text (byte {exc.start:,})") from None


def _read_header(path: Path, text: str) -> tuple[list[str] | None, int]:
    """(header fields or None, 1-based line number of the first data row)."""
    try:
        for line_number, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            if not row:
                raise DatasetError(f"{path}, line {line_number}: blank line before the data")
            if all(_is_int(field) for field in row):
                return None, line_number
            return [field.strip() for field in row], line_number + 1
    except csv.Error as exc:
        raise DatasetError(f"{path}: not a readable CSV file ({exc})") from None
    raise DatasetError(f"{path}: empty file; expected rows of label and pixel values")


def _label_index(path: Path, header: list[str] | None, label_column) -> int:
    if label_column is None:
        lowered = [name.lower() for name in header or ()]
        return lowered.index("label") if "label" in lowered else 0
    if isinstance(label_column, str) and label_column.strip().isdigit() and label_column not in (header or ()):
        label_column = int(label_column)  # "0" from a command line: a column number, unless a column is named so
    if isinstance(label_column, str):
        if header is None or label_column not in header:
            raise DatasetError(f"{path}: no column named {label_column!r}; header is {header!r:.200}")
        return header.index(label_column)
    return int(label_column)


def _first_bad_row(path: Path, text: str, first_line: int, label_index: int) -> str | None:
    """The precise complaint about the first malformed data row, found by reading row by row."""
    width = None
    rows = csv.reader(io.StringIO(text, newline=""))
    line_number = 0
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return None
        except csv.Error as exc:
            return f"{path}, line {rows.line_num:,}: not a readable CSV row ({exc})"
        line_number = rows.line_num
        if line_number < first_line:
            continue
        where = f"{path}, line {line_number:,}"
        if not any(field.strip() for field in row):
            continue  # blank lines are skipped, as np.loadtxt does
        if width is None:
            width = len(row)
        if len(row) != width:
            return f"{where}: expected {width} values like the first data row; received {len(row)}"
        for column, field in enumerate(row, start=1):
            kind = "label" if column - 1 == label_index else "pixel"
            low, high = (0, MAX_CLASSES - 1) if kind == "label" else (0, 255)
            if not _is_int(field) or not low <= int(field) <= high:
                expected = (f"a class index from 0 to {MAX_CLASSES - 1:,} (LayerLab imports at most "
                            f"{MAX_CLASSES:,} classes)" if kind == "label" else "a whole pixel value from 0 to 255")
                label = " (the label)" if kind == "label" else ""
                received = f"{field!r:.40}" if field.strip() else "nothing (a missing value)"
                return f"{where}, column {column}{label}: expected {expected}; received {received}"


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
    """A whole number as NumPy reads one: ASCII digits only (``isdigit`` alone accepts "٣" and "²"), and
    short enough for ``int()`` (Python refuses to convert more than 4,300 digits)."""
    digits = field.strip().removeprefix("-").removeprefix("+")
    return digits.isascii() and digits.isdigit() and len(digits) <= 30
