"""Import a folder of images with one sub-folder per class, brought to one size and colour with Pillow.

    my_digits/                     or     my_digits/train/<class>/...  and  my_digits/test/<class>/...
        cat/001.png  cat/002.jpg ...
        dog/...

Classes are the sub-folder names in sorted order; at least two must hold usable images. Images are read
through ``engine.user_files``: regular files only, bounded, and decoded only as PNG, JPEG, BMP, GIF, TIFF
or WebP, whatever the extension (never EPS, whose plugin runs Ghostscript). A file that cannot be read as
an image, and a link to a folder (never followed, so a link loop cannot recurse), is skipped and reported
in ``dataset.warnings``; if nothing usable is left, ``DatasetError`` is raised.

``size=None`` takes the most common image size (scaled down to at most ``MAX_AUTO_SIDE`` on a side);
``color="auto"`` reads RGB when any image is a colour image (its mode, or a palette with a colour in it),
else one channel. An import whose images would not fit in memory at that size and colour is refused
before any is decoded. Finding size and colour takes a first pass over the files, which reads only their
headers and keeps their bytes (up to ``MAX_KEPT_BYTES``) for the second pass, which decodes. Images
already at the target size are not resampled, so a lossless file gives back exactly the pixels it was
saved from. Without train/test sub-folders a seeded fraction of the images is held out for testing.
``progress(done, total)`` counts file visits, two per file (its header, then its pixels); raising
``ImportCancelled`` from it stops the import.
"""

from __future__ import annotations

import io
import os
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.datasets.errors import DatasetError, DatasetFileError
from engine.datasets.importing import DEFAULT_TEST_FRACTION, imported_dataset, listing, report_progress
from engine.design_limits import format_bytes, memory_limit_bytes
from engine.user_files import IMAGE_FORMATS, MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, MIB, read_bytes, reading

COLORS = ("auto", "grayscale", "rgb")
MAX_SIDE = 4096
MAX_AUTO_SIDE = 128  # the largest side size=None picks by itself (CIFAR is 32, MNIST 28); a size given may be more
MAX_KEPT_BYTES = 512 * MIB  # file bytes kept between the two passes; beyond that the second pass reads again
_GREY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}


@dataclass
class _Found:
    """One image file met by the first pass."""

    path: Path
    label: int
    split: str  # "train" or "test"
    size: tuple[int, int]  # (height, width)
    colour: bool
    image: object | None  # the opened (not yet decoded) Pillow image, while the byte budget allows


def import_image_folder(folder: str | os.PathLike, *, size: tuple[int, int] | None = None, color: str = "auto",
                        test_fraction: float = DEFAULT_TEST_FRACTION, seed: int = 0, progress=None):
    """A Dataset of uint8 images (N, 1 or 3, H, W), all brought to ``size`` = (height, width)."""
    folder = Path(folder)
    if color not in COLORS:
        raise DatasetError(f"{folder}: expected color 'auto', 'grayscale' or 'rgb'; received color={color!r}")
    if size is not None:
        height, width = (int(v) for v in size)
        if not (1 <= height <= MAX_SIDE and 1 <= width <= MAX_SIDE):
            raise DatasetError(f"{folder}: expected a size (height, width) from 1 to {MAX_SIDE}; received size={size}")
    roots, class_names = _layout(folder)
    problems: list[str] = []
    files = [(split, label, path) for split, root in roots.items() for label, name in enumerate(class_names)
             if (root / name).is_dir() for path in _files_under(root / name, problems)]
    if not files:
        raise DatasetError(f"{folder}: the class folders ({_names(class_names)}) hold no files" + listing(problems))

    total = 2 * len(files)
    found = _scan(files, problems, progress, total)
    target = (height, width) if size is not None else _auto_size([f.size for f in found])
    colour = color == "rgb" or (color == "auto" and any(f.colour for f in found))
    _check_memory(folder, len(found), 3 if colour else 1, target)
    notes = _notes(found, target, colour, color)
    if size is None and target != _most_common([f.size for f in found]):
        notes.append(f"smaller than the images' own {_hw(_most_common([f.size for f in found]))}: without a size, "
                     f"LayerLab keeps at most {MAX_AUTO_SIDE} pixels on a side; give a size to choose another")
    arrays = {split: ([], []) for split in roots}
    skipped_in_scan = len(files) - len(found)  # visited once only: count them done on the second pass too
    for done, entry in enumerate(found, start=len(files) + skipped_in_scan + 1):
        pixels = _decode(entry, target, colour, problems)
        if pixels is not None:
            arrays[entry.split][0].append(pixels)
            arrays[entry.split][1].append(entry.label)
        report_progress(progress, done, total)
    report_progress(progress, total, total)

    channels = 3 if colour else 1
    stacked = {split: (np.stack(images) if images else np.zeros((0, channels, *target), dtype=np.uint8),
                       np.asarray(labels, dtype=np.int64)) for split, (images, labels) in arrays.items()}
    train_root = roots["train"]
    if len(stacked["train"][1]) == 0:
        raise DatasetError(f"{train_root}: no usable images in {_names(class_names)}" + listing(problems))
    for index, name in enumerate(class_names):
        if not np.any(stacked["train"][1] == index):
            problems.append(f"{train_root / name}: class {name!r} has no usable training images")
    test = None
    if "test" in stacked:
        if len(stacked["test"][1]) == 0:
            raise DatasetError(f"{roots['test']}: no usable images" + listing(problems))
        test = stacked["test"]
        notes.append(f"test set: the {len(test[1]):,} images of {roots['test'].name}{os.sep}")
    return imported_dataset(folder, *stacked["train"], class_names, test=test, test_fraction=test_fraction,
                            seed=seed, warnings=problems, notes=notes)


