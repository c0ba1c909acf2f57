"""The store of data sets the user imported: named, checksummed, in LayerLab's own format.

    saved = save_imported(dataset, "my digits")        # -> ImportedSet; imported_dir()/my digits/
    list_imported()                                     # every readable set; a damaged folder is skipped
    load_imported("my digits")                          # the arrays, checked against the manifest once per process
    delete_imported("my digits")

Each set is a folder ``imported_dir()/<name>/`` holding the four arrays as gzipped IDX files (as MNIST is
published, so any IDX reader can open them) and ``manifest.json``: format and version, name, title, shape,
class names, counts, the content checksum (``dataset_sha256``), where it came from, when, and the files
skipped. A folder is written whole or not at all: into a hidden temporary folder beside it, renamed into
place when complete, so a failure or a kill mid-save never leaves half a set under a real name, and a
replaced set is swapped, never lost. The manifest is read bounded and checked field by field: the store is a
folder on disk anyone can edit, so what it holds is data to check, like any file a user gives us
(engine/datasets/imported_manifest.py reads it).

Names: letters, digits, spaces and ``. _ -``, at most 64 characters, never a built-in set's name or alias
(the registry's names win in every picker) nor ``toy:...`` (the 2-D toy sets). Lookups ignore case, as the
registry's do, and two sets whose names differ only in case are refused (one folder on macOS or Windows).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from engine.datasets.dataset import Dataset, freeze
from engine.datasets.errors import DatasetError
from engine.datasets.idx import read_idx, write_idx
from engine.datasets.imported_manifest import (
    ARRAY_FILES,
    MANIFEST,
    MAX_STORED_WARNINGS,
    ImportedSet,
    read_manifest,
)
from engine.datasets.registry import SPLIT_ROLES, registry_key
from engine.datasets.storage import IMPORTED_DIR_ENV, imported_dir
from engine.files import process_is_running

MAX_NAME_CHARS = 64
# Gzip level 6 writes a 60,000-image set several times faster than level 9 for files ~2% larger.
_COMPRESS_LEVEL = 6
_NAME_CHARACTER = re.compile(r"[\w .\-]")  # \w: letters and digits of any script, and the underscore
_TEMPORARY = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{8}\.(importing|removing)")

_cache: dict[tuple[str, str, str], Dataset] = {}
_cache_lock = threading.Lock()


# ---------------------------------------------------------------------------------------------- names


def check_imported_name(name) -> str:
    """``name`` without surrounding spaces if it may name an imported set; DatasetError saying why not."""
    if not isinstance(name, str) or not name.strip():
        raise DatasetError("data set name: expected a name (letters, digits, spaces and . _ -); received none")
    name = name.strip()
    if len(name) > MAX_NAME_CHARS:
        raise DatasetError(f"data set name {name[:20]!r}...: expected at most {MAX_NAME_CHARS} characters; "
                           f"received {len(name)}")
    if name.lower().startswith("toy:"):
        raise DatasetError(f"data set name {name!r}: names starting with 'toy:' are the built-in 2-D toy sets; "
                           f"choose another")
    bad = "".join(sorted({character for character in name if not _NAME_CHARACTER.fullmatch(character)}))
    if bad:
        raise DatasetError(f"data set name {name!r}: expected letters, digits, spaces and . _ - only; received "
                           f"{bad!r}")
    if name.startswith(".") or name.endswith("."):
        raise DatasetError(f"data set name {name!r}: may not start or end with a dot")
    built_in = registry_key(name)
    if built_in is not None:
        raise DatasetError(f"data set name {name!r}: is the name of the built-in data set {built_in}; choose another")
    return name


def suggest_imported_name(path) -> str:
    """A free, valid name for what ``path`` holds: its file or folder name, tidied, numbered when taken."""
    path = Path(path)
    stem = path.name
    for suffix in (".gz", ".npz", ".csv", ".idx"):
        stem = stem.removesuffix(suffix).removesuffix(suffix.upper())
    if path.name.lower() in ("train", "training") and path.parent.name:
        stem = path.parent.name  # a data set's train/ folder: the set's own name is a better guess
    stem = "".join(c if _NAME_CHARACTER.fullmatch(c) else "-" for c in stem).strip(" .-")[:MAX_NAME_CHARS - 4]
    stem = stem.strip(" .") or "imported"
    if registry_key(stem) is not None or stem.lower().startswith("toy"):
        stem = f"{stem}-imported"[:MAX_NAME_CHARS - 4]
    taken = {entry.name.casefold() for entry in _folders()}
    candidate, number = stem, 2
    while candidate.casefold() in taken:
        candidate, number = f"{stem} {number}", number + 1
    return candidate


# ---------------------------------------------------------------------------------------------- checksum


def dataset_sha256(dataset: Dataset) -> str:
    """SHA-256 of what a data set is: its example shape, class names and the four arrays' values.

    Defined on values, not files: the same arrays give the same checksum however they were stored or
    compressed, so a project can tell "the same data" on another machine. Images count as uint8 and labels
    as little-endian int64, each array preceded by its role and shape.
    """
    digest = hashlib.sha256()
    header = {"shape": [int(d) for d in dataset.info.shape], "class_names": [str(n) for n in dataset.info.class_names]}
    digest.update(b"layerlab-dataset-sha256-v1\n" + json.dumps(header, sort_keys=True).encode("utf-8"))
    for role in SPLIT_ROLES:
        array = getattr(dataset, role)
        dtype = np.dtype(np.uint8) if role.endswith("images") else np.dtype("<i8")
        digest.update(f"\n{role} {tuple(int(d) for d in array.shape)}\n".encode())
        digest.update(np.ascontiguousarray(array, dtype=dtype).data)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------- saving


def save_imported(dataset: Dataset, name: str, *, title: str | None = None, replace: bool = False) -> ImportedSet:
    """Store ``dataset`` as ``name``; DatasetError when the name is taken (unless ``replace``) or the disk fails.

    Written into a hidden temporary folder, then renamed into place: a failure (or a kill) mid-save leaves
    no folder under ``name`` and keeps the set it would have replaced.
    """
    name = check_imported_name(name)
    root = _store_root()
    if root is None:
        raise DatasetError(f"{name}: cannot store imported data sets: set {IMPORTED_DIR_ENV} to a folder for them "
                           f"(or install platformdirs, which finds the user data folder)")
    existing = _existing_folder(name)
    if existing is not None and not replace:
        raise DatasetError(f"{existing}: a data set named {existing.name!r} is already imported; choose another "
                           f"name or replace it")
    imported_at = datetime.now(UTC).isoformat(timespec="seconds")
    warnings = list(dataset.warnings)
    if len(warnings) > MAX_STORED_WARNINGS:
        warnings = [*warnings[:MAX_STORED_WARNINGS], f"... and {len(warnings) - MAX_STORED_WARNINGS:,} more"]
    entry = ImportedSet(name=name, title=(title or "").strip() or name, shape=tuple(dataset.info.shape),
                        class_names=tuple(dataset.info.class_names), num_train=dataset.num_train,
                        num_test=dataset.num_test, sha256=dataset_sha256(dataset), source=str(dataset.info.source),
                        imported_at=imported_at, warnings=tuple(warnings), notes=tuple(dataset.notes))
    try:
        root.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(root)
        temporary = root / f".{name}.{os.getpid()}.{secrets.token_hex(4)}.importing"
        temporary.mkdir()
    except OSError as exc:
        raise DatasetError(f"{root}: cannot store imported data sets here ({exc.strerror or exc})") from None
    try:
        for role, filename in ARRAY_FILES.items():
            array = getattr(dataset, role)
            write_idx(temporary / filename, array.astype(np.int32) if role.endswith("labels") else array,
                      compresslevel=_COMPRESS_LEVEL)
        text = json.dumps(entry.to_dict(), indent=1, ensure_ascii=False)
        (temporary / MANIFEST).write_text(text + "\n", encoding="utf-8")
        _move_into_place(temporary, root / name, existing)
    except OSError as exc:
        raise DatasetError(f"{root / name}: could not be saved ({exc.strerror or exc}); nothing was changed") from None
    finally:
        shutil.rmtree(temporary, ignore_errors=True)  # gone already when the rename worked
    return entry


def _move_into_place(temporary: Path, final: Path, existing: Path | None) -> None:
    if existing is None:
        os.rename(temporary, final)  # fails (rather than merging) if a folder of that name appeared meanwhile
        return
    old = existing.with_name(f".{existing.name}.{os.getpid()}.{secrets.token_hex(4)}.removing")
    os.rename(existing, old)
    try:
        os.rename(temporary, final)
    except OSError:
        os.rename(old, existing)  # put the old set back: a replace that fails loses nothing
        raise
    _forget(existing.name)
    shutil.rmtree(old, ignore_errors=True)


def delete_imported(name: str) -> None:
    """Remove the imported set ``name`` (its folder goes away at once, by a rename, then is deleted)."""
    folder = _existing_folder(str(name).strip())
    if folder is None:
        raise DatasetError(f"{imported_dir()}: no imported data set named {name!r}")
    doomed = folder.with_name(f".{folder.name}.{os.getpid()}.{secrets.token_hex(4)}.removing")
    try:
        os.rename(folder, doomed)
    except OSError as exc:
        raise DatasetError(f"{folder}: could not be removed ({exc.strerror or exc})") from None
    _forget(folder.name)
    shutil.rmtree(doomed, ignore_errors=True)


def _remove_stale_temporaries(root: Path) -> None:
    """Folders an interrupted save or removal left behind, whose process is gone (never another's in progress)."""
    for entry in _scandir(root):
        match = _TEMPORARY.fullmatch(entry.name)
        if match and int(match["pid"]) != os.getpid() and not process_is_running(int(match["pid"])):
            shutil.rmtree(entry.path, ignore_errors=True)


# ---------------------------------------------------------------------------------------------- reading


def list_imported() -> list[ImportedSet]:
    """Every imported set whose manifest reads, by name; a damaged or foreign folder is skipped, never raised."""
    found = []
    for folder in _folders():
        try:
            found.append(read_manifest(folder))
        except (DatasetError, OSError):
            continue
    return sorted(found, key=lambda entry: entry.name.casefold())


def damaged_imported() -> list[tuple[str, str]]:
    """(folder name, what is wrong) for each folder in the store whose manifest does not read: list_imported
    skips them, and a person still needs to see them and remove them (``delete_imported(name)`` does)."""
    damaged = []
    for folder in _folders():
        try:
            read_manifest(folder)
        except (DatasetError, OSError) as problem:
            damaged.append((folder.name, str(problem)))
    return damaged


def find_imported(name: str) -> ImportedSet | None:
    """The imported set called ``name`` (case ignored), or None when there is none or it is damaged."""
    folder = _existing_folder(str(name).strip())
    if folder is None:
        return None
    try:
        return read_manifest(folder)
    except (DatasetError, OSError):
        return None


def imported_folder(name: str) -> Path | None:
    """The folder of the imported set ``name`` if one exists, readable or not (``load_imported`` says what
    is wrong with a damaged one)."""
    return _existing_folder(str(name).strip())


def load_imported(name: str) -> Dataset:
    """The arrays of the imported set ``name``, read-only, checked against its manifest's checksum (once per
    process). DatasetError naming the set's folder and what is wrong with it otherwise."""
    folder = _existing_folder(str(name).strip())
    if folder is None:
        raise DatasetError(f"{imported_dir()}: no imported data set named {name!r}")
    entry = read_manifest(folder)
    key = (str(folder), entry.sha256, entry.imported_at)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
        arrays = {}
        for role, filename in ARRAY_FILES.items():
            try:
                arrays[role] = freeze(read_idx(folder / filename))
            except DatasetError as exc:
                raise DatasetError(f"{folder}: damaged imported data set: {exc}; import the data again") from None
        try:
            dataset = Dataset(entry.info(), **arrays, warnings=entry.warnings, notes=entry.notes)
        except DatasetError as exc:
            raise DatasetError(f"{folder}: damaged imported data set: the arrays do not match {MANIFEST} "
                               f"({exc}); import the data again") from None
        if (dataset.num_train, dataset.num_test) != (entry.num_train, entry.num_test):
            raise DatasetError(f"{folder}: damaged imported data set: {MANIFEST} records {entry.num_train:,} "
                               f"training and {entry.num_test:,} test examples; the files hold "
                               f"{dataset.num_train:,} and {dataset.num_test:,}; import the data again")
        actual = dataset_sha256(dataset)
        if actual != entry.sha256:
            raise DatasetError(f"{folder}: damaged imported data set: the arrays' SHA-256 is {actual}, "
                               f"{MANIFEST} records {entry.sha256}; the files were changed or damaged, "
                               f"import the data again")
        _cache[key] = dataset
        return dataset


def clear_imported_cache() -> None:
    """Forget the imported sets' arrays (the next load reads and checks the files again)."""
    with _cache_lock:
        _cache.clear()


def _forget(name: str) -> None:
    with _cache_lock:
        for key in [key for key in _cache if Path(key[0]).name == name]:
            del _cache[key]


def _scandir(root: Path) -> list[os.DirEntry]:
    try:
        return list(os.scandir(root))
    except OSError:
        return []


def _folders() -> list[Path]:
    """The store's set folders: visible sub-folders (temporaries and other hidden entries are not sets)."""
    root = _store_root()
    if root is None:
        return []
    return sorted(Path(entry.path) for entry in _scandir(root)
                  if not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False))


def _store_root() -> Path | None:
    """``imported_dir()``, or None where it cannot be known: without platformdirs (a bare GPU box running the
    engine alone) and without the variable, there is no store, and listing the data sets must still work."""
    try:
        return imported_dir()
    except ImportError:
        return None


def _existing_folder(name: str) -> Path | None:
    """The folder of the set called ``name``: exactly, else the one whose name differs only in case."""
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        return None
    folders = _folders()
    exact = [folder for folder in folders if folder.name == name]
    if exact:
        return exact[0]
    return next((folder for folder in folders if folder.name.casefold() == name.casefold()), None)
