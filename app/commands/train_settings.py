"""What ``layerlab train`` trains with, and where each setting came from.

A flag given on the command line wins; a flag not given takes the project's value (a ``.layerlab``
project's "training" object: TrainingConfig's names plus "dataset", as the app saves them), and then the
command's own default. Keys the command does not know are ignored, as the app ignores them.

    settings = resolve(args, project, engine)   # project: app.document.project_file.Project or None
    config = engine.training.TrainingConfig(**settings.config_arguments())
    settings.summary(config, optimizer)   # "settings from seed.layerlab: dataset mnist, adam lr=0.0001,
                                          #  batch 50, 10 epochs, seed 0; from the command line: at most 5 steps"

A bad value from the project is the project's error (exit 1, naming the file); a bad flag is a usage
error (exit 2). Nothing here imports Qt.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from pathlib import Path

from app.commands.command_error import CommandError
from app.formatting import counted

FLAG = "the command line"
DEFAULT = "default"
DEFAULT_DATASET = "mnist"
DEFAULT_OPTIMIZER = "adam"
DEFAULT_EPOCHS = 10

# Upper bounds of the counts a run takes, from a flag or a project: far beyond any real run, and far below
# what overflows a counter (epochs of 2**31 once ended in an OverflowError).
MAX_EPOCHS = 1_000_000
MAX_BATCH_SIZE = 1_000_000
MAX_STEPS = 2**31 - 1
MAX_SEED = 2**63 - 1
COUNT_LIMITS = {"epochs": (1, MAX_EPOCHS), "batch_size": (1, MAX_BATCH_SIZE), "max_steps": (1, MAX_STEPS),
                "early_stopping_patience": (1, MAX_EPOCHS), "eval_batch_size": (1, MAX_BATCH_SIZE),
                "seed": (0, MAX_SEED)}

# TrainingConfig's settings the command takes, with the flag that sets each (the argparse attribute).
CONFIG_FLAGS = {"epochs": "epochs", "batch_size": "batch_size", "seed": "seed", "l2": "l2", "clipnorm": "clipnorm",
                "max_steps": "max_steps", "early_stopping_patience": "patience", "augment": "augment",
                "input_noise": "input_noise", "eval_batch_size": None}
# The order of the summary; the first six are always shown, the rest only when a flag or the project sets them.
ALWAYS_SHOWN = ("dataset", "optimizer", "lr", "batch_size", "epochs", "seed")
SHOWN_WHEN_SET = ("validation", "l2", "clipnorm", "early_stopping_patience", "augment", "input_noise", "max_steps",
                  "eval_batch_size")


def count_or_fraction(text: str) -> int | float:
    """An argparse type for --validation: a whole number of examples, or a fraction such as 0.1."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0 and (value < 1 or value == int(value))):
        raise argparse.ArgumentTypeError(f"expected a number of examples (5000) or a fraction (0.1); "
                                         f"received {text!r}")
    return int(value) if value >= 1 or value == 0 else value


