"""The one place the app turns a design (a spec dict) into the engine's objects: its shape report, its Network.

- ``design_report(spec)``: the engine's shape report with every problem, never an exception. The document
  asks after each edit; Start, the draw panel and a file being opened ask about the same design again, and
  get the same report back instead of another parse and another layer per node (remembered by content for
  the last few designs: a spec dict is a fresh copy each time the document hands one out).
- ``new_network(spec, seed)``: a NumPy Network for the GUI's side (the run's copy for the views, the draw
  panel's reader). Each call builds one, with weights of its own; a view that only reads the run's weights
  uses the run's copy rather than building another.

The training worker builds its own Network from the job's spec on its own thread: engine objects are not
shared between threads, and that network is the run's, not the GUI's.

    report = design_report(document.spec())     # shapes, costs and problems; cheap the second time
    network = new_network(spec, seed=settings.config.seed)
"""

from __future__ import annotations

import json
from collections import OrderedDict

import numpy as np

import engine

REMEMBERED_DESIGNS = 8  # the document's design and the few "what if this edge" designs tried beside it

_reports: OrderedDict = OrderedDict()


def _design_key(spec):
    """What a report depends on: the spec's content, the layer types known, the memory the checks allow.

    None where the spec cannot be written as JSON (a hand-made dict with odd keys): then nothing is reused.
    """
    try:
        content = json.dumps(spec, sort_keys=True, allow_nan=True)
    except (TypeError, ValueError, RecursionError):
        return None
    return content, engine.layer_types(), engine.design_limits.memory_limit_bytes()


def design_report(spec) -> engine.ShapeReport:
    """Every node's shapes and costs plus every problem, for any spec (shared: read it, never change it).

    ``engine.infer_shapes(spec, collect_errors=True)`` still raises for a spec with no graph at all (no
    nodes); the app wants a report in every state, so such an error becomes the report's only problem.
    """
    key = _design_key(spec)
    if key is not None and key in _reports:
        _reports.move_to_end(key)
        return _reports[key]
    try:
        report = engine.infer_shapes(spec, collect_errors=True)
    except engine.SpecError as error:
        report = engine.ShapeReport({}, [], [error])
    if key is not None:
        _reports[key] = report
        while len(_reports) > REMEMBERED_DESIGNS:
            _reports.popitem(last=False)
    return report


def new_network(spec: dict, seed: int = 0) -> engine.Network:
    """A NumPy Network of ``spec`` (SpecError naming the node for an invalid design)."""
    return engine.Network(spec, seed=seed, xp=np)
