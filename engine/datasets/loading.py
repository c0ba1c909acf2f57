"""``load(name)``: a registered data set from the first place that has it, downloading when none does.

How the files become arrays depends on the entry's ``format``: four IDX files (the MNIST family), CIFAR-10's
binary archive (``engine.datasets.cifar``), or no files at all for a set made by code
(``engine.datasets.colour_shapes``). The decoded arrays are kept in memory per process (MNIST decodes in
~0.25 s; the second load is free) and shared read-only among callers.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from engine.datasets.dataset import Dataset, freeze
from engine.datasets.download import DEFAULT_TIMEOUT_S, ProgressCallback, fetch, manual_install_message
from engine.datasets.errors import DatasetError
from engine.datasets.idx import read_idx
from engine.datasets.registry import ARCHIVE_ROLE, REGISTRY, SPLIT_ROLES, DatasetInfo, registry_key
from engine.datasets.storage import bundled_folder, download_folder, find_local_copy, verify_file
from engine.datasets.user_sets import clear_imported_cache, find_imported, imported_folder, list_imported, load_imported

_loaded: dict[tuple[str, ...], Dataset] = {}
# One lock per data set: a second caller of the same set waits, then gets the cached copy, while
# loading MNIST is never held up by a Fashion-MNIST download in another thread.
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass(frozen=True)
class DatasetStatus:
    """One line of ``list_datasets()``: the registry entry and whether it can be loaded without a network."""

    info: DatasetInfo
    available_offline: bool
    location: str | None  # the folder the files would be read from, when available
    kind: str = "download"  # "bundled" | "download" | "generated" | "imported"
    sha256: str | None = None  # an imported set's content checksum (``dataset_sha256``); None for the others

    @property
    def name(self) -> str:
        return self.info.name

    def to_dict(self) -> dict:
        return {**self.info.to_dict(), "available_offline": self.available_offline, "location": self.location,
                "kind": self.kind, "sha256": self.sha256}


def get_info(name: str) -> DatasetInfo:
    """The entry for ``name``: a registry set (case-insensitive, aliases allowed) or else an imported one."""
    key = registry_key(name)
    if key is not None:
        return REGISTRY[key]
    imported = find_imported(name)
    if imported is not None:
        return imported.info()
    folder = imported_folder(name)
    if folder is not None:
        load_imported(name)  # a damaged set: raises, saying what is wrong with its folder
    raise DatasetError(_unknown(name))


def _unknown(name: str) -> str:
    imported = [entry.name for entry in list_imported()]
    mine = f", or an imported set ({', '.join(imported)})" if imported else ""
    return f"unknown dataset {name!r}; expected one of {', '.join(REGISTRY)}{mine}"


def list_datasets() -> list[DatasetStatus]:
    """Every registered data set with its shape, classes and offline availability (checks files exist only),
    then every imported one (a damaged imported set is left out)."""
    statuses = []
    for info in REGISTRY.values():
        if info.format == "generated":
            statuses.append(DatasetStatus(info, True, None, kind="generated"))
            continue
        paths = find_local_copy(info)
        location = str(next(iter(paths.values())).parent) if paths else None
        kind = "bundled" if info.bundled else "download"
        statuses.append(DatasetStatus(info, paths is not None, location, kind=kind))
    for entry in list_imported():
        statuses.append(DatasetStatus(entry.info(), True, str(entry.folder), kind="imported", sha256=entry.sha256))
    return statuses


def load(name: str, *, download: bool = True, progress: ProgressCallback | None = None,
         timeout: float = DEFAULT_TIMEOUT_S) -> Dataset:
    """The named data set's train and test arrays (uint8 N x C x H x W images, int64 labels, read-only).

    "mnist" is bundled and never needs the network; "colour-shapes" is made by code. Other registry sets are
    read from the download folder or a system copy, and downloaded there (with ``progress(done_bytes,
    total_bytes)``) when missing and ``download`` is true. Raises ``DatasetError`` saying where to put the
    files by hand when offline. A name that is no registry set's is looked up among the imported sets
    (checked against their checksum once per process).
    """
    key = registry_key(name)
    if key is None:
        if imported_folder(name) is not None:
            return load_imported(name)
        raise DatasetError(_unknown(name))
    info = REGISTRY[key]
    with _locks_guard:
        lock = _locks.setdefault(info.name, threading.Lock())
    with lock:
        if info.format == "generated":
            if (info.name,) not in _loaded:
                _loaded[(info.name,)] = generated_dataset(info)
            return _loaded[(info.name,)]
        paths = find_local_copy(info)
        fetched = False
        if paths is None:
            if not download:
                raise DatasetError(f"{info.name} is not available offline (download=False).\n"
                                   + manual_install_message(info, download_folder(info), []))
            paths = fetch(info, progress=progress, timeout=timeout)
            fetched = True
        key = (info.name, *(str(paths[data_file.role]) for data_file in info.files))
        if key not in _loaded:
            # Bundled files are checked by the test suite; downloads were verified by fetch.
            trusted = fetched or _is_bundled(info, paths)
            if not trusted:
                for data_file in info.files:
                    verify_file(paths[data_file.role], data_file)
            _loaded[key] = _dataset_from_files(info, paths)
        return _loaded[key]


def clear_cache() -> None:
    """Forget the decoded arrays (the next ``load`` reads the files again)."""
    with _locks_guard:
        _loaded.clear()
    clear_imported_cache()


def _dataset_from_files(info: DatasetInfo, paths: dict[str, Path]) -> Dataset:
    if info.format == "idx":
        return dataset_from_idx_files(info, paths)
    if info.format == "cifar10-binary":
        # Imported here: the reader is only needed for CIFAR-10 (and its module came later than this one).
        from engine.datasets.cifar import read_cifar10_archive

        return _checked(info, read_cifar10_archive(paths[ARCHIVE_ROLE]), paths[ARCHIVE_ROLE].parent)
    raise DatasetError(f"{info.name}: unknown data set format {info.format!r}")


def generated_dataset(info: DatasetInfo) -> Dataset:
    """A set made by code, from no files (the only one: the colour shapes)."""
    if info.name != "colour-shapes":
        raise DatasetError(f"{info.name}: no generator is known for this data set")
    from engine.datasets.colour_shapes import make_colour_shapes

    return _checked(info, make_colour_shapes(), None)


def _checked(info: DatasetInfo, arrays, folder: Path | None) -> Dataset:
    """A Dataset of a reader's (train_images, train_labels, test_images, test_labels), read-only."""
    try:
        return Dataset(info, *(freeze(array) for array in arrays))
    except DatasetError as exc:
        raise DatasetError(f"{folder}: {exc}" if folder else str(exc)) from None


def dataset_from_idx_files(info: DatasetInfo, paths: dict[str, Path]) -> Dataset:
    """Read the four IDX files (role -> path) and check them against ``info``."""
    arrays = {role: freeze(read_idx(paths[role])) for role in SPLIT_ROLES}
    try:
        return Dataset(info, **arrays)
    except DatasetError as exc:
        folder = paths["train_images"].parent
        raise DatasetError(f"{folder}: {exc}") from None


def _is_bundled(info: DatasetInfo, paths: dict[str, Path]) -> bool:
    folder = bundled_folder(info)
    return folder is not None and all(path.parent == folder for path in paths.values())