def _layout(folder: Path) -> tuple[dict[str, Path], tuple[str, ...]]:
    """({"train": root[, "test": root]}, class names), or DatasetError saying what the folder lacks."""
    if not folder.is_dir():
        raise DatasetError(f"{folder}: expected a folder with one sub-folder per class; received "
                           f"{'a file' if folder.exists() else 'a path that does not exist'}")
    try:
        subfolders = _subfolders(folder)
    except OSError as exc:
        raise DatasetError(f"{folder}: cannot be read ({(exc.strerror or str(exc)).lower()})") from None
    split_folders = {p.name.lower(): p for p in subfolders}
    roots = {"train": folder}
    if "train" in split_folders and "test" in split_folders:
        roots = {"train": split_folders["train"], "test": split_folders["test"]}
    elif list(split_folders) == ["train"]:  # train/ alone: its class folders, with a test split held out
        roots = {"train": split_folders["train"]}
    class_names = tuple(p.name for p in _subfolders(roots["train"]))
    if not class_names:
        loose = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
        what = (f"found {len(loose):,} files directly in it and no sub-folders" if loose
                else "the folder is empty")
        raise DatasetError(f"{roots['train']}: expected one sub-folder per class (e.g. {roots['train'] / 'cat'}); "
                           f"{what}")
    if len(class_names) < 2:
        raise DatasetError(f"{roots['train']}: found one class folder ({class_names[0]!r}); a data set needs at "
                           f"least two classes, one sub-folder each")
    if "test" in roots:
        unknown = sorted({p.name for p in _subfolders(roots["test"])} - set(class_names))
        if unknown:
            raise DatasetError(f"{roots['test']}: class folders {unknown} have no counterpart in {roots['train']}")
    return roots, class_names


def _scan(files, problems: list[str], progress, total: int) -> list[_Found]:
    """First pass: each file's size and colour from its header; unreadable files skipped with the reason."""
    from PIL import Image, UnidentifiedImageError

    found, kept_bytes = [], 0
    for done, (split, label, path) in enumerate(files, start=1):
        try:
            data = read_bytes(path, max_bytes=MAX_IMAGE_BYTES, error=DatasetFileError)
            with reading(path, error=DatasetFileError, what="is a damaged image"), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Pillow's notes on odd files: reported in words instead
                try:
                    image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
                except UnidentifiedImageError:
                    raise DatasetFileError(path, "is not an image LayerLab can read (PNG, JPEG, BMP, GIF, TIFF or "
                                                 "WebP)") from None
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise DatasetFileError(path, f"is {width:,} x {height:,} pixels; LayerLab reads images of at "
                                                 f"most {MAX_IMAGE_PIXELS:,} pixels")
                colour = _is_colour(image)
        except DatasetFileError as exc:
            problems.append(f"{path}: skipped ({exc.problem})")
        else:
            keep = kept_bytes + len(data) <= MAX_KEPT_BYTES
            kept_bytes += len(data) if keep else 0
            found.append(_Found(path, label, split, (height, width), colour, image if keep else None))
        report_progress(progress, done, total)
    return found


