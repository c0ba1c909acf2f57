"""``layerlab train FILE --dataset mnist ...``: train a network file headlessly, with a progress bar.

FILE is a network spec (layerlab-network JSON) or a ``.layerlab`` project: a project also gives the data
set and the training settings, each overridden by its flag when one is given (train_settings.py); a line
says where each setting came from. Writes the trained model (``--output``, atomic) and, with
``--metrics``, one JSON object per line (step events every ``--log-every`` steps, every epoch, the final
test evaluation); with ``--tensorboard DIR``, TensorBoard event files as well (train_logs.py). Ctrl+C stops
after the current step and still saves what was learned; a second Ctrl+C aborts. ``--resume`` continues a
checkpoint written by ``--checkpoint-dir`` (or any model file saved by this command) exactly.

This module holds the flags, the reading of FILE and the run itself; the data set a run trains on is loaded
and checked in train_data.py, and the progress bar, epoch lines, --metrics lines and test figures (which
follow the task: accuracy for a classifier, errors otherwise) are in train_progress.py.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from app.commands.command_error import CommandError
from app.commands.dataset_choice import choose_dataset
from app.commands.engine_files import (
    import_engine,
    non_negative_float,
    positive_float,
    positive_int,
    whole_number,
)
from app.commands.output_files import MetricsStream, check_output_file, check_output_folder, write_problem
from app.commands.train_data import TOY_VALIDATION as TOY_VALIDATION  # read here by evaluate.py and tests
from app.commands.train_data import load_data, registered_data
from app.commands.train_logs import check_tensorboard, open_tensorboard, where_logs_are
from app.commands.train_progress import Progress, describe_test, figures_on_test
from app.commands.train_settings import (
    DEFAULT_DATASET,
    DEFAULT_EPOCHS,
    DEFAULT_OPTIMIZER,
    MAX_BATCH_SIZE,
    MAX_EPOCHS,
    MAX_SEED,
    MAX_STEPS,
    count_or_fraction,
    resolve,
)

DEFAULT_OUTPUT = "model.llmodel"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train", help="train a network or a project file on a data set (no window needed)",
        description="Train the network in FILE and save the trained model. FILE is a layerlab-network JSON file "
                    "(e.g. resources/examples/seed-cnn.json) or a .layerlab project, which also gives the data "
                    "set and training settings; a flag given here overrides the project's setting.")
    parser.add_argument("spec", metavar="FILE", nargs="?",
                        help="network spec JSON or .layerlab project (omit with --resume)")
    parser.add_argument("--dataset", metavar="NAME|PATH",
                        help=f"data set name (see `layerlab datasets`), toy:spiral, toy:xor, toy:circles, "
                             f"toy:gaussian, toy:sine (regression), or the PATH of a folder of class folders, IDX "
                             f"files, a CSV or a .npz "
                             f"to import for this run (default: the project's, else {DEFAULT_DATASET})")
    parser.add_argument("--epochs", type=whole_number(1, MAX_EPOCHS),
                        help=f"passes over the training set (default {DEFAULT_EPOCHS}; with --resume: the new total)")
    parser.add_argument("--batch-size", type=whole_number(1, MAX_BATCH_SIZE), help="examples per step (default 50)")
    parser.add_argument("--optimizer", help="sgd, momentum, nesterov, adagrad, rmsprop, adadelta, adam or adamw "
                                            f"(default {DEFAULT_OPTIMIZER}); one other than the project's starts "
                                            f"from its own defaults")
    parser.add_argument("--lr", type=positive_float, help="learning rate (default: the optimizer's own)")
    parser.add_argument("--schedule", metavar="JSON", help='learning-rate schedule, e.g. \'{"name": "exponential", '
                                                         '"decay_steps": 1000, "decay_rate": 0.9}\'')
    parser.add_argument("--l2", type=non_negative_float, help="weight decay on kernels (default 0)")
    parser.add_argument("--clipnorm", type=positive_float, help="clip the global gradient norm to this")
    parser.add_argument("--validation", type=count_or_fraction,
                        help="validation examples carved from the training set: a count or a fraction (default "
                             "5,000 for MNIST, a tenth of a toy set; 0 for none)")
    parser.add_argument("--seed", type=whole_number(0, MAX_SEED),
                        help="seed of the weights, data order and dropout (default 0)")
    parser.add_argument("--max-steps", type=whole_number(1, MAX_STEPS), help="stop after this many steps")
    parser.add_argument("--patience", type=whole_number(1, MAX_EPOCHS),
                        help="early stopping: epochs without a better validation accuracy, or for a network that "
                             "is not a classifier a lower validation loss (keeps the best weights)")
    parser.add_argument("--augment", action=argparse.BooleanOptionalAction,
                        help="random small shifts and rotations (default: off)")
    parser.add_argument("--input-noise", type=non_negative_float, metavar="STD",
                        help="Gaussian noise of this standard deviation added to each training input (images "
                             "clipped to [0, 1]); the target stays clean: a denoising autoencoder (default 0)")
    parser.add_argument("--output", "-o", default=DEFAULT_OUTPUT,
                        help=f"model file to write (default {DEFAULT_OUTPUT})")
    parser.add_argument("--metrics", metavar="FILE.jsonl", help="write metrics as JSON lines")
    parser.add_argument("--log-every", type=positive_int, default=10, help="steps between step lines in --metrics")
    parser.add_argument("--tensorboard", metavar="DIR", help="also write TensorBoard event files (scalars, histograms, "
                                                              "the graph) in a new run folder under DIR")
    parser.add_argument("--checkpoint-dir", metavar="DIR", help="write best.llmodel and last.llmodel each epoch")
    parser.add_argument("--resume", metavar="CHECKPOINT", help="continue a saved run exactly (FILE not needed)")
    parser.add_argument("--backend", choices=["numpy", "cupy", "auto"], help="array backend (default: "
                                                                             "LAYERLAB_BACKEND or numpy)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def read_spec(path: str):
    """The JSON value in ``path``, read as every user's file is (engine.user_files): a regular file of at most
    a project's ``MAX_BYTES`` (never a FIFO or /dev/zero), nested at most 64 deep, no integer of thousands of digits."""
    import engine
    from app.document.project_file import MAX_BYTES  # a spec is read as a project is: a 20,000-node one is 2 MB

    return engine.user_files.read_json(path, max_bytes=MAX_BYTES, error=CommandError.for_file)


