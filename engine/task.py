"""The task a spec trains for (its "loss" and "target" keys, docs/spec.md) checked against its design.

``engine.shapes.analyse_spec`` calls ``task_problems`` once the shapes are known, so a design that cannot be
trained the way its task says is refused like any other design problem, naming the output node:

    binary cross-entropy on an output that does not end in a sigmoid            rule "loss"
    cross-entropy with the input as the target (an autoencoder reads no classes)   rule "loss"
    the input as the target, with an output of another size                       rule "target shape"
"""

from __future__ import annotations

import math

from engine.errors import SpecError
from engine.output_head import SHAPE_ONLY_TYPES


def ending_node(graph, node_id: str) -> str:
    """The node whose values ``node_id`` outputs, going back through layers that only rearrange values
    (Flatten, Reshape): where a final sigmoid may sit (``engine.output_head``)."""
    while graph.nodes[node_id].get("type") in SHAPE_ONLY_TYPES and len(graph.inputs[node_id]) == 1:
        node_id = graph.inputs[node_id][0]
    return node_id


def _describe(shape) -> str:
    size = math.prod(shape)
    return f"{'x'.join(map(str, shape))} ({size} value{'s' * (size != 1)})"


def task_problems(graph, report) -> list[SpecError]:
    """What in the design does not fit ``graph.loss`` / ``graph.target``; each names the output node."""
    if not graph.order:
        return []
    if any(problem.rule in ("loss", "target") and problem.node is None for problem in graph.problems):
        return []  # a key that is no loss or target at all is the problem to show, not what its default implies
    output_id = graph.order[-1]
    problems = []
    if graph.target == "input" and graph.loss == "cross_entropy":
        problems.append(SpecError(
            "cross-entropy compares the output with class labels, but the target is the input; use "
            "binary_cross_entropy (an output in [0, 1] ending in a sigmoid) or mean_squared_error", output_id, "loss"))
    if graph.loss == "binary_cross_entropy":
        end = ending_node(graph, output_id)
        activation = graph.nodes[end].get("activation") or "linear"
        if activation != "sigmoid":
            where = "" if end == output_id else f" (its values come from {end})"
            problems.append(SpecError(
                f"binary cross-entropy reads probabilities, so the output must end in a sigmoid{where}; it ends in "
                f"{activation!r}: set the last layer's activation to \"sigmoid\" or add an Activation sigmoid, or "
                f"use mean_squared_error", output_id, "loss"))
    if graph.target == "input":
        inputs = graph.input_ids
        if len(inputs) == 1 and inputs[0] in report.nodes and output_id in report.nodes:
            input_shape = report.nodes[inputs[0]].output_shape
            output_shape = report.nodes[output_id].output_shape
            if math.prod(input_shape) != math.prod(output_shape):
                problems.append(SpecError(
                    f"the target is the input, {_describe(input_shape)}, but the output is {_describe(output_shape)}; "
                    f"the output must hold as many values as the input (e.g. Dense {math.prod(input_shape)} then "
                    f"Reshape to {list(input_shape)})", output_id, "target shape"))
    return problems
