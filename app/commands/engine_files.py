"""What the engine-only commands share: the engine, a model file and a data set, each failure a CommandError.

The engine is imported inside these functions, not at the top, so `layerlab --help` and `--version`
start without NumPy. Nothing here imports Qt.

    engine = import_engine()
    checkpoint = load_model("mnist.llmodel")          # network + metadata
    info = dataset_info("mnist")                      # the registry entry: shape, class names
    dataset = load_dataset("mnist", download=True)
"""

from __future__ import annotations

import argparse
import math
import sys

from app.commands.command_error import CommandError


def import_engine():
    """The engine module; a backend that cannot start (LAYERLAB_BACKEND=cupy without a GPU) becomes a message."""
    try:
        import engine
    except RuntimeError as error:  # engine.backend.BackendError, raised while engine is being imported
        raise CommandError(str(error)) from None
    return engine


def load_model(path: str):
    """The ``engine.Checkpoint`` in ``path``; a missing, damaged or foreign file is refused naming the file."""
    engine = import_engine()
    try:
        return engine.load_checkpoint(path)
    except engine.UserFileError as error:  # ModelFileError, or a file the engine refused before reading it
        raise CommandError(str(error)) from None


def dataset_info(name: str):
    """The registry entry (``engine.datasets.DatasetInfo``) for ``name``; an unknown name lists the known ones."""
    datasets = import_engine().datasets
    try:
        return datasets.get_info(name)
    except datasets.DatasetError as error:
        raise CommandError(str(error)) from None


def load_dataset(name: str, download: bool = True):
    """The registered data set ``name`` (``engine.datasets.Dataset``), downloading it when allowed and missing."""
    datasets = import_engine().datasets
    info = dataset_info(name)
    status = next(status for status in datasets.list_datasets() if status.name == info.name)
    if not status.available_offline:
        megabytes = sum(data_file.size for data_file in info.files) / 1e6
        if not download:
            raise CommandError(f"dataset {info.name} is not on this machine and --no-download forbids fetching "
                               f"it ({megabytes:.0f} MB); run without --no-download, or see "
                               f"`layerlab datasets` and docs/datasets.md")
        print(f"downloading {info.title} ({megabytes:.0f} MB)...", file=sys.stderr, flush=True)
    try:
        return datasets.load(info.name)
    except datasets.DatasetError as error:
        raise CommandError(str(error)) from None


# The most any count on the command line may be (steps, batch sizes, top-k): what a 32-bit counter holds.
MAX_WHOLE_NUMBER = 2**31 - 1


def whole_number(low: int, high: int):
    """An argparse type: a whole number from ``low`` to ``high``; its message gives the range."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:  # not a number, or one of thousands of digits (Python refuses to convert those)
            value = None
        if value is None or not low <= value <= high:
            shown = text if len(text) <= 40 else f"{text[:20]}… ({len(text):,} characters)"
            raise argparse.ArgumentTypeError(f"expected a whole number from {low:,} to {high:,}; received {shown!r}")
        return value

    parse.__name__ = "whole number"  # argparse names the type by it in other messages
    return parse


positive_int = whole_number(1, MAX_WHOLE_NUMBER)  # an argparse type: a whole number >= 1 (a 32-bit count)


def positive_float(text: str) -> float:
    """An argparse type: a number > 0."""
    return _number(text, lambda value: value > 0, "> 0")


def non_negative_float(text: str) -> float:
    """An argparse type: a number >= 0."""
    return _number(text, lambda value: value >= 0, ">= 0")


def _number(text: str, acceptable, bound: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and acceptable(value)):
        raise argparse.ArgumentTypeError(f"expected a number {bound}; received {text!r}")
    return value


def shape_text(shape) -> str:
    """(1, 28, 28) -> "1x28x28", as the engine writes shapes in its messages."""
    return "x".join(str(size) for size in shape)


def finite_or_null(value):
    """``value`` with NaN and infinities (a diverged model's loss) replaced by None: JSON has neither."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: finite_or_null(item) for key, item in value.items()}
    if isinstance(value, list):
        return [finite_or_null(item) for item in value]
    return value
