"""``layerlab evaluate MODEL --dataset mnist``: accuracy, loss, per-class accuracy and confusion matrix.

With ``--json`` stdout is exactly one JSON object: model, dataset, split, examples, accuracy, loss,
per_class_accuracy (null for a class with no examples), confusion_matrix (rows: true class), class_names.
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

DEFAULT_BATCH_SIZE = 500


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
    evaluation = engine.evaluate(network, images, labels, batch_size=args.batch_size)
    summary = {"model": str(args.model), "dataset": choice.name, "split": args.split, **evaluation.summary(),
               "class_names": list(info.class_names)}
    if args.json:
        print(json.dumps(finite_or_null(summary), allow_nan=False))
    else:
        print(format_report(summary, network, info))
    return 0


def _dataset_named_by(metadata: dict) -> str | None:
    name = metadata.get("dataset")
    return name if isinstance(name, str) and name else None


def check_model_fits(network, info, model_path: str) -> None:
    """Refuse a model whose input is not the data set's images or whose outputs are not its classes."""
    if tuple(network.input_shape) != tuple(info.shape):
        hint = ""
        if len(network.input_shape) == 1:
            hint = f"; give the network an Input of shape {list(info.shape)} (a Flatten can follow it)"
        raise CommandError(f"{model_path}: the model takes inputs of shape {shape_text(network.input_shape)}, "
                           f"but {info.name} images are {shape_text(info.shape)} (channels x height x width){hint}")
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