def read_network_file(path: str):
    """(spec, project): a network spec with project None, or a ``.layerlab`` project's network and the project.

    A project is read by the app's own reader, so the command refuses exactly what the app refuses, in its words.
    """
    from app.document.project_file import (
        PROJECT_FORMAT,
        PROJECT_SUFFIX,
        ProjectFileError,
        project_from_data,
        read_project,
    )

    try:
        if Path(path).suffix == PROJECT_SUFFIX:
            project = read_project(path)
        else:
            data = read_spec(path)
            if not isinstance(data, dict) or data.get("format") != PROJECT_FORMAT:
                return data, None
            project = project_from_data(Path(path), data)  # a project under another name: read once, not twice
    except ProjectFileError as error:
        raise CommandError(str(error)) from None
    return project.spec, (None if project.is_import else project)


def build_trainer(args, engine, callback):
    """(trainer, data, settings): a new run from FILE and the flags, or a resumed one (settings None)."""
    training = engine.training
    if args.resume:
        data = registered_data(engine, choose_dataset(args.dataset or DEFAULT_DATASET), args.validation,
                                lambda message: CommandError(message, 2))
        try:
            trainer = training.Trainer.from_checkpoint(args.resume, data.training, callback, args.checkpoint_dir,
                                                       config_overrides=_overrides(args))
        except engine.UserFileError as error:  # ModelFileError: missing, damaged, or a run it cannot continue
            raise CommandError(str(error)) from None
        except (engine.datasets.DatasetError, ValueError) as error:
            # The saved position in the data does not fit the data given now (another --dataset or
            # --validation), or a setting of the saved run is refused: the file's problem, named with it.
            message = str(error)
            raise CommandError(message if message.startswith(str(args.resume)) else f"{args.resume}: {message}") \
                from None
        return trainer, data, None
    if not args.spec:
        raise CommandError("give a network or project FILE (or --resume CHECKPOINT)", 2)
    spec, project = read_network_file(args.spec)
    settings = resolve(args, project, engine)
    try:
        report = engine.infer_shapes(spec)
    except engine.SpecError as error:
        raise CommandError(f"{args.spec}: {error}") from None
    try:
        config = training.TrainingConfig(**settings.config_arguments())
    except ValueError as error:  # a bad flag: the project's values were checked in resolve
        raise CommandError(str(error), 2) from None
    data = load_data(engine, settings, config.seed, args.spec, report)
    try:
        network = engine.build(spec, seed=config.seed)
        trainer = training.Trainer(network, data.training, config, callback, args.checkpoint_dir)
    except ValueError as error:  # a bad optimizer name or hyperparameter, or a bad learning-rate schedule
        # The project's fault when the project gave the optimizer or its rate (a project's schedule goes
        # with the default optimizer too), else the flags'.
        culprit = "lr" if settings.from_project("lr") else "optimizer"
        raise settings.error(culprit, str(error)) from None
    return trainer, data, settings


