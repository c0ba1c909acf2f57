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


class ModelFileError(ValueError):
    """A model or checkpoint file cannot be read: missing, truncated, tampered or of an unknown format."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
