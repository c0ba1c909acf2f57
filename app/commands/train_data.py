"""What ``layerlab train`` trains and tests on: the data set a run names, checked against the network, then split.

Apart from the command itself (train.py) because it is the one part that knows the kinds of data set: a
registered or imported one (by name or PATH, with an imported set's checksum compared to the project's),
and the app's generated toy sets, made by the dashboard's own loader so a seed gives the same points, split
and validation as the training panel. The network's fit to the data (engine.data_fit_problem) is checked
before anything large is loaded.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from app.commands.command_error import CommandError
from app.commands.dataset_choice import DatasetChoice, choose_dataset, load_choice
from app.commands.engine_files import import_engine
from app.commands.train_settings import TrainSettings

TOY_VALIDATION = 0.1  # of a toy set's training points, as the app's training panel holds back by default


@dataclass
class LoadedData:
    """What a run trains and is tested on."""

    name: str
    training: object  # engine.training.TrainingData
    test_images: object
    test_labels: object
    sha256: str | None = None  # an imported set's (or an imported PATH's) content checksum


def load_data(engine, settings: TrainSettings, seed: int, spec_path: str, report) -> LoadedData:
    """The data set the settings name, split, once the network is known to fit it (engine.data_fit_problem)."""
    name = settings.dataset
    from app.dashboard import run_data  # the app's own data sets (NumPy and engine only)

    if name.startswith(run_data.TOY_PREFIX):  # made in a moment, so made first and then checked
        data, problem = _toy_data(engine, settings, name, seed, report)
    else:
        check_project_dataset(settings)
        try:
            choice = choose_dataset(name)
        except CommandError as error:
            raise settings.error("dataset", str(error), 1) from None
        warn_if_checksum_differs(settings, choice)
        info = choice.info
        data, problem = None, engine.data_fit_problem(report, info.shape, info.num_classes, info.title)
    if problem:
        raise CommandError(f"{spec_path}: {problem}")
    return data or registered_data(engine, choice, settings.validation,
                                    lambda message: settings.error("validation", message))


def registered_data(engine, choice: DatasetChoice, validation, refuse) -> LoadedData:
    dataset = load_choice(choice)
    try:
        splits = engine.datasets.prepare(dataset, validation=validation)
    except engine.datasets.DatasetError as error:
        raise refuse(str(error)) from None
    return LoadedData(choice.name, engine.training.TrainingData.from_splits(splits), splits.test_images,
                      splits.test_labels, choice.sha256)


def check_project_dataset(settings: TrainSettings) -> None:
    """A project that names an imported set by checksum, on a machine without it: say which and how to import."""
    sha256 = settings.dataset_sha256
    if sha256 is None:
        return
    datasets = import_engine().datasets
    name = settings.dataset
    if datasets.registry.registry_key(name) is None and datasets.find_imported(name) is None:
        raise settings.error("dataset", f"the project's data set {name!r} (SHA-256 {sha256[:12]}...) is not "
                                        f"imported on this machine; import it with `layerlab datasets import PATH "
                                        f"--name '{name}'`, or choose another with --dataset", 1)


def warn_if_checksum_differs(settings: TrainSettings, choice: DatasetChoice) -> None:
    expected = settings.dataset_sha256
    if expected is not None and choice.sha256 is not None and choice.sha256 != expected:
        print(f"warning: {settings.project_path}: the project was saved with data set {choice.name!r} of SHA-256 "
              f"{expected[:12]}...; the one on this machine is {choice.sha256[:12]}...: it holds different data",
              file=sys.stderr)


def _toy_data(engine, settings: TrainSettings, name: str, seed: int, report):
    """(data, problem): a generated 2-D set made by the app's own loader (the same points, split and
    validation for a seed), and the app's own words if the network does not fit it."""
    validation = settings.validation
    if validation is None:
        validation = TOY_VALIDATION
    elif validation >= 1:
        raise settings.error("validation", f"validation for a toy data set is a fraction such as 0.1; received "
                                           f"{validation}")
    from app.dashboard import run_data

    try:
        data = run_data.load_run_data(name, validation=float(validation), seed=seed)
    except engine.datasets.DatasetError as error:
        raise settings.error("dataset", str(error), 1) from None
    loaded = LoadedData(data.name, data.training, data.test_images, data.test_labels)
    return loaded, run_data.data_problem(report, name)
