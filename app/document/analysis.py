"""Shape inference for the document: the engine's report, never an exception, and connection checks.

``engine.infer_shapes(spec, collect_errors=True)`` still raises for a spec with no graph at all (no
nodes); the canvas wants a report in every state, so such an error becomes the report's only problem.
"""

from __future__ import annotations

import engine

# The engine's rules (engine.spec) for a design still being wired: a node waiting for (more) inputs, and
# several loose ends. A new connection never makes either (it adds an input and removes an end), although
# their messages change with it ("received 0" becomes "received 1"; another node is named first).
STILL_WIRING_RULES = {"missing input", "one output"}


def analyse(spec: dict) -> engine.ShapeReport:
    """Every node's shapes and costs plus every problem, for any spec the document can hold."""
    try:
        return engine.infer_shapes(spec, collect_errors=True)
    except engine.SpecError as error:
        return engine.ShapeReport({}, [], [error])


def messages_for(report: engine.ShapeReport, node_id: str) -> list[str]:
    """The engine's messages about ``node_id`` (each starts with the id, as SpecError writes them)."""
    return [str(error) for error in report.errors if error.node == node_id]


def new_problem_at(spec: dict, report: engine.ShapeReport, source: str, target: str) -> str | None:
    """Why the edge ``source -> target`` would make ``target`` invalid, or None if it would not.

    Only problems the edge *introduces* at the target count: a design that is already invalid elsewhere,
    or a target already wrong for another reason, must not block a sensible connection; nor may a design
    still being wired (a merge waiting for its next input, loose ends): those stay in the Problems list.
    """
    would_be = dict(spec, edges=[*spec["edges"], [source, target]])
    before = set(messages_for(report, target))
    after = [error for error in analyse(would_be).errors if error.node == target]
    introduced = [str(error) for error in after if error.rule not in STILL_WIRING_RULES and str(error) not in before]
    return introduced[0] if introduced else None
