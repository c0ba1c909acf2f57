"""DocumentEditor: what a person can do to the network, each as one undoable step on a QUndoStack.

It checks an edit against the model first (raising the model's named errors, nothing pushed), then
pushes commands that call model methods. The canvas and the window call this; tests can too, with
no widget anywhere:

    editor = DocumentEditor()
    editor.open_spec(spec)
    dense = editor.add_node("Dense", (0, 300))
    editor.connect("flatten", dense)          # IncompatibleConnectionError if the shapes forbid it
    editor.undo_stack.undo()
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from app.document import clipboard, commands, errors
from app.document.layout import ROW_PITCH, tidy_layout
from app.document.model import REMOVE_FIELD, TASK_DEFAULTS, NetworkDocument
from app.document.new_nodes import new_node

PASTE_OFFSET = (40.0, 40.0)
TASK_WORDS = {"cross_entropy": "cross-entropy", "mean_squared_error": "mean squared error",
              "binary_cross_entropy": "binary cross-entropy", "labels": "the labels", "input": "the input"}


class TrainingSettingsCommand(QUndoCommand):
    def __init__(self, document: NetworkDocument, settings: dict):
        super().__init__("Change training settings")
        self.document, self.settings, self.previous = document, settings, document.training_settings

    def redo(self):
        self.document.set_training_settings(self.settings)

    def undo(self):
        self.document.set_training_settings(self.previous)


class DocumentEditor(QObject):
    modified_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.document = NetworkDocument(self)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._clean_changed)

    # -- the document as a whole (not undoable: opening a file starts a new history) -------------------

    def open_spec(self, spec: dict, positions: dict | None = None, training_settings: dict | None = None) -> None:
        """Show ``spec``; nodes without a position are laid out tidily (all of them, if any lacks one)."""
        positions = dict(positions or {})
        ids = [node["id"] for node in spec["nodes"]]
        if any(node_id not in positions for node_id in ids):
            edges = spec.get("edges")
            edges = list(zip(ids, ids[1:], strict=False)) if edges is None else [tuple(e) for e in edges]
            positions = tidy_layout(ids, edges)
        self.undo_stack.clear()
        self.document.load(spec, positions, training_settings)
        self.undo_stack.setClean()

    def _clean_changed(self, clean: bool) -> None:
        self.modified_changed.emit(not clean)

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    def mark_saved(self) -> None:
        self.undo_stack.setClean()

    def set_training_settings(self, settings: dict) -> None:
        if settings != self.document.training_settings:
            self.undo_stack.push(TrainingSettingsCommand(self.document, settings))

    def set_task(self, changes: dict) -> None:
        """Set the task's "loss" and/or "target" (one undo step); a default value takes the key out of the spec,
        which then reads as before the task keys existed. Values are the engine's to judge: a loss the design
        cannot have is a design problem (rule "loss"), shown like any other."""
        unknown = set(changes) - set(TASK_DEFAULTS)
        if unknown:
            raise errors.DocumentError(f"{sorted(unknown)[0]!r} is not part of the task (loss, target)")
        current = self.document.task
        wanted = {key: value for key, value in changes.items() if value != current[key]}
        if not wanted:
            return
        spelled = {key: REMOVE_FIELD if value == TASK_DEFAULTS[key] else value for key, value in wanted.items()}
        text = "Change " + " and ".join(f"the {key} to {TASK_WORDS.get(value, value)}" for key, value in wanted.items())
        self.undo_stack.push(commands.SetSpecKeysCommand(self.document, spelled, text))

    # -- nodes --------------------------------------------------------------------------------------------

    def add_node(self, layer_type: str, position) -> str:
        """A new ``layer_type`` node at ``position``, unconnected; returns its id."""
        node = new_node(layer_type, self.document.node_ids())
        self.undo_stack.push(commands.AddNodeCommand(self.document, node, position))
        return node["id"]

    def add_node_after(self, layer_type: str, after: str | None, fallback_position=(0.0, 0.0)) -> str:
        """Add ``layer_type`` below ``after`` and feed it from there; what ``after`` fed now reads the new node.

        With no ``after``, the new node follows the network's output (the one node nothing reads), or
        sits at ``fallback_position`` when there is no single output. Nodes below move down a row.
        """
        document = self.document
        if after is None:
            outputs = [n for n in document.node_ids() if not document.consumers_of(n)]
            after = outputs[0] if len(outputs) == 1 else None
        node = new_node(layer_type, document.node_ids())
        if after is None or layer_type == "Input":
            self.undo_stack.push(commands.AddNodeCommand(document, node, fallback_position))
            return node["id"]
        x, y = document.position(after)
        below = self._downstream(after)
        steps = [commands.MoveNodesCommand(
            document, {n: (document.position(n), (document.position(n)[0], document.position(n)[1] + ROW_PITCH))
                       for n in below}, mergeable=False)] if below else []
        steps.append(commands.AddNodeCommand(document, node, (x, y + ROW_PITCH)))
        steps += self._reroute_outputs(after, node["id"])
        steps.append(commands.ConnectCommand(document, after, node["id"]))
        self.undo_stack.push(commands.MacroCommand(f"Add {node['id']} after {after}", steps))
        return node["id"]

    def insert_on_edge(self, layer_type: str, edge: tuple[str, str], position) -> str:
        """Add ``layer_type`` at ``position`` in the middle of ``edge``: source -> new -> target."""
        source, target = edge
        if (source, target) not in self.document.edges():
            raise errors.UnknownConnectionError(source, target)
        if layer_type == "Input":
            raise errors.InputTakesNoInputsError("the new Input")
        node = new_node(layer_type, self.document.node_ids())
        index = self.document.edges().index(edge)
        self.undo_stack.push(commands.MacroCommand(f"Insert {node['id']} between {source} and {target}", [
            commands.AddNodeCommand(self.document, node, position),
            commands.DisconnectCommand(self.document, source, target),
            commands.ConnectCommand(self.document, source, node["id"]),
            commands.ConnectCommand(self.document, node["id"], target, index),
        ]))
        return node["id"]

    def insert_existing_on_edge(self, node_id: str, edge: tuple[str, str], position) -> None:
        """Move an unconnected node to ``position`` in the middle of ``edge``: source -> node -> target."""
        source, target = edge
        document = self.document
        if (source, target) not in document.edges():
            raise errors.UnknownConnectionError(source, target)
        if document.inputs_of(node_id) or document.consumers_of(node_id):
            raise errors.DocumentError(f"{node_id} is already connected; only a loose node can be dropped "
                                       f"into a connection")
        if document.node_type(node_id) == "Input":
            raise errors.InputTakesNoInputsError(node_id)
        index = document.edges().index(edge)
        self.undo_stack.push(commands.MacroCommand(f"Insert {node_id} between {source} and {target}", [
            commands.MoveNodesCommand(document, {node_id: (document.position(node_id), tuple(position))},
                                      mergeable=False),
            commands.DisconnectCommand(document, source, target),
            commands.ConnectCommand(document, source, node_id),
            commands.ConnectCommand(document, node_id, target, index),
        ]))

    def set_fields(self, node_id: str, changes: dict) -> None:
        current = self.document.node(node_id)  # UnknownNodeError before anything is pushed
        if any(current.get(field, REMOVE_FIELD) != value for field, value in changes.items()):
            self.undo_stack.push(commands.SetFieldsCommand(self.document, node_id, changes))

    def rename(self, old_id: str, new_id: str) -> None:
        if new_id == old_id:
            return
        self.document.node(old_id)  # UnknownNodeError before anything is pushed
        self.document.check_new_id(new_id)
        self.undo_stack.push(commands.RenameNodeCommand(self.document, old_id, new_id))

    def move_nodes(self, positions: dict) -> None:
        """Record where nodes were dragged to (one undo step; successive drags of the same nodes merge)."""
        moves = {n: (self.document.position(n), tuple(p)) for n, p in positions.items()
                 if tuple(p) != self.document.position(n)}
        if moves:
            self.undo_stack.push(commands.MoveNodesCommand(self.document, moves))

    def tidy(self) -> None:
        document = self.document
        target = tidy_layout(document.node_ids(), document.edges())
        moves = {n: (document.position(n), p) for n, p in target.items() if p != document.position(n)}
        if moves:
            self.undo_stack.push(commands.MoveNodesCommand(document, moves, "Tidy layout", mergeable=False))

    # -- connections --------------------------------------------------------------------------------------

    def connect(self, source: str, target: str) -> None:
        """Connect ``source`` to ``target`` if the model allows it and the target can take the shape."""
        self.document.check_connection(source, target)  # named structural errors (cycle, duplicate...)
        problem = self.document.connection_problem(source, target)
        if problem:
            raise errors.IncompatibleConnectionError(source, target, problem)
        self.undo_stack.push(commands.ConnectCommand(self.document, source, target))

    # -- several things at once ---------------------------------------------------------------------------

    def delete(self, node_ids=(), edges=()) -> None:
        """Delete nodes (with their connections) and connections, as one undo step."""
        node_ids = [n for n in self.document.node_ids() if n in set(node_ids)]
        edges = [e for e in self.document.edges() if e in set(map(tuple, edges)) and not set(e) & set(node_ids)]
        steps = [commands.DisconnectCommand(self.document, s, t) for s, t in edges]
        steps += [commands.RemoveNodeCommand(self.document, n) for n in node_ids]
        if not steps:
            return
        count = len(node_ids) + len(edges)
        what = node_ids[0] if len(node_ids) == 1 and not edges else f"{count} items"
        if len(edges) == 1 and not node_ids:
            what = f"{edges[0][0]} → {edges[0][1]}"
        self.undo_stack.push(commands.MacroCommand(f"Delete {what}", steps))

    def copy(self, node_ids) -> dict:
        return clipboard.copy_payload(self.document, node_ids)

    def paste(self, payload: dict, centre=None) -> list[str]:
        """Add copied nodes (fresh ids) centred on ``centre``, or just offset from the originals; returns the ids."""
        clipboard.check_payload(payload)
        if not payload["nodes"]:
            return []
        if centre is None:
            offset = PASTE_OFFSET
        else:
            cx, cy = clipboard.payload_centre(payload)
            offset = (centre[0] - cx, centre[1] - cy)
        nodes, edges, positions = clipboard.pasted_nodes(payload, self.document.node_ids(), offset)
        steps = [commands.AddNodeCommand(self.document, n, positions[n["id"]]) for n in nodes]
        steps += [commands.ConnectCommand(self.document, s, t) for s, t in edges]
        text = f"Paste {nodes[0]['id']}" if len(nodes) == 1 else f"Paste {len(nodes)} nodes"
        self.undo_stack.push(commands.MacroCommand(text, steps))
        return [n["id"] for n in nodes]

    def duplicate(self, node_ids) -> list[str]:
        payload = self.copy(node_ids)
        return self.paste(payload) if payload["nodes"] else []

    # -- helpers ------------------------------------------------------------------------------------------

    def _downstream(self, node_id: str) -> list[str]:
        seen, frontier = [], list(self.document.consumers_of(node_id))
        while frontier:
            node = frontier.pop(0)
            if node not in seen:
                seen.append(node)
                frontier += self.document.consumers_of(node)
        return seen

    def _reroute_outputs(self, source: str, new_source: str) -> list[QUndoCommand]:
        """Commands that make every reader of ``source`` read ``new_source`` instead, at the same input slot."""
        steps = []
        for edge_index, (s, target) in enumerate(self.document.edges()):
            if s == source:
                steps += [commands.DisconnectCommand(self.document, source, target),
                          commands.ConnectCommand(self.document, new_source, target, edge_index)]
        return steps