def _overrides(args) -> dict:
    """On --resume, --epochs and --max-steps given on the command line extend the saved run."""
    overrides = {"snapshot_every_steps": None}
    if args.epochs:
        overrides["epochs"] = args.epochs
    if args.max_steps:
        overrides["max_steps"] = args.max_steps
    return overrides


def run(args) -> int:
    engine = import_engine()
    if args.backend:
        try:
            engine.backend.set_backend(args.backend)
        except engine.backend.BackendError as error:
            raise CommandError(str(error)) from None
    # Every place the run writes is checked before it starts: an hour of training is never lost to a bad -o.
    output = check_output_file(args.output, "-o")
    if args.checkpoint_dir:
        check_output_folder(args.checkpoint_dir, "--checkpoint-dir")
    MetricsStream.check(args.metrics)
    check_tensorboard(args.tensorboard)
    progress = tensorboard = None

    def report(event):
        progress(event)
        if tensorboard is not None:
            tensorboard(event)  # closes its files at the finish

    trainer, data, settings = build_trainer(args, engine, report)
    if settings is not None:
        print(settings.summary(trainer.config, trainer.optimizer.get_config()), flush=True)
    metrics_file = MetricsStream.open(args.metrics)
    try:
        progress = Progress(trainer, args.quiet, metrics_file, args.log_every)
        tensorboard = open_tensorboard(args.tensorboard, trainer, data.name)
        interrupted = _stop_on_ctrl_c(trainer)
        final = trainer.run()
        result = engine.evaluate(trainer.network, data.test_images, data.test_labels)
        figures = figures_on_test(result)
        metadata = {"dataset": data.name, "trainer": trainer.state(),
                    **{f"test_{name}": value for name, value in figures.items() if value is not None}}
        if data.sha256 is not None:  # an imported set: another machine can tell whether it has the same data
            metadata["dataset_sha256"] = data.sha256
        engine.save(trainer.network, output, optimizer=trainer.optimizer, metadata=metadata)
        progress.write({"event": "test", **figures, "examples": len(data.test_images)})
    except engine.ModelFileError as error:
        raise CommandError(str(error)) from None
    except OSError as error:  # the checks above passed, then the disk filled up or the folder went away
        raise CommandError(f"cannot write {args.output}: {write_problem(error)}") from None
    finally:
        if metrics_file:
            metrics_file.close()
        if tensorboard is not None:
            tensorboard.close()
    samples = trainer.step * trainer.config.batch_size
    speed = samples / trainer.elapsed if trainer.elapsed else 0.0
    print(f"{final.message}: {trainer.step} steps in {trainer.elapsed:.1f} s ({speed:,.0f} samples/s); "
          f"{describe_test(result)}; saved {output}")
    if tensorboard is not None:
        print(where_logs_are(tensorboard, args.tensorboard))
    if type(final).__name__ == "FailedEvent":
        print(f"layerlab train: training failed: {final.message}", file=sys.stderr)  # as every error line reads
        return 1
    if metrics_file and metrics_file.problem:  # the model is saved; only the metrics stopped
        raise CommandError(f"the model was saved, but the metrics could not all be written to {args.metrics}: "
                           f"{metrics_file.problem}")
    return 130 if interrupted() else 0


def _stop_on_ctrl_c(trainer):
    """First Ctrl+C: stop after this step (the model is still saved). Second: abort."""
    pressed = []

    def handler(signum, frame):
        if pressed:
            raise KeyboardInterrupt
        pressed.append(True)
        print("\nstopping after this step (Ctrl+C again to abort)...", file=sys.stderr)
        trainer.request_stop()

    signal.signal(signal.SIGINT, handler)
    return lambda: bool(pressed)