@dataclass
class TrainSettings:
    """The settings a run takes from the flags and the project, and where each came from."""

    project_path: Path | None = None
    values: dict = field(default_factory=dict)  # only what a flag or the project gave
    sources: dict = field(default_factory=dict)  # setting -> FLAG or the project file's name

    def take(self, name: str, flag_value, project: dict, project_key: str | None = None):
        """The flag's value if given, else the project's (if it has one); remembers which."""
        project_key = project_key or name
        if flag_value is not None:
            self.values[name], self.sources[name] = flag_value, FLAG
        elif project_key in project:
            self.values[name], self.sources[name] = project[project_key], self.project_name

    @property
    def project_name(self) -> str:
        return self.project_path.name if self.project_path else ""

    @property
    def dataset(self) -> str:
        return self.values.get("dataset", DEFAULT_DATASET)

    @property
    def dataset_sha256(self) -> str | None:
        """The project's checksum of its imported data set, when the data set is the project's (not a flag's)."""
        return self.values.get("dataset_sha256") if self.from_project("dataset") else None

    @property
    def validation(self) -> int | float | None:
        return self.values.get("validation")

    def from_project(self, name: str) -> bool:
        return self.project_path is not None and self.sources.get(name) == self.project_name

    def error(self, name: str, message: str, exit_code: int = 2) -> CommandError:
        """A problem with setting ``name``: the project's (naming the file, exit 1) when it came from there."""
        if self.from_project(name):
            return CommandError(f"{self.project_path}: training settings: {message}", 1)
        return CommandError(message, exit_code)

    def config_arguments(self) -> dict:
        """Keywords for engine.training.TrainingConfig (the rest take its defaults)."""
        arguments = {name: self.values[name] for name in CONFIG_FLAGS if name in self.values}
        arguments.setdefault("epochs", DEFAULT_EPOCHS)
        arguments["optimizer"] = self.values.get("optimizer", {"name": DEFAULT_OPTIMIZER})
        arguments["snapshot_every_steps"] = None  # no live views to feed
        return arguments

    def summary(self, config, optimizer_config: dict) -> str:
        """One line: each setting, grouped by where it came from (the project, the command line, defaults)."""
        shown = {
            "dataset": f"dataset {self.dataset}",
            "optimizer": self._optimizer_text(),
            "lr": f"lr={_number_or_schedule(optimizer_config.get('lr'))}",
            "batch_size": f"batch {config.batch_size}",
            "epochs": counted(config.epochs, "epoch"),
            "seed": f"seed {config.seed}",
            "validation": f"validation {self.validation}",
            "l2": f"l2 {config.l2:g}",
            "clipnorm": f"clipnorm {config.clipnorm}",
            "early_stopping_patience": f"patience {config.early_stopping_patience}",
            "augment": "augmented" if config.augment else "not augmented",
            "input_noise": f"input noise {config.input_noise:g}" if config.input_noise else "no input noise",
            "max_steps": f"at most {counted(config.max_steps, 'step')}" if config.max_steps else "",  # shown if set
            "eval_batch_size": f"evaluation batch {config.eval_batch_size}",
        }
        groups: dict[str, list[str]] = {}
        for name in ALWAYS_SHOWN + SHOWN_WHEN_SET:
            source = self.sources.get(name, DEFAULT)
            if name in SHOWN_WHEN_SET and source == DEFAULT:
                continue
            items = groups.setdefault(source, [])
            if name == "lr" and items and items[-1] == shown["optimizer"]:
                items[-1] += " " + shown[name]  # "adam lr=0.001"
            else:
                items.append(shown[name])
        order = [source for source in (self.project_name, FLAG, DEFAULT) if source in groups]
        labels = {DEFAULT: "by default", FLAG: f"from {FLAG}", self.project_name: f"from {self.project_name}"}
        return "settings " + "; ".join(f"{labels[source]}: {', '.join(groups[source])}" for source in order)

    def _optimizer_text(self) -> str:
        optimizer = self.values.get("optimizer", {"name": DEFAULT_OPTIMIZER})
        extras = [f"{key}={value}" for key, value in optimizer.items() if key not in ("name", "lr", "learning_rate")]
        return optimizer["name"].lower() + (f" ({', '.join(extras)})" if extras else "")


def resolve(args, project, engine) -> TrainSettings:
    """The settings for ``args`` and ``project`` (None for a bare network spec); project values checked."""
    training = project.training if project is not None else {}
    settings = TrainSettings(project.path if project is not None else None)
    settings.take("dataset", args.dataset, training)
    sha256 = training.get("dataset_sha256")
    if settings.from_project("dataset") and sha256 is not None:
        if not (isinstance(sha256, str) and len(sha256) == 64 and all(c in "0123456789abcdef" for c in sha256)):
            raise settings.error("dataset", f"dataset_sha256 must be 64 hexadecimal digits; received {sha256!r:.80}")
        settings.values["dataset_sha256"] = sha256
    settings.take("validation", args.validation, training)
    for name, flag in CONFIG_FLAGS.items():
        settings.take(name, getattr(args, flag) if flag else None, training)
    _take_optimizer(settings, args, training)
    _check_project_values(settings, engine)
    return settings


