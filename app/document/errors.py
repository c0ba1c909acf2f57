"""Named errors for edits the document refuses; each message names the nodes and the rule.

The model raises them before changing anything, so a refused edit leaves the document as it was.
"""

from __future__ import annotations


class DocumentError(ValueError):
    """An edit the network document refuses."""


class UnknownNodeError(DocumentError):
    def __init__(self, node_id: str):
        self.node_id = node_id
        super().__init__(f"there is no node {node_id!r} in this network")


class DuplicateNodeIdError(DocumentError):
    def __init__(self, node_id: str):
        self.node_id = node_id
        super().__init__(f"a node with the id {node_id!r} already exists; node ids must be unique")


class InvalidNodeIdError(DocumentError):
    def __init__(self, node_id):
        self.node_id = node_id
        super().__init__(f"a node id must be a non-empty name without surrounding spaces; received {node_id!r}")


class SelfConnectionError(DocumentError):
    def __init__(self, node_id: str):
        self.node_id = node_id
        super().__init__(f"{node_id}: a node cannot feed itself")


class DuplicateConnectionError(DocumentError):
    def __init__(self, source: str, target: str):
        self.source, self.target = source, target
        super().__init__(f"{source} -> {target} is already connected")


class UnknownConnectionError(DocumentError):
    def __init__(self, source: str, target: str):
        self.source, self.target = source, target
        super().__init__(f"there is no connection {source} -> {target}")


class CycleError(DocumentError):
    """Connecting would make data flow in a circle; ``path`` is the existing route from target back to source."""

    def __init__(self, source: str, target: str, path: list[str]):
        self.source, self.target, self.path = source, target, path
        super().__init__(f"{target} already feeds {source} ({' -> '.join(path)}); connecting {source} -> {target} "
                         f"would form a cycle")


class InputTakesNoInputsError(DocumentError):
    def __init__(self, node_id: str):
        self.node_id = node_id
        super().__init__(f"{node_id}: an Input node is where data enters; it cannot have incoming connections")


class IncompatibleConnectionError(DocumentError):
    """The connection is structurally fine but shape inference says the target cannot take it."""

    def __init__(self, source: str, target: str, reason: str):
        self.source, self.target, self.reason = source, target, reason
        super().__init__(f"cannot connect {source} -> {target}: {reason}")
