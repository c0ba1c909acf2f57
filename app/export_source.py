"""What File > Export writes: the design on the canvas with the best weights the app has for it, and the
words that say which.

    source = export_source(document.spec(), document.report, controller.run, seed=0,
                           imported=project.imported_model)
    source.problem       # the engine's words when the design cannot be built (nothing to export), else None
    source.weights_text  # "with run 2's weights (step 1,200)" / "untrained: initial weights, seed 0"
    network = source.build()   # a fresh NumPy network holding those weights: safe to export off the GUI thread

The weights, in order of preference: the latest run's when that run trained this very design (as the Draw
pad reads them, app/draw/network_choice.py), else the weights imported with the design (an .onnx file
opened), else freshly initialised ones from the project's seed. ``build`` makes a network of its own
rather than handing over the run's inference copy, which belongs to the GUI thread's views.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import engine
from app.draw.network_choice import same_design
from app.run_state import ImportedModel


@dataclass(frozen=True)
class ExportSource:
    spec: dict
    weights: dict | None  # engine state_dict naming; None: initialise afresh from ``seed``
    seed: int
    weights_text: str
    problem: str | None = None  # why the design cannot be exported (the engine's words)

    @property
    def name(self) -> str:
        return self.spec.get("name") or "network"

    def build(self) -> engine.Network:
        """The network to export (NumPy, float32). Runs on any thread: it shares nothing with the views."""
        network = engine.Network(self.spec, seed=self.seed, xp=np)
        if self.weights is not None:
            network.load_state_dict(self.weights)
        return network


def export_source(spec: dict, report: engine.ShapeReport, run, seed: int = 0,
                  imported: ImportedModel | None = None) -> ExportSource:
    """``run``: the latest training run (an app.run_state.ActiveRun) or None; ``imported``: the weights the
    design was opened with, or None."""
    if report.errors:
        return ExportSource(spec, None, seed, "", problem=str(report.errors[0]))
    snapshot = getattr(run, "latest_snapshot", None)
    if run is not None and not run.is_model and snapshot is not None and same_design(run.spec, spec):
        return ExportSource(spec, snapshot.weights, seed,
                            f"with run {run.number}'s weights (step {snapshot.step:,})")
    if imported is not None and same_design(imported.spec, spec):
        return ExportSource(spec, imported.weights, seed, f"with the weights imported from {imported.file_name}")
    text = f"untrained: initial weights, seed {seed}"
    if run is not None and not run.is_model and snapshot is not None and run.spec.get("name") == spec.get("name"):
        text += f" (the design has changed since run {run.number} trained it)"
    return ExportSource(spec, None, seed, text)
