"""``layerlab train SPEC --dataset mnist ...``: train a network file headlessly, with a progress bar.

Writes the trained model (``--output``, atomic) and, with ``--metrics``, one JSON object per line
(step events every ``--log-every`` steps, every epoch, the final test evaluation). Ctrl+C stops
after the current step and still saves what was learned; a second Ctrl+C aborts. ``--resume`` continues a
checkpoint written by ``--checkpoint-dir`` (or any model file saved by this command) exactly.
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

from app.commands.command_error import CommandError
from app.commands.engine_files import (
    finite_or_null,
    import_engine,
    load_dataset,
    non_negative_float,
    positive_float,
    positive_int,
    shape_text,
)

DEFAULT_OUTPUT = "model.llmodel"
DEFAULT_EPOCHS = 10


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train", help="train a network file on a data set (no window needed)",
        description="Train the network in SPEC (a layerlab-network JSON file, e.g. resources/examples/seed-cnn.json) "
                    "and save the trained model.")
    parser.add_argument("spec", metavar="SPEC", nargs="?", help="network spec JSON (omit with --resume)")
    parser.add_argument("--dataset", default="mnist", help="data set name (see `layerlab datasets`; default mnist)")
    parser.add_argument("--epochs", type=positive_int, help=f"passes over the training set (default {DEFAULT_EPOCHS}; "
                                                            f"with --resume: the new total)")
    parser.add_argument("--batch-size", type=positive_int, default=50)
    parser.add_argument("--optimizer", default="adam", help="sgd, momentum, nesterov, adagrad, rmsprop, adadelta, "
                                                           "adam or adamw (default adam)")
    parser.add_argument("--lr", type=positive_float, help="learning rate (default: the optimizer's own)")
    parser.add_argument("--schedule", metavar="JSON", help='learning-rate schedule, e.g. \'{"name": "exponential", '
                                                         '"decay_steps": 1000, "decay_rate": 0.9}\'')
    parser.add_argument("--l2", type=non_negative_float, default=0.0, help="weight decay on kernels")
    parser.add_argument("--clipnorm", type=positive_float, help="clip the global gradient norm to this")
    parser.add_argument("--validation", type=int, default=None,
                        help="validation examples carved from the training set (default 5,000 for MNIST; 0 for none)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-steps", type=positive_int, help="stop after this many steps")
    parser.add_argument("--patience", type=positive_int, help="early stopping: epochs without a better validation "
                                                              "accuracy (keeps the best weights)")
    parser.add_argument("--augment", action="store_true", help="random small shifts and rotations")
    parser.add_argument("--output", "-o", default=DEFAULT_OUTPUT,
                        help=f"model file to write (default {DEFAULT_OUTPUT})")
    parser.add_argument("--metrics", metavar="FILE.jsonl", help="write metrics as JSON lines")
    parser.add_argument("--log-every", type=positive_int, default=10, help="steps between step lines in --metrics")
    parser.add_argument("--checkpoint-dir", metavar="DIR", help="write best.llmodel and last.llmodel each epoch")
    parser.add_argument("--resume", metavar="CHECKPOINT", help="continue a saved run exactly (SPEC not needed)")
    parser.add_argument("--backend", choices=["numpy", "cupy", "auto"], help="array backend (default: "
                                                                             "LAYERLAB_BACKEND or numpy)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def read_spec(path: str) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"{path}: cannot read ({error})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise CommandError(f"{path}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})") from None


def optimizer_config(args) -> dict:
    config = {"name": args.optimizer}
    if args.schedule:
        try:
            schedule = json.loads(args.schedule)
        except json.JSONDecodeError as error:
            raise CommandError(f"--schedule is not valid JSON ({error.msg})", 2) from None
        if isinstance(schedule, dict) and args.lr and "initial_learning_rate" not in schedule:
            schedule["initial_learning_rate"] = args.lr
        config["lr"] = schedule
    elif args.lr:
        config["lr"] = args.lr
    return config


def build_trainer(args, engine, splits, callback):
    training = engine.training
    data = training.TrainingData.from_splits(splits)
    if args.resume:
        try:
            return training.Trainer.from_checkpoint(args.resume, data, callback, args.checkpoint_dir,
                                                    config_overrides=_overrides(args))
        except (engine.ModelFileError, ValueError) as error:
            raise CommandError(str(error)) from None
    if not args.spec:
        raise CommandError("give a network SPEC file (or --resume CHECKPOINT)", 2)
    spec = read_spec(args.spec)
    try:
        info = engine.infer_shapes(spec)
    except engine.SpecError as error:
        raise CommandError(f"{args.spec}: {error}") from None
    input_id = next(n for n in info.order if info[n].type == "Input")
    expected_input, classes = tuple(splits.info.shape), splits.info.num_classes
    if info[input_id].output_shape != expected_input:
        raise CommandError(f"{args.spec}: the network takes {shape_text(info[input_id].output_shape)} inputs but "
                           f"{splits.info.name} images are {shape_text(expected_input)}")
    if info.output_shape != (classes,):
        raise CommandError(f"{args.spec}: the network outputs {shape_text(info.output_shape)} values but "
                           f"{splits.info.name} has {classes} classes")
    try:
        config = training.TrainingConfig(
            epochs=args.epochs or DEFAULT_EPOCHS, batch_size=args.batch_size, optimizer=optimizer_config(args),
            l2=args.l2, clipnorm=args.clipnorm, seed=args.seed, max_steps=args.max_steps,
            early_stopping_patience=args.patience, augment=args.augment, snapshot_every_steps=None)
        network = engine.build(spec, seed=args.seed)
        return training.Trainer(network, data, config, callback, args.checkpoint_dir)
    except ValueError as error:  # a bad optimizer name or hyperparameter
        raise CommandError(str(error), 2) from None


def _overrides(args) -> dict:
    """On --resume, --epochs and --max-steps given on the command line extend the saved run."""
    overrides = {"snapshot_every_steps": None}
    if args.epochs:
        overrides["epochs"] = args.epochs
    if args.max_steps:
        overrides["max_steps"] = args.max_steps
    return overrides


class Progress:
    """A tqdm bar over all steps, with loss, accuracy and samples/s; epoch summaries printed above it."""

    def __init__(self, trainer, quiet: bool, metrics_file, log_every: int):
        from tqdm import tqdm

        config = trainer.config
        per_epoch = trainer.batches.batches_per_epoch
        total = config.epochs * per_epoch
        if config.max_steps:
            total = min(total, config.max_steps)
        self.bar = tqdm(total=total, initial=trainer.step, unit="step", disable=quiet, dynamic_ncols=True,
                        file=sys.stderr)
        self.metrics_file = metrics_file
        self.log_every = log_every
        self.quiet = quiet

    def __call__(self, event):
        kind = type(event).__name__
        if kind == "StepEvent":
            self.bar.update(1)
            self.bar.set_postfix(epoch=event.epoch + 1, loss=f"{event.loss:.4f}", acc=f"{event.batch_accuracy:.3f}",
                                 samples_s=f"{event.samples_per_second:,.0f}", refresh=False)
            if event.step % self.log_every == 0:
                self.write({"event": "step", **_fields(event)})
        elif kind == "EpochEvent":
            val = "" if event.val_accuracy is None else \
                f", validation loss {event.val_loss:.4f} accuracy {event.val_accuracy:.4f}"
            self.bar.write(f"epoch {event.epoch + 1}: train loss {event.train_loss:.4f} accuracy "
                           f"{event.train_accuracy:.4f}{val}" + (" (best)" if event.improved else ""))
            self.write({"event": "epoch", **_fields(event)})
        elif kind in ("FinishedEvent", "FailedEvent"):
            self.bar.close()
            self.write({"event": "finished" if kind == "FinishedEvent" else "failed", **_fields(event)})

    def write(self, record: dict):
        if self.metrics_file:
            self.metrics_file.write(json.dumps(finite_or_null(record)) + "\n")
            self.metrics_file.flush()


def _fields(event) -> dict:
    return {name: getattr(event, name) for name in event.__dataclass_fields__}


def run(args) -> int:
    engine = import_engine()
    if args.backend:
        try:
            engine.backend.set_backend(args.backend)
        except engine.backend.BackendError as error:
            raise CommandError(str(error)) from None
    dataset = load_dataset(args.dataset)
    try:
        splits = engine.datasets.prepare(dataset, validation=args.validation)
    except engine.datasets.DatasetError as error:
        raise CommandError(str(error), 2) from None
    output = Path(args.output)
    if not output.parent.exists():
        raise CommandError(f"cannot write {args.output}: folder {output.parent} does not exist")
    metrics_file = open(args.metrics, "w", encoding="utf-8") if args.metrics else None  # noqa: SIM115
    try:
        progress = None
        trainer = build_trainer(args, engine, splits, lambda event: progress(event))
        progress = Progress(trainer, args.quiet, metrics_file, args.log_every)
        interrupted = _stop_on_ctrl_c(trainer)
        final = trainer.run()
        result = engine.evaluate(trainer.network, splits.test_images, splits.test_labels)
        metadata = {"dataset": splits.info.name, "trainer": trainer.state(), "test_accuracy": result.accuracy,
                    "test_loss": result.loss}
        engine.save(trainer.network, output, optimizer=trainer.optimizer, metadata=metadata)
        progress.write({"event": "test", "accuracy": result.accuracy, "loss": result.loss,
                        "examples": len(splits.test_labels)})
    except engine.ModelFileError as error:
        raise CommandError(str(error)) from None
    finally:
        if metrics_file:
            metrics_file.close()
    samples = trainer.step * trainer.config.batch_size
    speed = samples / trainer.elapsed if trainer.elapsed else 0.0
    print(f"{final.message}: {trainer.step} steps in {trainer.elapsed:.1f} s ({speed:,.0f} samples/s); "
          f"test accuracy {result.accuracy:.4f}, loss {result.loss:.4f}; saved {output}")
    if type(final).__name__ == "FailedEvent":
        print(f"training failed: {final.message}", file=sys.stderr)
        return 1
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
