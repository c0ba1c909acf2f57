"""The one error the datasets package raises for anything wrong with data, files or downloads."""

from __future__ import annotations

import os


class DatasetError(Exception):
    """A data file, folder or download could not be used.

    The message always names the file (or dataset) and the problem, in the form
    "<where>: <what was expected>; received <what was found>", so the GUI and CLI can show it as is.
    """


class ImportCancelled(Exception):  # noqa: N818 - the contract's name: a cancellation, not an error
    """Raised by an import's ``progress`` callback to stop it; importers let it through and leave nothing behind.

    Deliberately not a ``DatasetError``: a person pressing Cancel is not bad data, and code that shows
    ``DatasetError`` messages must not show this one.
    """


class DatasetFileError(DatasetError):
    """A DatasetError about one file: ``engine.user_files``' error factory for this package.

    A class rather than a ``lambda path, problem: DatasetError(...)`` adapter, so that
    ``user_files.reading`` recognises it as the caller's own error and lets it through unwrapped.
    """

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
