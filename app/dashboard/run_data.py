"""The data a dashboard run trains and evaluates on: a registered image set or a generated 2-D toy set.

    choices = dataset_choices()                     # [DatasetChoice("mnist", "MNIST (offline)", ...), ...]
    data = load_run_data("toy:spiral", validation=0.1, seed=0, train_limit=None)
    data.training                                    # engine.training.TrainingData
    data.test_images, data.test_labels, data.class_names, data.is_toy

Runs on a background thread (``load`` may download, with ``progress(done, total)``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import engine
from app.run_state import RunData

TOY_PREFIX = "toy:"
TOY_POINTS = 600  # as many as TensorFlow Playground shows: enough for a boundary, fast to train
TOY_NOISE = 0.1
TOY_TEST_FRACTION = 0.25


@dataclass(frozen=True)
class DatasetChoice:
    key: str  # "mnist", "toy:spiral" or an imported set's name
    label: str
    available_offline: bool
    sha256: str | None = None  # an imported set's checksum, which a project records beside its name


def toy_title(name: str) -> str:
    if name in engine.datasets.REGRESSION_TOY_DATASETS:  # one value in, one value out: a curve to fit
        return f"{name} (1-D regression toy)"
    return f"{name} (2-D toy)"


def imported_title(status) -> str:
    """"my-digits (imported, 1x28x28, 10 classes)": what an imported set is, beside the built-in ones."""
    info = status.info
    classes = f"{info.num_classes} class{'es' * (info.num_classes != 1)}"
    return f"{info.name} (imported, {'x'.join(str(d) for d in info.shape)}, {classes})"


def dataset_choices() -> list[DatasetChoice]:
    """Registered sets (saying which need a download), then the imported ones, then the toy sets.

    Read afresh at each call: the Data set menu calls it again after an import or a removal.
    """
    choices, imported = [], []
    for status in engine.datasets.list_datasets():
        if getattr(status, "kind", None) == "imported":
            imported.append(DatasetChoice(status.name, imported_title(status), True, status.sha256))
            continue
        where = "" if status.available_offline else " (download)"
        choices.append(DatasetChoice(status.name, status.info.title + where, status.available_offline))
    choices += imported
    for name in engine.datasets.TOY_DATASETS:
        choices.append(DatasetChoice(TOY_PREFIX + name, toy_title(name), True))
    return choices


def imported_checksum(dataset: str) -> str | None:
    """The checksum of the imported set called ``dataset``; None for a registered, generated or toy set."""
    if dataset.startswith(TOY_PREFIX):
        return None
    try:
        imported = engine.datasets.find_imported(dataset)
    except engine.datasets.DatasetError:  # a name no imported set can have ("toy:spiral")
        return None
    return imported.sha256 if imported is not None else None


def with_dataset_checksum(training: dict) -> dict:
    """A project's training settings with "dataset_sha256" beside an imported set's name where it was missing
    (a set chosen before the form could record it, e.g. the one trained on last session)."""
    dataset = training.get("dataset")
    if not isinstance(dataset, str) or "dataset_sha256" in training:
        return training
    checksum = imported_checksum(dataset)
    return {**training, "dataset_sha256": checksum} if checksum else training


@dataclass(frozen=True)
class DatasetShape:
    """What a network must read and write to train on a data set, known without loading it."""

    title: str
    example_shape: tuple[int, ...]
    num_classes: int  # 0 for a set whose labels are values (toy:sine)
    target_width: int | None = None  # how many values each label holds, for such a set; None for classes


# Asked at every edit of the design, so answers are kept. A registered or toy set's never changes; an imported
# set's changes when it is removed or replaced (the Data set menu calls clear_dataset_shapes then), and a name
# not known now is asked again next time: the set may have been imported since, by the app or the CLI.
_known_shapes: dict[str, DatasetShape] = {}


def clear_dataset_shapes() -> None:
    _known_shapes.clear()


def dataset_shape(key: str | None) -> DatasetShape | None:
    """The shape of ``key``'s examples and its class count; None for a key this LayerLab does not know."""
    if isinstance(key, str) and key in _known_shapes:
        return _known_shapes[key]
    shape = _shape_of(key)
    if shape is not None:
        _known_shapes[key] = shape
    return shape


def _shape_of(key) -> DatasetShape | None:
    if not isinstance(key, str):
        return None
    if key.startswith(TOY_PREFIX):
        name = key[len(TOY_PREFIX):]
        if name not in engine.datasets.TOY_DATASETS:
            return None
        toy = engine.datasets.make_toy(name, n=TOY_POINTS, seed=0)  # ~0.1 ms: the only way to count its classes
        return DatasetShape(toy_title(name), tuple(toy.points.shape[1:]), toy.num_classes, toy.target_width)
    try:
        info = engine.datasets.get_info(key)
    except engine.datasets.DatasetError:
        return None
    return DatasetShape(info.title, tuple(info.shape), info.num_classes)


def data_problem(report: engine.ShapeReport, key: str | None) -> engine.DataFitProblem | None:
    """The mismatch between the design and the data set ``key`` (unknown data set included), or None.

    The engine's check follows the design's task, which the report carries: a classifier's output against the
    classes, an autoencoder's against nothing more than its input, another loss's against the labels' width."""
    shape = dataset_shape(key)
    if shape is None:
        return engine.DataFitProblem(None, f"the data set {key!r} is not one this LayerLab knows; choose another")
    return engine.data_fit_problem(report, shape.example_shape, shape.num_classes, shape.title,
                                   target_width=shape.target_width)


def load_run_data(key: str, *, validation: float, seed: int, train_limit: int | None = None,
                  progress=None) -> RunData:
    """Load (or generate) and split the data; ``train_limit`` keeps only the first N training examples."""
    if key.startswith(TOY_PREFIX):
        return _toy_data(key[len(TOY_PREFIX):], validation, seed)
    dataset = engine.datasets.load(key, progress=progress)
    splits = engine.datasets.prepare(dataset, validation=validation, seed=seed)
    train_x, train_y = splits.train_images, splits.train_labels
    if train_limit:
        train_x, train_y = train_x[:train_limit], train_y[:train_limit]
    val_x, val_y = splits.val_images, splits.val_labels
    if train_limit and val_y is not None:  # a quick run on a subset should not validate on thousands
        keep = max(1, train_limit // 4)
        val_x, val_y = val_x[:keep], val_y[:keep]
    has_val = val_y is not None and len(val_y) > 0
    training = engine.training.TrainingData(train_x, train_y, val_x if has_val else None,
                                            val_y if has_val else None, key)
    return RunData(key, training, splits.test_images, splits.test_labels, tuple(dataset.info.class_names), False)


def _toy_data(name: str, validation: float, seed: int) -> RunData:
    toy = engine.datasets.make_toy(name, n=TOY_POINTS, noise=TOY_NOISE, seed=seed)
    points, labels = toy.points.astype(np.float32), toy.labels  # already shuffled
    num_test = int(len(labels) * TOY_TEST_FRACTION)
    num_val = int((len(labels) - num_test) * validation)
    rest = len(labels) - num_test
    train = slice(0, rest - num_val)
    val = slice(rest - num_val, rest)
    training = engine.training.TrainingData(points[train], labels[train], points[val] if num_val else None,
                            labels[val] if num_val else None, TOY_PREFIX + name)
    return RunData(TOY_PREFIX + name, training, points[rest:], labels[rest:], toy.class_names, True)
