"""The one error a command raises to stop with a message for people instead of a traceback."""

from __future__ import annotations


class CommandError(Exception):
    """Printed by ``app.cli`` as one line on stderr, prefixed with the command; the process exits ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code

    @classmethod
    def for_file(cls, path, problem: str) -> CommandError:
        """The error for a file a command cannot use, "<path>: <problem>" (``engine.user_files``' ``error=``)."""
        return cls(f"{path}: {problem}")
