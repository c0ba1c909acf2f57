"""Undo commands: each calls NetworkDocument methods and nothing else; the scene follows the model's signals.

The editor checks an edit before pushing its command (a command's ``redo`` runs inside Qt, where an
exception could not stop the push), so ``redo`` here may assume the edit is allowed.
"""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from app.document.model import NetworkDocument

MOVE_COMMAND_ID = 1
FIELDS_COMMAND_ID = 2


class AddNodeCommand(QUndoCommand):
    def __init__(self, document: NetworkDocument, node: dict, position, index: int | None = None):
        super().__init__(f"Add {node['id']}")
        self.document, self.node, self.position, self.index = document, node, position, index

    def redo(self):
        self.document.add_node(self.node, self.position, self.index)

    def undo(self):
        self.document.remove_node(self.node["id"])


class RemoveNodeCommand(QUndoCommand):
    """Removes the node with its connections; undo puts both back exactly where they were."""

    def __init__(self, document: NetworkDocument, node_id: str):
        super().__init__(f"Delete {node_id}")
        self.document, self.node_id = document, node_id
        self.removed = None

    def redo(self):
        self.removed = self.document.remove_node(self.node_id)

    def undo(self):
        self.document.restore_node(*self.removed)


class ConnectCommand(QUndoCommand):
    def __init__(self, document: NetworkDocument, source: str, target: str, index: int | None = None):
        super().__init__(f"Connect {source} → {target}")
        self.document, self.source, self.target, self.index = document, source, target, index

    def redo(self):
        self.document.connect(self.source, self.target, self.index)

    def undo(self):
        self.document.disconnect(self.source, self.target)


class DisconnectCommand(QUndoCommand):
    def __init__(self, document: NetworkDocument, source: str, target: str):
        super().__init__(f"Disconnect {source} → {target}")
        self.document, self.source, self.target = document, source, target
        self.index = None

    def redo(self):
        self.index = self.document.disconnect(self.source, self.target)

    def undo(self):
        self.document.connect(self.source, self.target, self.index)


class MoveNodesCommand(QUndoCommand):
    """Moves nodes to new positions; consecutive moves of the same nodes merge into one undo step."""

    def __init__(self, document: NetworkDocument, moves: dict, text: str = "", mergeable: bool = True):
        # moves: node id -> (old position, new position)
        super().__init__(text or (f"Move {next(iter(moves))}" if len(moves) == 1 else f"Move {len(moves)} nodes"))
        self.document, self.moves, self.mergeable = document, dict(moves), mergeable

    def id(self):
        return MOVE_COMMAND_ID if self.mergeable else -1

    def mergeWith(self, other) -> bool:
        if not isinstance(other, MoveNodesCommand) or not other.mergeable or set(other.moves) != set(self.moves):
            return False
        self.moves = {node: (self.moves[node][0], other.moves[node][1]) for node in self.moves}
        return True

    def redo(self):
        for node, (_, new) in self.moves.items():
            self.document.move_node(node, new)

    def undo(self):
        for node, (old, _) in self.moves.items():
            self.document.move_node(node, old)


class SetFieldsCommand(QUndoCommand):
    """Changes a node's settings; repeated edits of the same settings (a spin box stepping) merge."""

    def __init__(self, document: NetworkDocument, node_id: str, changes: dict):
        names = ", ".join(changes)
        super().__init__(f"Change {node_id} {names}")
        self.document, self.node_id, self.changes = document, node_id, dict(changes)
        self.previous = None

    def id(self):
        return FIELDS_COMMAND_ID

    def mergeWith(self, other) -> bool:
        same_target = isinstance(other, SetFieldsCommand) and other.node_id == self.node_id
        if not same_target or set(other.changes) != set(self.changes):
            return False
        self.changes = dict(other.changes)  # keep our ``previous``: undo goes back to before the first edit
        return True

    def redo(self):
        previous = self.document.set_node_fields(self.node_id, self.changes)
        if self.previous is None:
            self.previous = previous

    def undo(self):
        self.document.set_node_fields(self.node_id, self.previous)


class SetSpecKeysCommand(QUndoCommand):
    """Changes top-level spec keys (the task: "loss", "target"); undo puts back what each was, or its absence."""

    def __init__(self, document: NetworkDocument, changes: dict, text: str):
        super().__init__(text)
        self.document, self.changes = document, dict(changes)
        self.previous = None

    def redo(self):
        previous = self.document.set_spec_keys(self.changes)
        if self.previous is None:
            self.previous = previous

    def undo(self):
        self.document.set_spec_keys(self.previous)


class RenameNodeCommand(QUndoCommand):
    def __init__(self, document: NetworkDocument, old_id: str, new_id: str):
        super().__init__(f"Rename {old_id} to {new_id}")
        self.document, self.old_id, self.new_id = document, old_id, new_id

    def redo(self):
        self.document.rename_node(self.old_id, self.new_id)

    def undo(self):
        self.document.rename_node(self.new_id, self.old_id)


class MacroCommand(QUndoCommand):
    """Several commands as one undo step: redone in order, undone in reverse.

    Kept in a Python list rather than as Qt child commands, so PySide never owns (and frees) them.
    """

    def __init__(self, text: str, commands: list[QUndoCommand]):
        super().__init__(text)
        self.commands = list(commands)

    def redo(self):
        for command in self.commands:
            command.redo()

    def undo(self):
        for command in reversed(self.commands):
            command.undo()
