"""Which network reads the Draw pad: the design on the canvas, with a run's weights when that run trained
this very design; the weights the design was imported with (File > Open of an .onnx) while it is unedited;
otherwise the bundled seed CNN, while the design reads drawings at all (a colour design
reads dropped pictures, which the bundled grey model cannot stand in for); otherwise none.
The caption says which, and why.

    choice = choose_pad_network(document.spec(), document.report, controller.run, imported)
    choice.source     # "run", "imported", "bundled" or "none"
    choice.caption    # "Read by seed-cnn on the canvas, with run 2's weights (step 1,200)."
"""

from __future__ import annotations

from dataclasses import dataclass

import engine
from app.draw.reader import colour_shape, digit_field

BUNDLED_CAPTION = "Read by the bundled seed CNN (trained on MNIST, 99.2% test accuracy)"


@dataclass(frozen=True)
class PadNetwork:
    # "run": the run's weights; "imported": the weights the design was opened with; "bundled": the bundled
    # model; "none": drawing is off
    source: str
    caption: str


def same_design(a: dict, b: dict) -> bool:
    """The same layers, settings and connections (names, descriptions and positions aside)."""
    def edges(spec):
        if spec.get("edges") is None:  # chained in list order
            ids = [node.get("id") for node in spec.get("nodes", [])]
            return [[source, target] for source, target in zip(ids, ids[1:], strict=False)]
        return [list(edge) for edge in spec["edges"]]

    return a.get("nodes") == b.get("nodes") and edges(a) == edges(b)


def choose_pad_network(design: dict, report: engine.ShapeReport, run, imported=None) -> PadNetwork:
    """``run`` is the latest training run (with ``spec``, ``number`` and ``latest_snapshot``), or None;
    ``imported`` the ``app.run_state.ImportedModel`` the project was opened with, or None."""
    name = design.get("name") or "the design"
    colour = False
    if report.input_node is not None:
        field, why = digit_field(report.input_node.output_shape)
        colour = colour_shape(report.input_node.output_shape) is not None
        if field is None and not colour:
            return PadNetwork("none", f"{why.removesuffix('.')} ({name} on the canvas).")
    # The task as the engine read it from the spec (docs/spec.md's "loss" and "target"): an autoencoder draws back
    # what it is given, rather than reading classes.
    reconstructs = report.target == "input"
    if report.loss != "cross_entropy" and not reconstructs:
        # A regression network (toy:sine): its outputs are values, neither classes to show as bars nor a picture.
        return PadNetwork("none", f"Drawing is disabled: {name} on the canvas outputs values (trained with "
                                  f"{report.loss.replace('_', ' ')}), not classes or a picture.")
    trained = run is not None and run.latest_snapshot is not None
    if trained and same_design(run.spec, design):
        return PadNetwork("run", f"Read by {name} on the canvas, with run {run.number}'s weights "
                                 f"(step {run.latest_snapshot.step:,}).")
    if imported is not None and same_design(imported.spec, design):  # a run of it, above, comes first
        return PadNetwork("imported", f"Read by {name} with the weights imported from {imported.file_name}.")
    if colour:  # the bundled model reads grey digits: nothing to stand in for a colour design
        changed = trained and run.spec.get("name") == design.get("name")
        return PadNetwork("none", f"{name} on the canvas reads colour images and "
                                  f"{'has changed since its last run' if changed else 'has no trained weights yet'}"
                                  ": train it, then drop or paste an image here for it to read.")
    if trained and run.spec.get("name") == design.get("name"):
        reason = f"{name} on the canvas has changed since run {run.number} trained it"
    else:
        reason = f"{name} on the canvas has no trained weights yet; train it to read with it"
        if reconstructs:
            reason = f"{name} on the canvas has no trained weights yet; train it to see what it makes of a drawing"
    return PadNetwork("bundled", f"{BUNDLED_CAPTION}: {reason}.")
