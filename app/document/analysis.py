"""Connection checks on the document's shape report (the report itself comes from app.document.networks)."""

from __future__ import annotations

import engine
from app.document.networks import design_report

# The engine's rules (engine.spec) for a design still being wired: a node waiting for (more) inputs, and
# several loose ends. A new connection never makes either (it adds an input and removes an end), although
# their messages change with it ("received 0" becomes "received 1"; another node is named first).
STILL_WIRING_RULES = {"missing input", "one output"}


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
    after = [error for error in design_report(would_be).errors if error.node == target]
    introduced = [str(error) for error in after if error.rule not in STILL_WIRING_RULES and str(error) not in before]
    return introduced[0] if introduced else None
