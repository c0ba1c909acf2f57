"""``layerlab export MODEL --format onnx|pytorch|keras OUT``: a model leaves LayerLab as ONNX or as code.

    layerlab export model.llmodel --format onnx model.onnx          # the network and its trained weights
    layerlab export model.llmodel --format pytorch train_model.py   # + train_model.safetensors
    layerlab export design.layerlab --format keras model.py         # a project: initial weights (seeded)

MODEL is a model file (``.llmodel``: its trained weights go out), or a ``.layerlab`` project or network spec
JSON (no weights of its own: freshly initialised ones from ``--seed`` go out, and the output says so). The
code formats carry the training settings: a project's "training" object, or what a model file's metadata
records. Each file written is one line on stdout. Everything that can go wrong (a bad model file, an OUT that
cannot be written, a missing optional package, a design ONNX cannot express) is one line on stderr naming the
file or the extra, exit status 1 (2 for a usage mistake), as the other commands.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.commands.command_error import CommandError
from app.commands.engine_files import import_engine, load_model, whole_number
from app.commands.output_files import check_output_file, write_problem

FORMATS = ("onnx", "pytorch", "keras")
# The exporter of each format (engine.export names it; its module is imported only when it runs: each needs an
# optional package), the module, to tell a missing exporter from a missing package, and the feature's name.
EXPORTERS = {
    "onnx": ("engine.export.onnx_export", "export_onnx", "ONNX export"),
    "pytorch": ("engine.export.pytorch_code", "export_pytorch", "PyTorch code export"),
    "keras": ("engine.export.keras_code", "export_keras", "Keras code export"),
}
MODEL_SUFFIX = ".llmodel"
DEFAULT_DATASET = "mnist"
# The TrainingConfig names a model file's metadata may record under "training" that the code exporters read.
TRAINING_KEYS = ("epochs", "batch_size", "optimizer", "l2", "clipnorm", "seed", "max_steps",
                 "early_stopping_patience", "augment")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write a model as ONNX, or as PyTorch or Keras code",
        description="Write MODEL as an ONNX file (opset 17, any batch size, input 'input', output 'output'), or as "
                    "a self-contained PyTorch or Keras 3 script with its weights beside it. MODEL is a .llmodel "
                    "file (its trained weights go out), or a .layerlab project or network JSON (initial weights, "
                    "seeded by --seed). Needs LayerLab's 'export' extra: pip install 'layerlab[export]'.",
    )
    parser.add_argument("model", metavar="MODEL", help="a model file (.llmodel), a .layerlab project or a network JSON")
    parser.add_argument("output", metavar="OUT", help="the file to write (.onnx, or .py for the code formats)")
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="onnx, pytorch or keras (default: onnx when OUT ends in .onnx)")
    parser.add_argument("--seed", type=whole_number(0, 2**32 - 1), default=0, metavar="N",
                        help="for a project or network JSON: the seed of the initial weights (default 0)")
    parser.set_defaults(run=run)


def run(args) -> int:
    fmt = _format(args)
    output = check_output_file(args.output, "OUT", example=f"model{'.onnx' if fmt == 'onnx' else '.py'}")
    if fmt != "onnx" and output.suffix != ".py":
        raise CommandError(f"OUT {args.output}: a {fmt} export is a Python script; give a name ending in .py", 2)
    if _same_file(args.model, output):
        raise CommandError(f"OUT {args.output} is MODEL itself; give another file name", 2)
    network, training, weights_note = _read_source(args)
    if weights_note:
        print(f"note: {weights_note}", flush=True)
    written = _export(fmt, network, output, training, args.model)
    for path in written:
        print(f"wrote {path} ({_size_text(path)})")
    return 0


def _format(args) -> str:
    if args.format:
        return args.format
    if Path(args.output).suffix.lower() == ".onnx":
        return "onnx"
    raise CommandError(f"which format should {args.output} be? give --format onnx, pytorch or keras", 2)


def _same_file(model: str, output: Path) -> bool:
    try:
        return output.exists() and os.path.samefile(model, output)
    except OSError:
        return False


def _read_source(args):
    """(network, training settings or None, a note on the weights or None) for MODEL."""
    engine = import_engine()
    if Path(args.model).suffix.lower() == MODEL_SUFFIX:
        checkpoint = load_model(args.model)
        return checkpoint.network, _training_of(checkpoint.metadata), None
    from app.commands.train import read_network_file  # the project and spec reader `layerlab train` uses

    spec, project = read_network_file(args.model)
    try:
        network = engine.build(spec, seed=args.seed)
    except engine.SpecError as error:
        raise CommandError(f"{args.model}: {error}") from None
    except ValueError as error:  # a spec that is not a network at all (not a JSON object, say)
        raise CommandError(f"{args.model}: {engine.describe_error(error)}") from None
    what = "project" if project is not None else "network file"
    note = (f"{args.model} is a {what} without trained weights: exporting initial weights (seed {args.seed}); "
            f"train it (layerlab train) and export the .llmodel for trained ones")
    return network, (dict(project.training) if project is not None and project.training else None), note


def _training_of(metadata: dict) -> dict | None:
    """The training settings a model file records, as a project's "training" object names them."""
    recorded = metadata.get("training")
    training = {key: recorded[key] for key in TRAINING_KEYS if key in recorded} if isinstance(recorded, dict) else {}
    dataset = metadata.get("dataset")
    if isinstance(dataset, str) and dataset:
        training["dataset"] = dataset
    return training or None


def _export(fmt: str, network, output: Path, training: dict | None, model: str) -> list[Path]:
    engine = import_engine()
    MissingExtraError = engine.export.MissingExtraError  # noqa: N806 - the class, named as the engine names it
    module_name, function_name, feature = EXPORTERS[fmt]
    try:
        exporter = getattr(engine.export, function_name)  # imports its module now (engine/export/__init__.py)
    except MissingExtraError as error:
        raise CommandError(str(error)) from None
    except ImportError as error:
        if error.name == module_name:  # the exporter itself is missing from this installation
            raise CommandError(f"{feature} is not part of this LayerLab installation; reinstall LayerLab") from None
        package = (error.name or "a").split(".")[0]  # a package the exporter imports at its top
        raise CommandError(str(MissingExtraError(package, feature))) from None
    try:
        if fmt == "onnx":
            return [Path(exporter(network, output))]
        dataset = (training or {}).get("dataset") or DEFAULT_DATASET
        return [Path(path) for path in exporter(network, output, training=training, dataset=dataset)]
    except MissingExtraError as error:
        raise CommandError(str(error)) from None
    except OSError as error:
        target = error.filename or output
        raise CommandError(f"cannot write {target}: {write_problem(error)}") from None
    except ValueError as error:  # the design or its settings cannot be expressed in this format
        engine = import_engine()
        raise CommandError(f"{model}: cannot export as {fmt}: {engine.describe_error(error)}") from None


def _size_text(path: Path) -> str:
    try:
        size = path.stat().st_size
    except OSError:
        return "size unknown"
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size:,} bytes"
