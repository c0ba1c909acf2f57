"""app.document.networks: the one place the app turns a spec into a shape report or a Network."""

import copy

import pytest

import engine
from app.document import networks
from app.document.editor import DocumentEditor
from app.document.networks import design_report, new_network


@pytest.fixture
def inferences(monkeypatch):
    calls = []
    real = engine.infer_shapes

    def counting(spec, *args, **kwargs):
        calls.append(spec)
        return real(spec, *args, **kwargs)

    monkeypatch.setattr(engine, "infer_shapes", counting)
    monkeypatch.setattr(networks, "_reports", type(networks._reports)())
    return calls


def test_the_same_design_is_inferred_once_whoever_asks(qapp, seed_spec, inferences):
    editor = DocumentEditor()
    inferences.clear()  # (the empty design a new editor starts with)
    editor.open_spec(seed_spec)
    assert len(inferences) == 1  # the document's analysis
    spec = editor.document.spec()  # a fresh copy, as Start and the draw panel receive it
    assert design_report(spec) is editor.document.report
    assert design_report(copy.deepcopy(spec)) is editor.document.report
    assert len(inferences) == 1
    editor.set_fields("fc1", {"units": 512})
    assert len(inferences) == 2 and design_report(editor.document.spec())["fc1"].output_shape == (512,)
    editor.undo_stack.undo()  # back to a design seen before: remembered
    assert len(inferences) == 2 and editor.document.report["fc1"].output_shape == (1024,)


def test_a_report_follows_what_it_depends_on_besides_the_spec(seed_spec, inferences, monkeypatch):
    first = design_report(seed_spec)
    monkeypatch.setattr(engine.design_limits, "memory_limit_bytes", lambda: 500_000)  # a computer of 500 KB
    small = design_report(seed_spec)
    assert small is not first and any(e.rule == engine.design_limits.MEMORY_RULE for e in small.errors)
    assert design_report({**seed_spec, "name": "other"}) is not small


def test_any_spec_gives_a_report_never_an_exception(inferences):
    assert [e.rule for e in design_report({"nodes": []}).errors]
    odd = {"nodes": [{"id": "a", "type": "Input", "shape": [2]}], 1: "a key JSON cannot sort"}
    assert design_report(odd) is not design_report(odd)  # not remembered, still answered


def test_new_network_is_a_numpy_network_of_the_spec(seed_spec):
    network = new_network(seed_spec, seed=3)
    assert network.seed == 3 and network.xp.__name__ == "numpy"
    assert network.output_shape == (10,)
