"""The app's TensorBoard logs: where they go, and the logger the training thread feeds (never the GUI thread).

    log_dir = default_log_dir()                    # <user data folder>/tensorboard: `tensorboard --logdir` it
    name = run_folder_name("run 2: seed-cnn, adam lr=0.001, batch 50")   # "2026-12-07 06-13 run 2 seed-cnn, ..."
    log = TrainingLog.open(log_dir, name, network, settings)    # on the training thread: (log, None) or (None, why)
    log(event)                                     # each trainer event; None while logging works, else why it stopped

The logger itself is engine/export/tensorboard_log.py. A run never fails because of its log: a log that cannot
be opened, or stops being written (a full disk), ends with the reason in words and the run goes on. Nothing here
imports Qt.
"""

from __future__ import annotations

import time
from pathlib import Path

import engine

SUBFOLDER = "tensorboard"


def default_log_dir() -> Path:
    """``<platformdirs user data folder for "layerlab">/tensorboard`` (a path only: nothing is made here)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("layerlab")) / SUBFOLDER


def run_folder_name(run_label: str) -> str:
    """A run's folder: the date and time (runs of earlier sessions share their numbers) and its label."""
    return engine.export.safe_folder_name(f"{time.strftime('%Y-%m-%d %H-%M-%S')} {run_label}")


class TrainingLog:
    """A TensorBoardLogger that stops, in words, instead of stopping the run."""

    def __init__(self, logger):
        self.logger = logger

    @classmethod
    def open(cls, log_dir: str, run_name: str, network, settings: dict) -> tuple[TrainingLog | None, str | None]:
        try:
            logger = engine.export.TensorBoardLogger(log_dir, network, run_name=run_name, settings=settings)
        except engine.export.MissingExtraError as error:
            return None, str(error)
        except Exception as error:  # e.g. no permission to write there: the run trains without its log
            return None, f"cannot write in {log_dir}: {engine.describe_error(error)}"
        return cls(logger), None

    @property
    def run_dir(self) -> Path:
        return self.logger.run_dir

    def __call__(self, event) -> str | None:
        """Log ``event``; None, or why logging has stopped (the log is closed then)."""
        try:
            self.logger(event)
        except Exception as error:  # a full disk, a folder removed while training: the run goes on
            self.close()
            return f"the TensorBoard log stopped at step {event.step}: {engine.describe_error(error)}"
        return None

    def close(self) -> None:
        try:
            self.logger.close()
        except Exception:  # closing writes what was queued; what could not be written is already lost
            pass
