"""NetworkDocument: the network being designed — a spec, node positions and training settings.

A QObject with no graphics (orange-canvas-core's ``Scheme``). Everything changes through its methods,
which check the edit first (raising a named error from ``app.document.errors`` and changing nothing),
then change the data, then announce it. The scene, the inspector and the summary only follow signals;
undo commands call these methods and nothing else.

    doc = NetworkDocument()
    doc.add_node({"id": "input", "type": "Input", "shape": [784]}, (0, 0))
    doc.add_node({"id": "dense1", "type": "Dense", "units": 10}, (0, 100))
    doc.connect("input", "dense1")
    doc.report["dense1"].output_shape   # (10,)
"""

from __future__ import annotations

import copy

from PySide6.QtCore import QObject, Signal

import engine
from app.document import errors
from app.document.analysis import messages_for, new_problem_at
from app.document.networks import design_report

# Passed as a field's new value to remove the field, so the layer's default applies again.
REMOVE_FIELD = object()

DEFAULT_TRAINING_SETTINGS = {
    # The seed CNN's recipe (resources/examples/seed-cnn.json); the names are engine.training.TrainingConfig's.
    "dataset": "mnist",
    "epochs": 10,
    "batch_size": 50,
    "optimizer": {"name": "adam", "lr": 1e-4},
    "seed": 0,
}


def default_training_settings() -> dict:
    return copy.deepcopy(DEFAULT_TRAINING_SETTINGS)


# The task, as optional top-level spec keys (docs/spec.md): what each means when the spec leaves it out.
TASK_DEFAULTS = {"loss": "cross_entropy", "target": "labels"}
# Top-level keys that are the graph itself or its identity: ``set_spec_keys`` leaves them to their own methods.
_GRAPH_KEYS = {"format", "version", "name", "nodes", "edges"}