def _decode(entry: _Found, target: tuple[int, int], colour: bool, problems: list[str]) -> np.ndarray | None:
    """Second pass: (C, H, W) uint8 at ``target``, or None after recording why the file was skipped."""
    from PIL import Image

    mode = "RGB" if colour else "L"
    try:
        image = entry.image
        if image is None:  # over the byte budget: read again
            data = read_bytes(entry.path, max_bytes=MAX_IMAGE_BYTES, error=DatasetFileError)
        with reading(entry.path, error=DatasetFileError, what="is a damaged image"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if image is None:
                image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
            converted = image if image.mode == mode else image.convert(mode)
            if converted.size != (target[1], target[0]):
                converted = converted.resize((target[1], target[0]), Image.Resampling.BILINEAR)
            array = np.asarray(converted, dtype=np.uint8)
            image.close()
    except DatasetFileError as exc:
        problems.append(f"{entry.path}: skipped ({exc.problem})")
        return None
    finally:
        entry.image = None  # its bytes are not needed again
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


def _is_colour(image) -> bool:
    """Whether an image holds colour: a colour mode, or a palette with an entry whose R, G and B differ."""
    if image.mode in _GREY_MODES:
        return False
    if image.mode in ("P", "PA"):
        palette = image.getpalette() or []
        return any(len(set(palette[i:i + 3])) > 1 for i in range(0, len(palette) - 2, 3))
    return True


def _auto_size(sizes: list[tuple[int, int]]) -> tuple[int, int]:
    """The most common size, scaled down (aspect kept) to at most MAX_AUTO_SIDE on a side: a folder of phone
    photos (3000x4000) would otherwise become 36 MB an example, terabytes for a few thousand."""
    height, width = _most_common(sizes)
    scale = min(1.0, MAX_AUTO_SIDE / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def _check_memory(folder: Path, count: int, channels: int, target: tuple[int, int]) -> None:
    """DatasetError before decoding when the images at ``target`` could not fit in this computer's memory.

    The importer holds each image and then the stacked array (twice the data), and training later a float32
    copy (four times more): the import is refused when its own share passes half the memory.
    """
    needed = 2 * count * channels * target[0] * target[1]
    limit = memory_limit_bytes()
    if needed > limit // 2:
        raise DatasetError(f"{folder}: {count:,} images of {channels}x{_hw(target)} need {format_bytes(needed)} "
                           f"of memory to import; this computer has {format_bytes(limit)}. Choose a smaller size")


def _most_common(sizes: list[tuple[int, int]]) -> tuple[int, int]:
    """The size most images have; among equally common ones the larger (less detail thrown away)."""
    if not sizes:
        return (28, 28)  # nothing readable: the caller refuses with the list of problems
    counts = Counter(sizes)
    return max(counts, key=lambda s: (counts[s], s[0] * s[1], s))


def _notes(found: list[_Found], target: tuple[int, int], colour: bool, color: str) -> list[str]:
    notes = []
    sizes = sorted(set(f.size for f in found), key=lambda s: (s[0] * s[1], s))
    if len(sizes) > 1:
        notes.append(f"images came in {len(sizes)} sizes ({_hw(sizes[0])} to {_hw(sizes[-1])}); all resized to "
                     f"{_hw(target)}")
    elif sizes and sizes[0] != target:
        notes.append(f"images are {_hw(sizes[0])}; all resized to {_hw(target)}")
    else:
        notes.append(f"images are {_hw(target)}")
    colour_count = sum(f.colour for f in found)
    if colour:
        mixed = 0 < colour_count < len(found) and color == "auto"
        notes.append("colour images: 3 channels" + (f" ({colour_count:,} of {len(found):,} images are colour; the "
                                                     f"grey ones are read as RGB)" if mixed else ""))
    else:
        converted = f" ({colour_count:,} colour images converted to grey)" if colour_count else ""
        notes.append(f"grayscale images: 1 channel{converted}")
    return notes


def _hw(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


def _names(class_names) -> str:
    shown = ", ".join(class_names[:10])
    return shown + (f" and {len(class_names) - 10:,} more" if len(class_names) > 10 else "")


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
