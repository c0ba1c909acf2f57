"""The one error the datasets package raises for anything wrong with data, files or downloads."""

from __future__ import annotations


class DatasetError(Exception):
    """A data file, folder or download could not be used.

    The message always names the file (or dataset) and the problem, in the form
    "<where>: <what was expected>; received <what was found>", so the GUI and CLI can show it as is.
    """