class NetworkDocument(QObject):
    # Signals say what happened, in the past tense; they carry ids, and listeners ask the model for the rest.
    node_added = Signal(str)
    node_removed = Signal(str)
    node_changed = Signal(str)  # its settings
    node_renamed = Signal(str, str)  # old id, new id
    node_moved = Signal(str)
    edge_added = Signal(str, str)
    edge_removed = Signal(str, str)
    analysis_changed = Signal(object)  # the new engine.ShapeReport, after any change to the spec
    name_changed = Signal(str)
    training_settings_changed = Signal(dict)
    task_changed = Signal(dict)  # the new ``task`` (the spec's "loss" and "target"), after an edit or a load
    reset = Signal()  # everything was replaced (a file was opened): rebuild from scratch

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._name = "untitled"
        self._extra: dict = {}  # other top-level spec keys (e.g. "description"), kept as they were
        self._nodes: dict[str, dict] = {}
        self._edges: list[tuple[str, str]] = []
        self._positions: dict[str, tuple[float, float]] = {}
        self._training_settings = default_training_settings()
        self._report = design_report(self.spec())

    # -- reading --------------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @property
    def report(self) -> engine.ShapeReport:
        """The latest shape inference of the whole spec."""
        return self._report

    @property
    def training_settings(self) -> dict:
        return copy.deepcopy(self._training_settings)

    @property
    def task(self) -> dict:
        """What the network is trained to do: the spec's "loss" and "target", each its default when absent."""
        return {key: self._extra.get(key, default) for key, default in TASK_DEFAULTS.items()}

    def spec(self) -> dict:
        """The network as a ``layerlab-network`` spec (a fresh copy; edges always spelled out)."""
        spec = {"format": engine.SPEC_FORMAT, "version": engine.SPEC_VERSION, "name": self._name}
        spec.update(copy.deepcopy(self._extra))
        spec["nodes"] = [copy.deepcopy(node) for node in self._nodes.values()]
        spec["edges"] = [[source, target] for source, target in self._edges]
        return spec

    def node_ids(self) -> list[str]:
        return list(self._nodes)

    def has_node(self, node_id: str) -> bool:
        return node_id in self._nodes

    def node(self, node_id: str) -> dict:
        return copy.deepcopy(self._require(node_id))

    def node_type(self, node_id: str) -> str:
        return self._require(node_id)["type"]

    def edges(self) -> list[tuple[str, str]]:
        return list(self._edges)

    def inputs_of(self, node_id: str) -> list[str]:
        return [source for source, target in self._edges if target == node_id]

    def consumers_of(self, node_id: str) -> list[str]:
        return [target for source, target in self._edges if source == node_id]

    def position(self, node_id: str) -> tuple[float, float]:
        self._require(node_id)
        return self._positions[node_id]

    def positions(self) -> dict[str, tuple[float, float]]:
        return dict(self._positions)

    def problems_of(self, node_id: str) -> list[str]:
        return messages_for(self._report, node_id)

    def connection_problem(self, source: str, target: str) -> str | None:
        """Why ``source -> target`` cannot be made (structure or shapes), or None if it can."""
        try:
            self.check_connection(source, target)
        except errors.DocumentError as error:
            return str(error)
        return new_problem_at(self.spec(), self._report, source, target)

    # -- whole document ---------------------------------------------------------------------------------

    def load(self, spec: dict, positions: dict, training_settings: dict | None = None) -> None:
        """Replace everything with ``spec`` (already checked by the caller) laid out at ``positions``."""
        spec = copy.deepcopy(spec)
        nodes = spec.pop("nodes")
        edges = spec.pop("edges", None)
        if edges is None:  # the spec chains its nodes in list order
            ids = [node["id"] for node in nodes]
            edges = list(zip(ids, ids[1:], strict=False))
        for key in ("format", "version"):
            spec.pop(key, None)
        self._name = str(spec.pop("name", "untitled"))
        self._extra = spec
        self._nodes = {node["id"]: node for node in nodes}
        self._edges = [(source, target) for source, target in edges]
        self._positions = {node_id: tuple(positions[node_id]) for node_id in self._nodes}
        self._training_settings = copy.deepcopy(training_settings or default_training_settings())
        self._report = design_report(self.spec())
        self.reset.emit()
        self.analysis_changed.emit(self._report)
        self.task_changed.emit(self.task)

    def set_name(self, name: str) -> None:
        self._name = name
        self.name_changed.emit(name)

    def set_training_settings(self, settings: dict) -> None:
        self._training_settings = copy.deepcopy(settings)
        self.training_settings_changed.emit(self.training_settings)

    def set_spec_keys(self, changes: dict) -> dict:
        """Change top-level spec keys beside the graph (the task's "loss" and "target"; ``REMOVE_FIELD`` removes
        one, so its default applies again); returns the previous values in the same form, for undo."""
        graph_keys = _GRAPH_KEYS & set(changes)
        if graph_keys:
            raise errors.DocumentError(f"{sorted(graph_keys)[0]!r} is part of the graph, not a setting of the spec")
        previous = {key: copy.deepcopy(self._extra[key]) if key in self._extra else REMOVE_FIELD for key in changes}
        for key, value in changes.items():
            if value is REMOVE_FIELD:
                self._extra.pop(key, None)
            else:
                self._extra[key] = copy.deepcopy(value)
        self._spec_changed()  # first: who follows the task may read the new report (its problems)
        self.task_changed.emit(self.task)
        return previous

    # -- nodes --------------------------------------------------------------------------------------------

    def add_node(self, node: dict, position: tuple[float, float], index: int | None = None) -> None:
        node_id = node.get("id")
        self.check_new_id(node_id)
        items = list(self._nodes.items())
        index = len(items) if index is None else index
        items.insert(index, (node_id, copy.deepcopy(node)))
        self._nodes = dict(items)
        self._positions[node_id] = (float(position[0]), float(position[1]))
        self.node_added.emit(node_id)
        self._spec_changed()

    def remove_node(self, node_id: str) -> tuple[int, dict, tuple[float, float], list[tuple[int, str, str]]]:
        """Remove the node and its connections; returns what ``restore_node`` needs to put it all back."""
        node = self._require(node_id)
        removed_edges = []
        for source, target in [edge for edge in self._edges if node_id in edge]:
            removed_edges.append((self._edges.index((source, target)), source, target))
            self._edges.remove((source, target))
            self.edge_removed.emit(source, target)
        index = list(self._nodes).index(node_id)
        del self._nodes[node_id]
        position = self._positions.pop(node_id)
        self.node_removed.emit(node_id)
        self._spec_changed()
        return index, node, position, removed_edges

    def restore_node(self, index: int, node: dict, position, removed_edges) -> None:
        """Undo ``remove_node``: the node back in its place, and its connections at their old positions."""
        self.add_node(node, position, index)
        for edge_index, source, target in reversed(removed_edges):
            self.connect(source, target, edge_index)

    def set_node_fields(self, node_id: str, changes: dict) -> dict:
        """Change settings (``REMOVE_FIELD`` removes one); returns the previous values in the same form."""
        node = self._require(node_id)
        protected = {"id", "type"} & set(changes)
        if protected:
            raise errors.DocumentError(f"{node_id}: {sorted(protected)[0]!r} is not a setting; "
                                       f"rename the node or replace it instead")
        # (the marker itself, not a deep copy of it: a copy would be kept as a value by undo)
        previous = {field: copy.deepcopy(node[field]) if field in node else REMOVE_FIELD for field in changes}
        for field, value in changes.items():
            if value is REMOVE_FIELD:
                node.pop(field, None)
            else:
                node[field] = copy.deepcopy(value)
        self.node_changed.emit(node_id)
        self._spec_changed()
        return previous

    def rename_node(self, old_id: str, new_id: str) -> None:
        self._require(old_id)
        self.check_new_id(new_id)
        self._nodes = {(new_id if key == old_id else key): node for key, node in self._nodes.items()}
        self._nodes[new_id]["id"] = new_id
        self._positions[new_id] = self._positions.pop(old_id)
        self._edges = [tuple(new_id if end == old_id else end for end in edge) for edge in self._edges]
        self.node_renamed.emit(old_id, new_id)
        self._spec_changed()

    def move_node(self, node_id: str, position: tuple[float, float]) -> None:
        self._require(node_id)
        self._positions[node_id] = (float(position[0]), float(position[1]))
        self.node_moved.emit(node_id)

    # -- connections --------------------------------------------------------------------------------------

    def connect(self, source: str, target: str, index: int | None = None) -> int:
        """Add the edge (at ``index`` in the edge list: the order of a merge node's inputs); returns its index."""
        self.check_connection(source, target)
        index = len(self._edges) if index is None else index
        self._edges.insert(index, (source, target))
        self.edge_added.emit(source, target)
        self._spec_changed()
        return index

    def disconnect(self, source: str, target: str) -> int:
        """Remove the edge; returns the index it had, for ``connect`` to put it back."""
        if (source, target) not in self._edges:
            raise errors.UnknownConnectionError(source, target)
        index = self._edges.index((source, target))
        del self._edges[index]
        self.edge_removed.emit(source, target)
        self._spec_changed()
        return index

    # -- checks -------------------------------------------------------------------------------------------

    def _require(self, node_id: str) -> dict:
        try:
            return self._nodes[node_id]
        except KeyError:
            raise errors.UnknownNodeError(node_id) from None

    def check_new_id(self, node_id) -> None:
        """Raise InvalidNodeIdError or DuplicateNodeIdError unless ``node_id`` can name a new node."""
        if not isinstance(node_id, str) or not node_id.strip() or node_id != node_id.strip():
            raise errors.InvalidNodeIdError(node_id)
        if node_id in self._nodes:
            raise errors.DuplicateNodeIdError(node_id)

    def check_connection(self, source: str, target: str) -> None:
        """Raise the named error that forbids ``source -> target`` structurally (shapes aside)."""
        self._require(source)
        target_node = self._require(target)
        if source == target:
            raise errors.SelfConnectionError(source)
        if (source, target) in self._edges:
            raise errors.DuplicateConnectionError(source, target)
        if target_node["type"] == "Input":
            raise errors.InputTakesNoInputsError(target)
        path = self._path(target, source)
        if path:
            raise errors.CycleError(source, target, path)

    def _path(self, start: str, goal: str) -> list[str]:
        """A route along the edges from ``start`` to ``goal`` ([] if there is none)."""
        came_from = {start: None}
        frontier = [start]
        while frontier:
            node = frontier.pop(0)
            if node == goal:
                route = []
                while node is not None:
                    route.append(node)
                    node = came_from[node]
                return route[::-1]
            for nxt in self.consumers_of(node):
                if nxt not in came_from:
                    came_from[nxt] = node
                    frontier.append(nxt)
        return []

    def _spec_changed(self) -> None:
        self._report = design_report(self.spec())
        self.analysis_changed.emit(self._report)
