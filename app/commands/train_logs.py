"""``layerlab train --tensorboard DIR``: TensorBoard event files beside the ``--metrics`` JSON lines.

    check_tensorboard(args.tensorboard)                       # before any work: the extra installed, DIR writable
    logger = open_tensorboard(args.tensorboard, trainer, data_name)   # a new run folder under DIR
    ... trainer.run() with the logger fed every event (it closes itself at the end) ...
    print(where_logs_are(logger, args.tensorboard))

The logger (engine/export/tensorboard_log.py) is given the trainer's network, so it writes the graph and, at each
epoch's end and at the finish, histograms of every weight and gradient: the command asks the trainer for no
snapshots (nothing watches it live), so those are its histograms. Nothing here imports Qt.
"""

from __future__ import annotations

import shlex

from app.commands.command_error import CommandError
from app.commands.engine_files import import_engine
from app.commands.output_files import check_output_folder, write_problem

OPTION = "--tensorboard"


def check_tensorboard(folder: str | None) -> None:
    """A usage error (exit 2, one line naming the extra) when tensorboardX is missing; a folder that cannot be
    written is refused as ``--checkpoint-dir`` is. Called before the data is loaded or a step is trained."""
    if not folder:
        return
    export = import_engine().export
    try:
        export.require("tensorboardX", export.TENSORBOARD_FEATURE)
    except export.MissingExtraError as error:
        raise CommandError(f"{OPTION}: {error}", 2) from None
    check_output_folder(folder, OPTION)


def open_tensorboard(folder: str | None, trainer, data_name: str):
    """A TensorBoardLogger writing under ``folder`` (None when not asked for), with the run's settings as text."""
    if not folder:
        return None
    settings = {"dataset": data_name, **trainer.config.to_dict()}
    try:
        return import_engine().export.TensorBoardLogger(folder, trainer.network, settings=settings)
    except OSError as error:  # checked before the data was loaded, then the folder went away or filled up
        raise CommandError(f"cannot write {OPTION} {folder}: {write_problem(error)}") from None


def where_logs_are(logger, folder: str) -> str:
    return f"TensorBoard logs in {logger.run_dir}; to see them: tensorboard --logdir {shlex.quote(folder)}"
