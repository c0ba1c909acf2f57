"""Shape inference on a spec alone: per node output shape, parameters, activation memory and FLOPs.

No weights are allocated, so the canvas can call this on every edit.

    >>> info = infer_shapes({"nodes": [{"id": "in", "type": "Input", "shape": [784]},
    ...                                {"id": "fc", "type": "Dense", "units": 10}]})
    >>> info["fc"].output_shape, info["fc"].params
    ((10,), 7850)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from engine import design_limits
from engine.design_limits import BYTES_PER_VALUE
from engine.errors import SpecError
from engine.layers import make_layer
from engine.spec import parse_graph
from engine.task import task_problems


@dataclass(frozen=True)
class NodeInfo:
    """What one node does to one example (no batch axis in shapes)."""

    id: str
    type: str
    input_shapes: tuple[tuple[int, ...], ...]
    output_shape: tuple[int, ...]
    params: int
    flops: int  # forward, one example; a multiply-add counts 2

    @property
    def output_size(self) -> int:
        """How many values this node's output holds for one example."""
        return _size(self.output_shape)

    @property
    def activation_bytes(self) -> int:
        """The bytes of this node's output for one example, in float32."""
        return self.output_size * BYTES_PER_VALUE


@dataclass
class ShapeReport(Mapping):
    """NodeInfo by node id, in run order, plus totals and (in collecting mode) the problems found.

    A node whose shape could not be worked out (invalid itself, or downstream of an invalid node)
    is absent from the mapping; ``errors`` says why for the invalid ones.
    """

    nodes: dict[str, NodeInfo]
    order: list[str]
    errors: list[SpecError] = field(default_factory=list)
    loss: str = "cross_entropy"  # the spec's task (engine.task): what data_fit_problem checks the data against
    target: str = "labels"

    def __getitem__(self, node_id):
        return self.nodes[node_id]

    def __iter__(self):
        return iter(self.nodes)

    def __len__(self):
        return len(self.nodes)

    @property
    def total_params(self) -> int:
        return sum(n.params for n in self.nodes.values())

    @property
    def total_activation_bytes(self) -> int:
        return sum(n.activation_bytes for n in self.nodes.values())

    @property
    def total_flops(self) -> int:
        return sum(n.flops for n in self.nodes.values())

    @property
    def input_node(self) -> NodeInfo | None:
        """The network's one Input node, when there is exactly one whose shape is known."""
        inputs = [node for node in self.nodes.values() if node.type == "Input"]
        return inputs[0] if len(inputs) == 1 else None

    @property
    def output_shape(self) -> tuple[int, ...] | None:
        last = self.order[-1] if self.order else None
        return self.nodes[last].output_shape if last in self.nodes else None

    @property
    def valid(self) -> bool:
        return not self.errors

    def errors_by_node(self) -> dict[str | None, list[SpecError]]:
        grouped: dict[str | None, list[SpecError]] = {}
        for error in self.errors:
            grouped.setdefault(error.node, []).append(error)
        return grouped


def _size(shape) -> int:
    size = 1
    for d in shape:
        size *= d
    return size


def infer_shapes(spec, collect_errors: bool = False) -> ShapeReport:
    """Shapes and costs of every node; raises SpecError unless ``collect_errors`` is set.

    In collecting mode every problem is gathered in ``report.errors`` (each naming its node) and
    nodes that can be worked out still are — the canvas marks the rest. A design whose memory cannot
    fit in this computer (a node's parameters, its output for one example, or all the parameters with
    their gradients) is a problem too, with the rule "memory" (``engine.design_limits``).
    """
    return analyse_spec(spec, collect_errors)[2]


def analyse_spec(spec, collect_errors: bool = False):
    """(graph, layers, report): ``infer_shapes`` with the parsed graph and the layers it made.

    ``Network`` builds from these, so a spec is parsed and each layer made once per network, not twice.
    ``layers`` maps each node id whose settings were valid to its (unbuilt) layer.
    """
    graph = parse_graph(spec, collect=collect_errors)
    report = ShapeReport({}, list(graph.order), list(graph.problems), graph.loss, graph.target)
    layers = {}
    limit = design_limits.memory_limit_bytes()

    def problem(error: SpecError) -> None:
        if not collect_errors:
            raise error
        report.errors.append(error)

    for node_id in graph.order:
        try:
            layer = layers[node_id] = make_layer(graph.nodes[node_id])
            sources = graph.inputs[node_id]
            if any(s not in report.nodes for s in sources):
                continue  # an input is unknown; its own error is already recorded
            if layer.max_inputs is not None and len(sources) > layer.max_inputs:
                continue  # too many inputs: recorded by parse_graph
            if len(sources) < layer.min_inputs:
                continue
            input_shapes = tuple(report.nodes[s].output_shape for s in sources)
            output_shape = tuple(layer.output_shape(list(input_shapes)))
            params = sum(_size(p.shape) for p in layer.param_shapes(list(input_shapes)).values())
            flops = layer.flops(list(input_shapes), output_shape)
        except SpecError as error:
            problem(error)
            continue
        info = NodeInfo(node_id, layer.type_name, input_shapes, output_shape, params, flops)
        too_big = design_limits.node_memory_error(info, limit)
        if too_big is not None:
            problem(too_big)
            continue  # invalid, as a node that breaks a rule: absent, and the nodes after it unknown
        report.nodes[node_id] = info
    too_big = design_limits.network_memory_error(report.nodes.values(), limit)
    if too_big is not None and not any(e.rule == design_limits.MEMORY_RULE for e in report.errors):
        problem(too_big)  # (once per design: a node already too big says enough)
    for error in task_problems(graph, report):  # the loss and target against the design (rules "loss", ...)
        problem(error)
    return graph, layers, report
