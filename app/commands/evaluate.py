"""``layerlab evaluate MODEL --dataset mnist``: accuracy, loss, per-class accuracy and confusion matrix.

With ``--json`` stdout is exactly one JSON object: model, dataset, split, kind ("classification"), examples,
accuracy, loss, per_class_accuracy (null for a class with no examples), confusion_matrix (rows: true class),
class_names. A model that is not a classifier (an autoencoder, a regression: its spec's "loss" is not
cross-entropy) reports its loss, mean squared error and mean absolute error instead, and its worst examples:
kind "error", accuracy null, mean_squared_error, mean_absolute_error, worst (indices, the largest error first).
A model trained on a toy set (toy:sine, toy:spiral...) is evaluated on the same points ``layerlab train`` made
for its seed.
"""

from __future__ import annotations

import json
import math
import sys

from app.commands.command_error import CommandError
from app.commands.dataset_choice import choose_dataset, load_choice
from app.commands.engine_files import (
    finite_or_null,
    import_engine,
    load_model,
    positive_int,
    shape_text,
)
from app.commands.train import TOY_VALIDATION

TOY_PREFIX = "toy:"
DEFAULT_BATCH_SIZE = 500
WORST_SHOWN = 5  # the worst examples listed for a model that is not a classifier


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="measure a trained model's accuracy and loss on a data set",
        description="Run a model file on the test (or validation) split of a data set and print its accuracy, "
        "loss, per-class accuracy and confusion matrix.",
    )
    parser.add_argument("model", metavar="MODEL", help="a model file (.llmodel)")
    parser.add_argument("--dataset", metavar="NAME|PATH",
                        help="a data set from `layerlab datasets`, or the PATH of a folder or file to import for "
                             "this run (default: the one the model file names)")
    parser.add_argument("--split", choices=("test", "val"), default="test",
                        help="test set, or the validation part carved from training (default: test)")
    parser.add_argument("--batch-size", type=positive_int, default=DEFAULT_BATCH_SIZE, metavar="N",
                        help=f"examples per forward pass (default {DEFAULT_BATCH_SIZE})")
    parser.add_argument("--no-download", action="store_true", help="fail instead of downloading a missing data set")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.set_defaults(run=run)


def run(args) -> int:
    engine = import_engine()
    checkpoint = load_model(args.model)
    dataset_name = args.dataset or _dataset_named_by(checkpoint.metadata)
    if dataset_name is None:
        raise CommandError(f"{args.model} does not say which data set it was trained on; name one with --dataset")
    if dataset_name.startswith(TOY_PREFIX):
        return _run_on_toy(args, engine, checkpoint, dataset_name)
    # Check the model against the registry entry first: a mismatch is refused without reading any data
    # (a PATH is imported to know its shape).
    choice = choose_dataset(dataset_name, flag="--dataset" if args.dataset else f"{args.model}: its data set")
    network, info = checkpoint.network, choice.info
    check_model_fits(network, info, args.model)
    trained_on = checkpoint.metadata.get("dataset_sha256")
    if isinstance(trained_on, str) and choice.sha256 is not None and trained_on != choice.sha256 \
            and checkpoint.metadata.get("dataset") == choice.name:
        print(f"warning: {args.model} was trained on {choice.name!r} of SHA-256 {trained_on[:12]}...; the one on "
              f"this machine is {choice.sha256[:12]}...: it holds different data", file=sys.stderr)
    dataset = load_choice(choice, download=not args.no_download)

    try:
        images, labels = engine.datasets.prepare(dataset).arrays(args.split)
    except engine.datasets.DatasetError as error:
        raise CommandError(f"{info.name}: {error}") from None
    return _report(args, network, images, labels, choice.name, info.title, info)


def _report(args, network, images, labels, name: str, title: str, info) -> int:
    """Evaluate and print the figures of the model's task (tables, or one JSON object)."""
    engine = import_engine()
    evaluation = engine.evaluate(network, images, labels, batch_size=args.batch_size)
    summary = {"model": str(args.model), "dataset": name, "split": args.split, "kind": evaluation.kind,
               **evaluation.summary(), "class_names": list(info.class_names)}
    if evaluation.kind != "classification":
        summary["accuracy"] = None  # no classes: nothing to count right or wrong
        errors = evaluation.example_errors()  # once: (N,) over the whole set
        summary["worst"] = evaluation.worst(WORST_SHOWN).tolist()
        summary["worst_errors"] = [float(errors[i]) for i in summary["worst"]]
    if args.json:
        print(json.dumps(finite_or_null(summary), allow_nan=False))
    elif evaluation.kind == "classification":
        print(format_report(summary, network, info))
    else:
        print(format_error_report(summary, network, title))
    return 0


