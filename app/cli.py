"""The ``layerlab`` command: the main window when run bare, subcommands for everything else.

    layerlab                      open the main window
    layerlab --version            print "layerlab <version>"
    layerlab --smoke-test         open the window offscreen as a first launch, check it, render it, exit 0
    layerlab screenshot OUT.png   save a PNG of the main window, with or without a display
    layerlab train FILE           train a network or .layerlab project on a data set, with a progress bar
    layerlab datasets             list the data sets and where they are
    layerlab datasets import PATH --name NAME    import your own images, IDX files, CSV or .npz by name
    layerlab datasets remove NAME                remove an imported data set
    layerlab evaluate MODEL       accuracy, loss and confusion matrix of a model file on a data set
    layerlab predict MODEL IMAGE  what a model reads in image files
    layerlab export MODEL --format onnx|pytorch|keras OUT    a model as ONNX, or as PyTorch or Keras code

Each subcommand is a module in ``app.commands`` (see its docstring for the contract); add it to
``COMMANDS`` to make it appear here. Nothing in this module imports Qt.

A command refuses bad input itself, with a CommandError naming the file and the problem. Should an
exception nobody expected still reach here, it is one line in words ("unexpected problem: ..."), never a
traceback, unless ``LAYERLAB_DEBUG=1`` asks for the details. That is a safety net, not a way to handle
errors: each one a person can cause is caught where it happens, and has a test.
"""

from __future__ import annotations

import argparse
import os
import sys

from app.commands import datasets, evaluate, export, gui, predict, screenshot, train
from app.commands.command_error import CommandError
from app.version import package_version

COMMANDS = (train, evaluate, predict, export, datasets, screenshot)
DEBUG_ENV = "LAYERLAB_DEBUG"
EXIT_READER_GONE = 141  # what a shell reports for a program ended by SIGPIPE: 128 + 13
MAX_UNEXPECTED_CHARS = 300  # an unexpected error's text can hold a whole array; one line is what people read


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="layerlab",
        description="LayerLab, a desktop workbench for neural networks. "
        "Run without a command to open the main window.",
    )
    parser.add_argument("--version", action="version", version=f"layerlab {package_version()}")
    parser.add_argument("--smoke-test", metavar="OUT.png", nargs="?", const="", default=None,
                        help="check that the app works (the window opens offscreen as on a first launch, the "
                             "bundled model reads MNIST and a drawn digit, the window renders) and exit 0; "
                             "with OUT.png, also save the render")
    subparsers = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def run_smoke_test(args) -> int:
    from app.commands import smoke_test

    return smoke_test.run(args.smoke_test or None)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run = getattr(args, "run", gui.run)
    if args.smoke_test is not None and not args.command:
        run = run_smoke_test
    prefix = f"layerlab {args.command}" if args.command else "layerlab"
    try:
        return run(args)
    except CommandError as error:
        print(f"{prefix}: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the program reading our output stopped (`layerlab datasets | head -1`): not a fault
        _stop_writing_stdout()
        return EXIT_READER_GONE
    except Exception as error:  # noqa: BLE001 - the last line of defence: a sentence instead of a traceback
        if os.environ.get(DEBUG_ENV, "").strip() not in ("", "0"):
            raise
        print(f"{prefix}: unexpected problem: {_in_words(error)} (set {DEBUG_ENV}=1 to see the details)",
              file=sys.stderr)
        return 1


def _stop_writing_stdout() -> None:
    """Point stdout at the null device, so Python's flush at exit does not report the closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout already closed or replaced (a test's capture): nothing left to silence
        pass


def _in_words(error: BaseException) -> str:
    """The error as engine.describe_error words it (never its class name), on one line of bounded length."""
    try:
        import engine
    except Exception:  # noqa: BLE001 - the engine itself may be what failed to import
        text = str(error).strip() or "an unexpected error"
    else:
        text = engine.describe_error(error)
    text = " ".join(text.split())
    return text if len(text) <= MAX_UNEXPECTED_CHARS else text[:MAX_UNEXPECTED_CHARS - 1] + "…"


if __name__ == "__main__":
    sys.exit(main())
