"""Import a NumPy ``.npz`` archive: ``images`` and ``labels``, optionally ``test_images``, ``test_labels`` and
``class_names``, as ``np.savez(path, images=..., labels=...)`` writes them.

The archive is the user's file, so it is data, never code: object arrays (which only pickle can read) are
refused, and every array's header is read and checked before the array is: its dtype, and its declared
size against both ``MAX_ARRAY_BYTES`` and what the zip member really holds, so a header claiming 2 GB in a
1 KB file is refused before a byte is allocated. The file itself is a regular file of at most
``MAX_NPZ_BYTES``; the zip's own declared sizes are bounded too (a small zip can unpack to terabytes).

Images may be (N, H, W), (N, C, H, W) or channels-last (N, H, W, C) with C of 1 or 3; uint8, or whole
numbers from 0 to 255 of another type, or floats from 0 to 1 (scaled to 0-255, with a note).
``progress(arrays_read, arrays)`` after each array; ``ImportCancelled`` raised from it stops the import.
"""

from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path

import numpy as np

from engine.datasets.errors import DatasetError, DatasetFileError, ImportCancelled
from engine.datasets.importing import (
    DEFAULT_TEST_FRACTION,
    checked_labels,
    default_class_names,
    imported_dataset,
    report_progress,
)
from engine.user_files import GIB, open_regular, reading

MAX_NPZ_BYTES = 4 * GIB
MAX_ARRAY_BYTES = 4 * GIB  # all arrays together, as declared by their headers
_MAX_HEADER_BYTES = 10_000  # NumPy's own default: larger headers are not parsed safely
KEYS = ("images", "labels", "test_images", "test_labels", "class_names")


def import_npz(path: str | os.PathLike, *, class_names=None, test_fraction: float = DEFAULT_TEST_FRACTION,
               seed: int = 0, progress=None):
    """A Dataset from the arrays in the .npz at ``path``; DatasetError naming the file and array otherwise."""
    path = Path(path)
    arrays = read_npz_arrays(path, progress=progress)
    notes: list[str] = []
    images = _images(path, "images", arrays["images"], notes)
    labels = _labels(path, "labels", arrays["labels"])
    test = None
    if "test_images" in arrays:
        test = (_images(path, "test_images", arrays["test_images"], []), _labels(path, "test_labels",
                                                                               arrays["test_labels"]))
        if test[0].shape[1:] != images.shape[1:]:
            raise DatasetError(f"{path}: test_images are {test[0].shape[1:]} (C, H, W); images are "
                               f"{images.shape[1:]}; expected the same shape")
        notes.append(f"test set: the {len(test[1]):,} examples of test_images")
    if class_names is None and "class_names" in arrays:
        class_names = _class_names(path, arrays["class_names"])
    all_labels = (labels, *(test[1:] if test else ()))
    if class_names is None:
        class_names = default_class_names(path, *all_labels)
    largest = max(int(array.max()) for array in all_labels if len(array))
    if largest >= len(class_names):
        raise DatasetError(f"{path}: class_names lists {len(class_names):,} names, but the labels go up to "
                           f"{largest:,}; expected a name for every class")
    notes.insert(0, f"images are {images.shape[2]}x{images.shape[3]}, {images.shape[1]} "
                    f"channel{'s' if images.shape[1] > 1 else ''}")
    return imported_dataset(path, images, labels, class_names, test=test, test_fraction=test_fraction, seed=seed,
                            notes=notes)


def read_npz_arrays(path: Path, *, progress=None) -> dict[str, np.ndarray]:
    """The known arrays of the archive, each checked by its header before it is read."""
    with open_regular(path, max_bytes=MAX_NPZ_BYTES, error=DatasetFileError) as stream, \
            reading(path, error=DatasetFileError, what="is not a readable NumPy .npz file",
                    passes=(ImportCancelled, DatasetError)):
        try:
            archive = zipfile.ZipFile(stream)
        except zipfile.BadZipFile:
            raise DatasetFileError(path, "is not a NumPy .npz file (not a zip archive)") from None
        with archive:
            members = {info.filename.removesuffix(".npy"): info for info in archive.infolist()}
            if "images" not in members or "labels" not in members:
                found = ", ".join(sorted(members)[:10]) or "nothing"
                raise DatasetFileError(path, f"expected arrays named 'images' and 'labels'; found {found}")
            if ("test_images" in members) != ("test_labels" in members):
                missing = "test_labels" if "test_images" in members else "test_images"
                raise DatasetFileError(path, f"has one test array but not {missing!r}; expected both or neither")
            wanted = [key for key in KEYS if key in members]
            declared = 0
            for key in wanted:
                declared += _check_header(path, key, archive, members[key])
                if declared > MAX_ARRAY_BYTES:
                    raise DatasetFileError(path, f"its arrays declare more than {MAX_ARRAY_BYTES:,} bytes; LayerLab "
                                                 f"imports at most that")
            arrays = {}
            report_progress(progress, 0, len(wanted))
            for done, key in enumerate(wanted, start=1):
                with archive.open(members[key]) as member:
                    arrays[key] = np.lib.format.read_array(member, allow_pickle=False,
                                                           max_header_size=_MAX_HEADER_BYTES)
                report_progress(progress, done, len(wanted))
    return arrays


