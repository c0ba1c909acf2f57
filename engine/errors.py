"""Errors the engine raises for bad designs and bad files, with messages that name the culprit."""

from __future__ import annotations


class SpecError(ValueError):
    """A network spec is invalid. ``node`` names the node at fault (None for whole-spec problems).

    The message always says which node, which rule, and what was received, e.g.
    ``conv2: kernel 5x5 does not fit a 3x3 input with padding 'valid'``.
    """

    def __init__(self, message: str, node: str | None = None, rule: str | None = None):
        self.node = node
        self.rule = rule
        self.detail = message
        super().__init__(f"{node}: {message}" if node else message)


class UserFileError(ValueError):
    """A file a user gave us cannot be read; ``path`` names it and ``problem`` says why, for a person."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ModelFileError(UserFileError):
    """A model or checkpoint file cannot be read: missing, truncated, tampered or of an unknown format."""


def describe_error(exc: BaseException) -> str:
    """An unexpected error in words for a person: its message, never its Python class name.

    >>> describe_error(KeyError("config"))
    "missing entry 'config'"
    """
    if isinstance(exc, MemoryError):
        return "out of memory"
    if isinstance(exc, KeyError):
        return f"missing entry {exc.args[0]!r}" if exc.args else "a missing entry"
    if isinstance(exc, RecursionError):
        return "the data is nested too deeply"
    if isinstance(exc, OSError) and exc.strerror:  # "No space left on device", not "[Errno 28] No space..."
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror[:1].lower()}{exc.strerror[1:]}{where}"
    text = str(exc).strip()
    return text or "an unexpected error"