def _take_optimizer(settings: TrainSettings, args, training: dict) -> None:
    """The optimizer and its learning rate (or schedule).

    The project's optimizer settings, learning rate included, go with its optimizer: ``--optimizer`` naming
    another one starts from that one's defaults. ``--lr`` sets a constant learning rate and ``--schedule`` a
    schedule (starting at ``--lr`` or the optimizer's learning rate when it names no start), either one
    replacing the project's learning rate or schedule.
    """
    project_optimizer = training.get("optimizer")
    if isinstance(project_optimizer, str):
        project_optimizer = {"name": project_optimizer}
    project_name = project_optimizer.get("name") if isinstance(project_optimizer, dict) else None
    same = args.optimizer is not None and isinstance(project_name, str) and \
        project_name.lower() == args.optimizer.lower()
    lr_source = None
    if args.optimizer is not None and not same:
        optimizer, source = {"name": args.optimizer}, FLAG
    elif project_optimizer is not None:
        if not isinstance(project_name, str):
            raise CommandError(f"{settings.project_path}: training settings: optimizer must be a name or an object "
                               f'like {{"name": "adam", "lr": 0.001}}; received {project_optimizer!r:.60}', 1)
        optimizer = dict(project_optimizer)
        if "learning_rate" in optimizer and "lr" not in optimizer:  # Keras's name, as engine.optimizers takes it
            optimizer["lr"] = optimizer.pop("learning_rate")
        source = FLAG if same else settings.project_name
        lr_source = settings.project_name if "lr" in optimizer else None
    else:
        optimizer, source = {"name": DEFAULT_OPTIMIZER}, DEFAULT
    project_schedule = training.get("schedule") if source != FLAG or same else None
    if args.schedule:
        import engine  # here: `layerlab --help` starts without NumPy

        try:
            schedule = engine.user_files.parse_json(args.schedule)
        except engine.user_files.JsonError as error:  # also a nesting or a number no schedule has
            raise CommandError(f"--schedule {error}", 2) from None
        start = args.lr or optimizer.get("lr")
        if isinstance(schedule, dict) and "initial_learning_rate" not in schedule and _is_number(start):
            schedule["initial_learning_rate"] = start
        optimizer["lr"], lr_source = schedule, FLAG
    elif args.lr:
        optimizer["lr"], lr_source = args.lr, FLAG
    elif project_schedule is not None:
        start = optimizer.get("lr")
        if isinstance(project_schedule, dict) and "initial_learning_rate" not in project_schedule \
                and _is_number(start):
            project_schedule = {**project_schedule, "initial_learning_rate": start}
        optimizer["lr"], lr_source = project_schedule, settings.project_name
    settings.values["optimizer"] = optimizer
    if source != DEFAULT:
        settings.sources["optimizer"] = source
    if lr_source:
        settings.sources["lr"] = lr_source


def _check_project_values(settings: TrainSettings, engine) -> None:
    """The values a run takes from the project, checked as TrainingConfig checks them, naming the file."""
    if settings.project_path is None:
        return
    taken = {name: value for name, value in settings.values.items()
             if name in CONFIG_FLAGS and settings.from_project(name)}
    for name, value in taken.items():
        problem = count_problem(name, value)
        if problem:
            raise CommandError(f"{settings.project_path}: training settings: {problem}", 1)
    try:
        engine.training.TrainingConfig(**taken)
    except ValueError as error:
        raise CommandError(f"{settings.project_path}: training settings: {error}", 1) from None
    validation = settings.values.get("validation")
    if settings.from_project("validation"):
        if not _is_count_or_fraction(validation):
            raise settings.error("validation", f"validation must be a number of examples or a fraction such as "
                                               f"0.1; received {validation!r:.60}")
        if validation >= 1 or validation == 0:
            settings.values["validation"] = int(validation)  # 5000.0 from JSON is a count
    lr = settings.values["optimizer"].get("lr")
    if settings.from_project("lr") and not (isinstance(lr, dict) or _is_number(lr)):
        raise settings.error("lr", f"the learning rate must be a number or a schedule object; received {lr!r:.60}")


def count_problem(name: str, value) -> str | None:
    """What is wrong with ``value`` for a count setting (epochs, batch_size, ...) in words, or None."""
    if name not in COUNT_LIMITS or (value is None and name in ("max_steps", "early_stopping_patience")):
        return None
    low, high = COUNT_LIMITS[name]
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return None
    shown = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else f"{value!r:.60}"
    return f"{name} must be a whole number from {low:,} to {high:,}; received {shown}"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_count_or_fraction(value) -> bool:
    return value is None or (_is_number(value) and value >= 0 and (value < 1 or value == int(value)))


def _number_or_schedule(lr) -> str:
    if isinstance(lr, dict):
        return f"{lr.get('name', 'a')} schedule"
    return f"{lr:g}" if isinstance(lr, (int, float)) else str(lr)

