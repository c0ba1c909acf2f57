"""Hostile network specs and .layerlab projects, made from resources/examples/*.json.

- spec: the file read as JSON through ``engine.user_files.read_json`` (the engine's bounded reader), then
  ``engine.infer_shapes`` and, for a design it accepts, ``engine.build`` and one forward pass. Clean:
  success, ``engine.UserFileError`` or ``engine.SpecError``.
- project: ``app.document.project_file.read_project`` (what File > Open and ``layerlab train`` call). Clean:
  success or ``ProjectFileError`` (or ``engine.UserFileError``).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from tests.fuzz import base_files
from tests.fuzz import mutations as m
from tests.fuzz.cases import Format, path_kind

EXAMPLES = ("toy-mlp", "softmax-regression", "mlp-784-128-10", "seed-cnn", "lenet-5", "keras-mnist-cnn")
# Every field a layer type takes (docs/spec.md), so a type swap can land on any of them.
FIELDS = ("shape", "units", "activation", "use_bias", "kernel_initializer", "bias_initializer", "filters",
          "kernel_size", "strides", "padding", "pool_size", "rate", "momentum", "epsilon", "center", "scale", "axis",
          "id", "type")
# The F9: sizes that pass a naive check and then need terabytes.
ABSURD_SIZES = (
    ("MaxPooling2D", "strides", 2**31), ("MaxPooling2D", "padding", 2**31), ("AveragePooling2D", "padding", [2**31, 1]),
    ("Conv2D", "padding", 20_000), ("Conv2D", "filters", 2**31), ("Dense", "units", 2**31),
    ("Conv2D", "kernel_size", 2**31), ("Dense", "units", 2**62), ("Conv2D", "strides", 2**63),
    ("Conv2D", "filters", 10**12), ("Dense", "units", 10**30),
)
ABSURD_INPUTS = ([1, 2**20, 2**20], [2**31], [2**31, 1, 1], [1, 2**31, 2**31], [10**12], [65_536, 65_536])


def example(rng: random.Random, names=EXAMPLES) -> dict:
    return base_files.example_spec(rng.choice(names))


def spec_field_value(rng):
    spec = example(rng)
    node = rng.choice(spec["nodes"])
    field = rng.choice(FIELDS)
    node[field] = m.hostile_value(rng)
    return f"{node['id'] if isinstance(node['id'], str) else 'a node'}.{field} = {_short(node[field])}", spec


def spec_tree_value(under: tuple):
    def make(rng):
        return m.mutate_tree(rng, example(rng), under=under)

    return make


def absurd_size(rng):
    layer, field, value = rng.choice(ABSURD_SIZES)
    spec = {"format": "layerlab-network", "version": 1, "nodes": [
        {"id": "input", "type": "Input", "shape": [1, 28, 28]},
        {"id": "big", "type": layer, **({"filters": 4, "kernel_size": 3} if layer == "Conv2D" else {}),
         **({"units": 4} if layer == "Dense" else {}), field: value},
        {"id": "flatten", "type": "Flatten"}, {"id": "logits", "type": "Dense", "units": 10}]}
    if layer == "Dense":
        spec["nodes"].insert(1, {"id": "flat", "type": "Flatten"})
    return f"{layer} {field} = {_short(value)}", spec


def absurd_input(rng):
    spec = example(rng, ("softmax-regression", "toy-mlp"))
    spec["nodes"][0]["shape"] = shape = rng.choice(ABSURD_INPUTS)
    return f"Input shape {shape}", spec


def edges(rng):
    spec = example(rng)
    ids = [node["id"] for node in spec["nodes"]]
    chain = [[a, b] for a, b in zip(ids, ids[1:], strict=False)]
    choice = rng.choice(["cycle", "two-node cycle", "self edge", "dangling edge", "edge of one id", "edges not a list",
                         "edge of numbers", "duplicate edges", "no edges to the output"])
    spec["edges"] = {
        "cycle": chain + [[ids[-1], ids[1]]],
        "two-node cycle": chain + [[ids[2 % len(ids)], ids[1]]],
        "self edge": chain + [[ids[1], ids[1]]],
        "dangling edge": chain + [[ids[1], "nowhere"]],
        "edge of one id": chain + [[ids[1]]],
        "edges not a list": {"a": "b"},
        "edge of numbers": chain + [[0, 1]],
        "duplicate edges": chain + chain,
        "no edges to the output": chain[:-1],
    }[choice]
    return choice, spec


def many_nodes(rng):
    """About 20,000 nodes, mostly with one fault (the issue's F13: a two-node cycle took 12-20 s)."""
    count = rng.choice([5_000, 20_000])
    nodes = [{"id": "input", "type": "Input", "shape": [2]}]
    nodes += [{"id": f"n{index}", "type": "Activation", "activation": "relu"} for index in range(count)]
    chain = [[a["id"], b["id"]] for a, b in zip(nodes, nodes[1:], strict=False)]
    choice = rng.choice(["two-node cycle", "duplicate id", "second Input", "unknown type at the end"])
    if choice == "two-node cycle":
        nodes += [{"id": "c1", "type": "Activation", "activation": "relu"},
                  {"id": "c2", "type": "Activation", "activation": "relu"}]
        chain += [["c1", "c2"], ["c2", "c1"]]
    elif choice == "duplicate id":
        nodes[count // 2]["id"] = "n1"
    elif choice == "second Input":
        nodes[-1] = {"id": "input2", "type": "Input", "shape": [2]}
    else:
        nodes[-1]["type"] = "Transformer"
    return f"{len(nodes):,} nodes, {choice}", {"format": "layerlab-network", "version": 1, "nodes": nodes,
                                                "edges": chain}


SPEC_TREES = {
    "field type swap": spec_field_value,
    "node value": spec_tree_value(("nodes",)),
    "envelope value": spec_tree_value(()),
    "absurd size": absurd_size,
    "absurd input shape": absurd_input,
    "edges": edges,
    "20,000 nodes": many_nodes,
}


def spec_text(rng):
    return m.mutate_text(rng, json.dumps(example(rng)))


def spec_bytes(rng):
    return m.mutate_bytes(rng, json.dumps(example(rng)).encode("utf-8"))


def as_file(make_tree):
    def make(rng):
        what, tree = make_tree(rng)
        return what, m.dumps(tree).encode("utf-8")

    return make


def read_spec(path: Path):
    def read():
        import engine
        from engine.user_files import read_json
        from tests.fuzz.model_cases import run_once

        spec = read_json(path, max_bytes=16 * 1024**2)
        engine.infer_shapes(spec)
        return run_once(engine.build(spec, seed=0))

    return read


# ---------------------------------------------------------------------------------------------- projects


def project_tree(under: tuple):
    def make(rng):
        return m.mutate_tree(rng, base_files.project(rng.choice(["toy-mlp", "seed-cnn"])), under=under)

    return make


def project_spec(make_tree):
    """A spec kind's spoiled network inside an otherwise valid project."""

    def make(rng):
        what, spec = make_tree(rng)
        project = base_files.project()
        project["network"] = spec
        project["layout"] = {}
        return what, project

    return make


def project_name(rng):
    project = base_files.project()
    project["network"]["name"] = rng.choice(["A" * 300, "a/b\\c:d", "\u0000", "..", " " * 50, "\ud800"])
    return f"name {_short(project['network']['name'])}", project


PROJECT_TREES = {
    "project value": project_tree(()),
    "network value": project_tree(("network",)),
    "training value": project_tree(("training",)),
    "layout value": project_tree(("layout",)),
    "network field type swap": project_spec(spec_field_value),
    "network edges": project_spec(edges),
    "network of 20,000 nodes": project_spec(many_nodes),
    "network name": project_name,
}


def project_text(rng):
    return m.mutate_text(rng, json.dumps(base_files.project()))


def project_bytes(rng):
    return m.mutate_bytes(rng, json.dumps(base_files.project()).encode("utf-8"))


def read_project(path: Path):
    def read():
        from app.document.project_file import read_project

        return read_project(path)

    return read


def _project_errors():
    import engine
    from app.document.project_file import ProjectFileError

    return ProjectFileError, engine.UserFileError


def _short(value) -> str:
    text = m.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 24 else text[:20] + "..."


def _kinds(trees: dict, text, raw, file_name: str, read_path) -> dict:
    kinds = {kind: path_kind(file_name, read_path, as_file(make)) for kind, make in trees.items()}
    kinds["JSON text"] = path_kind(file_name, read_path, text)
    kinds["file bytes"] = path_kind(file_name, read_path, raw)
    return kinds


FORMATS = [
    Format(
        name="spec",
        kinds=_kinds(SPEC_TREES, spec_text, spec_bytes, "network.json", read_spec),
        read_path=read_spec,
        file_name="network.json",
        clean_errors=lambda: (__import__("engine").UserFileError, __import__("engine").SpecError),
    ),
    Format(
        name="project",
        kinds=_kinds(PROJECT_TREES, project_text, project_bytes, "design.layerlab", read_project),
        read_path=read_project,
        file_name="design.layerlab",
        clean_errors=_project_errors,
    ),
]