def _run_on_toy(args, engine, checkpoint, name: str) -> int:
    """A toy set is made, not stored: the same points and split as ``layerlab train`` made for the run's seed."""
    from app.dashboard import run_data  # the app's own data sets (NumPy and engine only), as train uses

    network = checkpoint.network
    problem = run_data.data_problem(network.shapes, name)
    if problem is not None:
        raise CommandError(f"{args.model}: {problem}")
    trainer = checkpoint.metadata.get("trainer")
    config = trainer.get("config") if isinstance(trainer, dict) else None
    seed = config.get("seed", 0) if isinstance(config, dict) else 0
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        seed = 0
    data = run_data.load_run_data(name, validation=TOY_VALIDATION, seed=seed)
    if args.split == "test":
        images, labels = data.test_images, data.test_labels
    else:
        images, labels = data.training.val_images, data.training.val_labels
        if images is None or len(images) == 0:
            raise CommandError(f"{name}: this toy set has no validation split")
    info = _ToyInfo(data.class_names)
    return _report(args, network, images, labels, name, run_data.dataset_shape(name).title, info)


class _ToyInfo:
    """What format_report reads of a registry entry, for a toy set."""

    def __init__(self, class_names):
        self.class_names = tuple(class_names)
        self.num_classes = len(self.class_names)
        self.name = "toy"


def _dataset_named_by(metadata: dict) -> str | None:
    name = metadata.get("dataset")
    return name if isinstance(name, str) and name else None


def check_model_fits(network, info, model_path: str) -> None:
    """Refuse a model whose input is not the data set's images or whose outputs are not its classes (for a model
    that is not a classifier: what its task compares the outputs with, engine.data_fit_problem)."""
    if tuple(network.input_shape) != tuple(info.shape):
        hint = ""
        if len(network.input_shape) == 1:
            hint = f"; give the network an Input of shape {list(info.shape)} (a Flatten can follow it)"
        raise CommandError(f"{model_path}: the model takes inputs of shape {shape_text(network.input_shape)}, "
                           f"but {info.name} images are {shape_text(info.shape)} (channels x height x width){hint}")
    if not network.output_head.classifier:
        problem = import_engine().data_fit_problem(network.shapes, info.shape, info.num_classes, info.title)
        if problem is not None:
            raise CommandError(f"{model_path}: {problem}")
        return
    outputs = math.prod(network.output_shape)
    if outputs != info.num_classes:
        shape = f" (shape {shape_text(network.output_shape)})" if len(network.output_shape) > 1 else ""
        raise CommandError(f"{model_path}: the model has {outputs} outputs{shape}, "
                           f"but {info.name} has {info.num_classes} classes")


def format_report(summary: dict, network, info) -> str:
    """The summary as text: headline figures, a per-class table and the confusion matrix."""
    correct = sum(summary["confusion_matrix"][k][k] for k in range(info.num_classes))
    lines = [
        f"model     {summary['model']} ({network.name}, {network.num_params:,} parameters)",
        f"dataset   {info.title} ({info.name}), {summary['split']} split, {summary['examples']:,} examples",
        f"accuracy  {summary['accuracy']:.4f}  ({correct:,} of {summary['examples']:,} correct)",
        f"loss      {summary['loss']:.4f}  (mean cross-entropy)",
        "",
        "per-class accuracy",
    ]
    names = info.class_names
    name_width = max(len("class"), *(len(f"{k} {name}") for k, name in enumerate(names)))
    lines.append(f"  {'class'.ljust(name_width)}  examples  accuracy")
    for k, (row, accuracy) in enumerate(zip(summary["confusion_matrix"], summary["per_class_accuracy"], strict=True)):
        label = str(k) if names[k] == str(k) else f"{k} {names[k]}"
        shown = "-" if accuracy is None else f"{accuracy:.4f}"
        lines.append(f"  {label.ljust(name_width)}  {sum(row):8,}  {shown:>8}")
    lines += ["", "confusion matrix (rows: true class, columns: predicted class)"]
    cell = max(3, *(len(str(count)) for row in summary["confusion_matrix"] for count in row))
    lines.append("  " + " " * 3 + "".join(f" {k:>{cell}}" for k in range(info.num_classes)))
    for k, row in enumerate(summary["confusion_matrix"]):
        lines.append(f"  {k:>3}" + "".join(f" {count:>{cell}}" for count in row))
    return "\n".join(lines)


LOSS_WORDS = {"mean_squared_error": "mean squared error", "binary_cross_entropy": "binary cross-entropy"}


def format_error_report(summary: dict, network, title: str) -> str:
    """The figures of a model that outputs values: its loss, mean squared and absolute errors, worst examples."""
    head = network.output_head
    target = "the input" if head.reconstructs else "the labels"
    loss_words = LOSS_WORDS.get(head.loss_name, head.loss_name)
    worst = ", ".join(f"#{index} ({error:.4f})" for index, error in zip(summary["worst"], summary["worst_errors"],
                                                                        strict=True))
    return "\n".join([
        f"model     {summary['model']} ({network.name}, {network.num_params:,} parameters)",
        f"dataset   {title} ({summary['dataset']}), {summary['split']} split, {summary['examples']:,} examples",
        f"loss      {summary['loss']:.4f}  ({loss_words} against {target}, as trained)",
        f"mean squared error   {summary['mean_squared_error']:.4f}",
        f"mean absolute error  {summary['mean_absolute_error']:.4f}",
        f"worst examples (their mean squared error): {worst}",
    ])
