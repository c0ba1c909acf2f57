"""The network document without any widget: edits, the named errors that refuse them, signals, analysis."""

import json

import pytest

import resources
from app.document import errors
from app.document.model import REMOVE_FIELD, NetworkDocument


def seed_spec():
    return json.loads(resources.examples()["seed-cnn"].read_text(encoding="utf-8"))


@pytest.fixture
def document(qapp):
    doc = NetworkDocument()
    spec = seed_spec()
    doc.load(spec, {node["id"]: (0.0, 90.0 * i) for i, node in enumerate(spec["nodes"])})
    return doc


def record(document):
    """Every signal the document emits, as (name, *arguments), in order."""
    seen = []
    for name in ("node_added", "node_removed", "node_changed", "node_renamed", "node_moved", "edge_added",
                 "edge_removed"):
        getattr(document, name).connect(lambda *args, name=name: seen.append((name, *args)))
    return seen


def test_load_chains_a_spec_without_edges_and_analyses_it(document):
    assert document.node_ids()[:3] == ["input", "conv1", "pool1"]
    assert document.edges()[0] == ("input", "conv1")
    assert len(document.edges()) == 8
    assert document.report.valid
    assert document.report["logits"].output_shape == (10,)
    assert document.report.total_params == 3274634
    spec = document.spec()
    assert spec["format"] == "layerlab-network" and spec["name"] == "seed-cnn"
    assert spec["description"].startswith("The classic deep MNIST tutorial CNN")  # unknown keys kept
    assert spec["edges"][0] == ["input", "conv1"]


def test_add_connect_and_remove_announce_themselves(document):
    seen = record(document)
    reports = []
    document.analysis_changed.connect(reports.append)
    document.add_node({"id": "softmax", "type": "Activation", "activation": "softmax"}, (0, 900))
    document.connect("logits", "softmax")
    assert document.report["softmax"].output_shape == (10,)
    index, node, position, edges = document.remove_node("logits")
    assert seen == [("node_added", "softmax"), ("edge_added", "logits", "softmax"),
                    ("edge_removed", "dropout", "logits"), ("edge_removed", "logits", "softmax"),
                    ("node_removed", "logits")]
    assert len(reports) == 3 and reports[-1] is document.report
    assert (index, node["units"], position) == (8, 10, (0.0, 720.0))
    document.restore_node(index, node, position, edges)
    assert document.node_ids()[8] == "logits"
    assert ("dropout", "logits") in document.edges() and ("logits", "softmax") in document.edges()


@pytest.mark.parametrize(("source", "target", "error", "message"), [
    ("pool2", "conv1", errors.CycleError,
     "conv1 already feeds pool2 (conv1 -> pool1 -> conv2 -> pool2); connecting pool2 -> conv1 would form a cycle"),
    ("conv1", "conv1", errors.SelfConnectionError, "conv1: a node cannot feed itself"),
    ("input", "conv1", errors.DuplicateConnectionError, "input -> conv1 is already connected"),
    ("conv1", "input", errors.InputTakesNoInputsError, "input: an Input node is where data enters"),
    ("conv1", "nowhere", errors.UnknownNodeError, "there is no node 'nowhere' in this network"),
])
def test_refused_connections_raise_named_errors_and_change_nothing(document, source, target, error, message):
    before = document.spec()
    seen = record(document)
    with pytest.raises(error) as raised:
        document.connect(source, target)
    assert str(raised.value).startswith(message)
    assert document.spec() == before and seen == []
    assert document.connection_problem(source, target).startswith(message)


def test_connection_problem_uses_shape_inference_on_the_would_be_spec(document):
    document.add_node({"id": "dense1", "type": "Dense", "units": 8}, (300, 0))
    assert document.connection_problem("conv2", "dense1") == (
        "dense1: Dense expects a flat input; received shape 64x14x14 (add a Flatten layer before it)")
    assert document.connection_problem("flatten", "dense1") is None
    # A second input to a one-input layer is refused with the engine's rule.
    assert "Dense takes one input; received 2" in document.connection_problem("flatten", "logits")


def test_a_design_still_being_wired_does_not_refuse_connections(document):
    """A merge waiting for its next input, and loose ends, are Problems-list entries, never refusals."""
    document.add_node({"id": "add1", "type": "Add"}, (300, 0))
    document.add_node({"id": "side", "type": "Conv2D", "filters": 32, "kernel_size": 5, "padding": "same"}, (300, 90))
    assert document.connection_problem("conv1", "add1") is None  # "received 0" would become "received 1"
    document.connect("conv1", "add1")
    assert "add1: Add needs at least 2 inputs; received 1" in document.problems_of("add1")
    # side is a loose end: connecting into it makes it the first of several outputs, which it was not.
    assert document.connection_problem("input", "side") is None
    document.connect("input", "side")
    assert document.connection_problem("side", "add1") is None
    document.connect("side", "add1")
    assert document.problems_of("add1") == [] and document.report["add1"].output_shape == (32, 28, 28)
    # A connection that makes a problem of its own is still refused: a 64-channel input to a 32-channel sum.
    assert "Add needs inputs of one shape" in document.connection_problem("conv2", "add1")


def test_duplicate_and_invalid_ids_are_refused(document):
    with pytest.raises(errors.DuplicateNodeIdError, match="a node with the id 'conv1' already exists"):
        document.add_node({"id": "conv1", "type": "Flatten"}, (0, 0))
    with pytest.raises(errors.InvalidNodeIdError):
        document.rename_node("conv1", " conv1")
    with pytest.raises(errors.DuplicateNodeIdError):
        document.rename_node("conv1", "conv2")


def test_fields_change_and_come_back(document):
    previous = document.set_node_fields("conv1", {"kernel_size": 29, "strides": REMOVE_FIELD})
    assert previous == {"kernel_size": 5, "strides": 1}
    assert "strides" not in document.node("conv1")
    assert document.problems_of("conv1") == []  # padding 'same' keeps 28x28 whatever the kernel
    document.set_node_fields("conv1", {"padding": "valid"})
    assert document.problems_of("conv1") == [
        "conv1: kernel 29x29 does not fit a 28x28 input with padding 'valid'"]
    assert "conv2" not in document.report  # downstream of an invalid node: unknown, not wrong
    document.set_node_fields("conv1", previous | {"padding": "same"})
    assert document.report.valid
    with pytest.raises(errors.DocumentError, match="'type' is not a setting"):
        document.set_node_fields("conv1", {"type": "Dense"})


def test_rename_keeps_edges_order_and_position(document):
    document.rename_node("fc1", "hidden")
    assert document.node_ids()[6] == "hidden"
    assert ("flatten", "hidden") in document.edges() and ("hidden", "dropout") in document.edges()
    assert document.position("hidden") == (0.0, 540.0)
    assert document.node("hidden")["id"] == "hidden"


def test_an_empty_document_reports_a_problem_instead_of_raising(qapp):
    doc = NetworkDocument()
    assert doc.node_ids() == []
    assert [str(e) for e in doc.report.errors] == ["a network spec needs a non-empty list 'nodes'"]
