"""The ``layerlab`` command: the main window when run bare, subcommands for everything else.

    layerlab                      open the main window
    layerlab --version            print "layerlab <version>"
    layerlab --smoke-test         open the window offscreen as a first launch, check it, render it, exit 0
    layerlab screenshot OUT.png   save a PNG of the main window, with or without a display
    layerlab train FILE           train a network or .layerlab project on a data set, with a progress bar
    layerlab datasets             list the data sets and where they are
    layerlab evaluate MODEL       accuracy, loss and confusion matrix of a model file on a data set
    layerlab predict MODEL IMAGE  what a model reads in image files

Each subcommand is a module in ``app.commands`` (see its docstring for the contract); add it to
``COMMANDS`` to make it appear here. Nothing in this module imports Qt.
"""

from __future__ import annotations

import argparse
import sys

from app.commands import datasets, evaluate, gui, predict, screenshot, train
from app.commands.command_error import CommandError
from app.version import package_version

COMMANDS = (train, evaluate, predict, datasets, screenshot)


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
    try:
        return run(args)
    except CommandError as error:
        prefix = f"layerlab {args.command}" if args.command else "layerlab"
        print(f"{prefix}: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