def _check_header(path: Path, key: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    """The bytes array ``key`` declares, once its header is known to be one LayerLab will read."""
    where = f"array {key!r}"
    if info.file_size > MAX_ARRAY_BYTES + _MAX_HEADER_BYTES:
        raise DatasetFileError(path, f"{where} unpacks to {info.file_size:,} bytes; LayerLab imports arrays of at "
                                     f"most {MAX_ARRAY_BYTES:,} bytes")
    with archive.open(info) as member:
        try:
            version = np.lib.format.read_magic(member)
        except ValueError:
            raise DatasetFileError(path, f"{where} is not a NumPy array (.npy)") from None
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member, max_header_size=_MAX_HEADER_BYTES)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(member, max_header_size=_MAX_HEADER_BYTES)
        else:
            raise DatasetFileError(path, f"{where} is in .npy format version {version[0]}.{version[1]}; expected "
                                         f"1.0 or 2.0")
        header_bytes = member.tell()
    if dtype.hasobject:
        raise DatasetFileError(path, f"{where} holds Python objects (dtype {dtype}); LayerLab reads only arrays of "
                                     f"numbers or text, never pickled objects")
    expected_kind = "US" if key == "class_names" else "biuf"
    if dtype.kind not in expected_kind or dtype.fields is not None:
        wanted = "text" if key == "class_names" else "numbers"
        raise DatasetFileError(path, f"{where}: expected an array of {wanted}; received dtype {dtype}")
    declared = math.prod(shape) * dtype.itemsize  # Python ints: no overflow whatever the header says
    if declared > MAX_ARRAY_BYTES:
        raise DatasetFileError(path, f"{where}: its header declares shape {shape} ({declared:,} bytes), more than "
                                     f"the {MAX_ARRAY_BYTES:,} bytes LayerLab imports; refused before reading")
    if declared > info.file_size - header_bytes:
        raise DatasetFileError(path, f"{where}: its header declares shape {shape} ({declared:,} bytes), but the "
                                     f"archive holds only {max(info.file_size - header_bytes, 0):,} bytes for it; "
                                     f"the file is damaged or was cut short")
    return declared


def _images(path: Path, key: str, array: np.ndarray, notes: list[str]) -> np.ndarray:
    """(N, C, H, W) uint8 from the accepted layouts and value ranges; DatasetError naming the array otherwise."""
    where = f"{path}: array {key!r}"
    if array.ndim == 3:
        array = array[:, None]
    elif array.ndim == 4 and array.shape[1] not in (1, 3) and array.shape[3] in (1, 3):
        array = array.transpose(0, 3, 1, 2)
        notes.append("channels-last arrays (N, H, W, C) read as (N, C, H, W)")
    if array.ndim != 4 or array.shape[1] not in (1, 3):
        raise DatasetError(f"{where}: expected images of shape (N, H, W), (N, C, H, W) or (N, H, W, C) with 1 or 3 "
                           f"channels; received shape {array.shape}")
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    if array.size == 0:
        return np.zeros(array.shape, dtype=np.uint8)
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        raise DatasetError(f"{where}: expected pixel values from 0 to 255 (or 0 to 1); received NaN or infinity")
    low, high = array.min(), array.max()
    if array.dtype.kind == "f" and low >= 0 and high <= 1:
        notes.append("pixel values from 0 to 1 scaled to 0-255")
        return np.ascontiguousarray(np.rint(array * 255), dtype=np.uint8)
    if low < 0 or high > 255 or (array.dtype.kind == "f" and not np.all(array == np.floor(array))):
        raise DatasetError(f"{where}: expected pixel values as whole numbers from 0 to 255 (or floats from 0 to 1); "
                           f"received values from {low} to {high}")
    return np.ascontiguousarray(array, dtype=np.uint8)


def _labels(path: Path, key: str, array: np.ndarray) -> np.ndarray:
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    return checked_labels(f"{path}: array {key!r}", array)


def _class_names(path: Path, array: np.ndarray) -> tuple[str, ...]:
    if array.ndim != 1:
        raise DatasetError(f"{path}: array 'class_names': expected a 1-D list of names; received shape {array.shape}")
    names = []
    for value in array.tolist():
        try:
            names.append(value.decode("utf-8") if isinstance(value, bytes) else str(value))
        except UnicodeDecodeError:
            raise DatasetError(f"{path}: array 'class_names': expected UTF-8 text; received {value!r:.40}") from None
    return tuple(names)
