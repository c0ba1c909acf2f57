"""What ``--dataset`` names for ``train`` and ``evaluate``: a data set by name, or a file or folder imported on the fly.

    choice = choose_dataset("mnist")             # a registry set: nothing is read yet
    choice = choose_dataset("my digits")         # an imported set (``layerlab datasets import``)
    choice = choose_dataset("~/photos/pets")     # a PATH: imported now, with progress on stderr, not stored
    dataset = load_choice(choice)                # the arrays (a registry set may be downloaded here)

A text is a PATH when it looks like one (it holds a path separator or starts with "." or "~"), or when no
data set has that name and a file or folder of that name exists; a known name wins otherwise, so a
folder called ``mnist`` in the working folder never hides MNIST (write ``./mnist`` for the folder).
Every failure is a CommandError in the importer's words, naming the file. Nothing here imports Qt.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from app.commands.command_error import CommandError
from app.commands.engine_files import import_engine, load_dataset
from app.formatting import counted

PROGRESS_EVERY_S = 0.5  # how often an import's progress line is rewritten on stderr


@dataclass
class DatasetChoice:
    """A data set chosen on the command line: its entry, and for imports its arrays and checksum."""

    name: str  # what a model file records: the registry or imported name, or the absolute path imported
    info: object  # engine.datasets.DatasetInfo
    kind: str  # "bundled" | "download" | "generated" | "imported" | "path"
    sha256: str | None = None  # imported sets and paths: engine.datasets.dataset_sha256
    dataset: object | None = None  # a PATH's arrays, imported already


def looks_like_path(text: str) -> bool:
    return any(separator in text for separator in ("/", os.sep)) or text.startswith((".", "~"))


def choose_dataset(text: str, *, flag: str = "--dataset") -> DatasetChoice:
    """The data set ``text`` names (see the module's docstring); a PATH is imported here."""
    datasets = import_engine().datasets
    if not isinstance(text, str) or not text.strip():
        raise CommandError(f"{flag}: expected a data set name or a path; received {text!r:.60}", 2)
    if not looks_like_path(text):
        try:
            info = datasets.get_info(text)
        except datasets.DatasetError as error:
            if not Path(text).exists():
                raise CommandError(f"{error}, or the path of a folder or file to import") from None
        else:
            status = next((s for s in datasets.list_datasets() if s.name == info.name), None)
            kind = status.kind if status is not None else "download"
            return DatasetChoice(info.name, info, kind, status.sha256 if status is not None else None)
    return import_on_the_fly(Path(text).expanduser(), flag=flag)


def import_on_the_fly(path: Path, *, flag: str = "--dataset") -> DatasetChoice:
    """Import ``path`` for this run only (nothing is stored), printing progress and a summary to stderr."""
    datasets = import_engine().datasets
    if not path.exists():
        raise CommandError(f"{flag} {path}: no such file or folder, and no data set of that name "
                           f"(see `layerlab datasets`)", 2 if flag.startswith("--") else 1)
    dataset = run_import(path)
    print_summary(dataset, stream=sys.stderr)
    absolute = str(path.resolve())
    return DatasetChoice(absolute, dataset.info, "path", datasets.dataset_sha256(dataset), dataset)


def run_import(path: Path, **options):
    """``engine.datasets.import_path`` with a progress line on stderr; a DatasetError becomes a CommandError."""
    datasets = import_engine().datasets
    progress = ProgressLine(f"importing {path}")
    try:
        dataset = datasets.import_path(path, progress=progress, **options)
    except datasets.DatasetError as error:
        raise CommandError(str(error)) from None
    finally:
        progress.finish()
    return dataset


def load_choice(choice: DatasetChoice, *, download: bool = True):
    """The arrays of ``choice``; a PATH's were read when it was chosen."""
    if choice.dataset is not None:
        return choice.dataset
    return load_dataset(choice.name, download=download)


def print_summary(dataset, *, stream) -> None:
    """Classes and counts, the notes, and every skipped file (as ``layerlab datasets import`` prints them)."""
    info = dataset.info
    counts = {name: 0 for name in info.class_names}
    for labels in (dataset.train_labels, dataset.test_labels):
        for index, count in zip(*_unique_counts(labels), strict=True):
            counts[info.class_names[index]] += count
    shape = "x".join(str(size) for size in info.shape)
    classes = f"{info.num_classes:,} class{'es' * (info.num_classes != 1)}"
    print(f"{classes}, {dataset.num_train:,} training and {dataset.num_test:,} "
          f"test images of {shape} (channels x height x width)", file=stream)
    shown = ", ".join(f"{name} {count:,}" for name, count in list(counts.items())[:20])
    more = f" and {len(counts) - 20:,} more" if len(counts) > 20 else ""
    print(f"  per class: {shown}{more}", file=stream)
    for note in dataset.notes:
        print(f"  {note}", file=stream)
    if dataset.warnings:
        print(f"  skipped {counted(len(dataset.warnings), 'file')}:", file=stream)
        for warning in dataset.warnings:
            print(f"    {warning}", file=stream)


def _unique_counts(labels):
    import numpy as np

    values, counts = np.unique(labels, return_counts=True)
    return values.tolist(), counts.tolist()


class ProgressLine:
    """``progress(done, total)`` for an import: one line on stderr, rewritten at most twice a second."""

    def __init__(self, label: str, stream=None):
        self.label = label
        self.stream = stream or sys.stderr
        self.shown_at = 0.0
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.shown_at < PROGRESS_EVERY_S and done < total:
            return
        self.shown_at = now
        percent = f"{100 * done / total:.0f}%" if total else ""
        self.stream.write(f"\r{self.label}: {percent}")
        self.stream.flush()
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
