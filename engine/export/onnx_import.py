"""ONNX import: an ``.onnx`` file as a LayerLab design with its weights, or a refusal in words.

    imported = import_onnx("model.onnx")
    network = engine.Network(imported.spec); network.load_state_dict(imported.weights)

The file is data from anywhere: it is read bounded (a regular file of at most ``MAX_ONNX_BYTES``), parsed
as a protobuf, refused if it keeps its weights in other files, and checked with ``onnx.checker`` before any
of it is trusted. Its operators are then translated one by one (engine/export/onnx_layers.py); every
operator LayerLab has no layer for is collected, so the refusal names them all at once with their nodes:

    model.onnx: LayerLab has no layer for these operators: Sin (node wave), Mod (nodes m1, m2); supported: ...

Last, the design goes through ``engine.infer_shapes`` and ``engine.build`` and the weights through
``load_state_dict``, so what is returned is known to run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import SpecError, UserFileError, describe_error
from engine.export.extras import require
from engine.export.onnx_graph import FOLDABLE, Permuted, Tensor, fuse_gelu
from engine.export.onnx_layers import NO_LAYER, SUPPORTED, GraphTranslator, Unsupported
from engine.user_files import GIB, read_bytes, reading

# Protobuf itself cannot hold a message past 2 GiB, so no single-file ONNX model is larger.
MAX_ONNX_BYTES = 2 * GIB
FEATURE = "ONNX import"


class OnnxImportError(UserFileError):
    """An ONNX file LayerLab cannot take: unreadable, not ONNX, or using operators LayerLab has no layer for.
    The message names the file (and, for operators, every one with its nodes)."""


@dataclass(frozen=True)
class ImportedOnnx:
    spec: dict  # LayerLab's network format (docs/spec.md)
    weights: dict[str, np.ndarray]  # engine state_dict naming: network.load_state_dict(weights) works
    notes: tuple[str, ...]  # what a person may want to know (e.g. parts of the graph that were dropped)


def import_onnx(path) -> ImportedOnnx:
    """The design and weights in the ONNX file ``path``; OnnxImportError naming the file when it cannot be."""
    onnx = require("onnx", FEATURE)
    path = Path(path)
    data = read_bytes(path, max_bytes=MAX_ONNX_BYTES, error=OnnxImportError)
    model = _parse(onnx, data, path)
    _refuse_external_data(onnx, model, path)
    _check(onnx, model, path)
    opset = _default_opset(model, path)
    constants = _read_constants(model.graph, path)
    nodes = fuse_gelu(list(model.graph.node), constants | _constant_nodes(model.graph), onnx.helper)
    _refuse_unknown_operators(nodes, path)
    translator = GraphTranslator(onnx, nodes, [o.name for o in model.graph.output], constants, opset)
    _read_input(onnx, model.graph, translator, path)
    _translate_nodes(nodes, translator, path)
    output = _output(model.graph, translator, path)
    nodes, edges, weights, dropped = _reachable(translator, output)
    # The file's name, not the graph's: exporters name every graph alike ("main_graph", "torch_jit").
    spec = {"format": "layerlab-network", "version": 1, "name": path.stem,
            "description": f"Imported from {path.name}", "nodes": nodes, "edges": edges}
    notes = list(translator.notes)
    if dropped:
        notes.append(f"left out {len(dropped)} layer(s) the output does not depend on: {', '.join(dropped)}")
    _keep_the_task(model, spec, notes)
    _verify(spec, weights, path)
    return ImportedOnnx(spec=spec, weights=weights, notes=tuple(notes))


def _parse(onnx, data: bytes, path: Path):
    if not data:
        raise OnnxImportError(path, "is empty, not an ONNX model")
    try:
        model = onnx.load_model_from_string(data)
    except MemoryError:
        raise OnnxImportError(path, "cannot be read: it needs more memory than this computer has") from None
    except Exception:  # noqa: BLE001 - protobuf's DecodeError and friends: their words are about wire formats
        raise OnnxImportError(path, "is not an ONNX model: it does not read as one (it may be cut short, "
                                    "or another kind of file)") from None
    # A protobuf parser accepts many byte strings (text among them) as a message of unknown fields.
    if model.ir_version <= 0 or not model.HasField("graph") or not model.graph.node:
        raise OnnxImportError(path, "is not an ONNX model (it holds no graph of operators)")
    return model


def _refuse_external_data(onnx, model, path: Path) -> None:
    """Weights kept in other files (ONNX's external data) are refused: they would be read from paths the
    model names, which may be anywhere on this computer."""
    external = [t.name for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    if external:
        raise OnnxImportError(path, f"keeps the weights {', '.join(external[:5])} in separate files (external "
                                    f"data); LayerLab reads a model saved in one .onnx file")


def _check(onnx, model, path: Path) -> None:
    """onnx.checker with full checks (shape inference too); its words on one line."""
    try:
        with reading(path, error=OnnxImportError, what="is not a valid ONNX model"):
            onnx.checker.check_model(model, full_check=True)
    except OnnxImportError as exc:
        raise OnnxImportError(path, " ".join(exc.problem.split())) from None


def _default_opset(model, path: Path) -> int:
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return int(entry.version)
    raise OnnxImportError(path, "does not say which version of the ONNX operators it uses (no default opset)")


def _read_input(onnx, graph, translator: GraphTranslator, path: Path) -> None:
    initializer_names = {t.name for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializer_names]
    if len(inputs) != 1:
        names = ", ".join(i.name for i in inputs) or "none"
        raise OnnxImportError(path, f"has {len(inputs)} inputs ({names}); a LayerLab network reads one")
    graph_input = inputs[0]
    tensor_type = graph_input.type.tensor_type
    dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor_type.shape.dim]
    example = dims[1:]
    if len(dims) not in (2, 3, 4) or any(d is None or d < 1 for d in example):
        shown = "x".join("?" if d is None else str(d) for d in dims) or "unknown"
        raise OnnxImportError(path, f"its input {graph_input.name} has shape {shown}; LayerLab reads a batch of "
                                    f"vectors (batch x features), sequences (batch x steps x features) or images "
                                    f"(batch x channels x height x width), with every size but the batch fixed")
    if tensor_type.elem_type not in (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16):
        raise OnnxImportError(path, f"its input {graph_input.name} is not floating-point numbers")
    if len(example) == 2:
        translator.add_sequence_input(graph_input.name, (int(example[0]), int(example[1])))
    else:
        translator.add_input(graph_input.name, tuple(int(d) for d in example))


def _read_constants(graph, path: Path) -> dict[str, np.ndarray]:
    from onnx import numpy_helper

    constants = {}
    for tensor in graph.initializer:
        with reading(path, error=OnnxImportError, what=f"its weights {tensor.name} cannot be read"):
            value = numpy_helper.to_array(tensor)
        if value.dtype.kind == "f":
            value = value.astype(np.float32)
        constants[tensor.name] = value
    return constants


def _short(name: str, limit: int = 60) -> str:
    """A name from the file as a message shows it: a name may be any length."""
    return name if len(name) <= limit else f"{name[:limit - 1]}…"


def _constant_nodes(graph) -> dict[str, np.ndarray]:
    """The values of Constant nodes holding one tensor (torch writes a GELU's 0.5 and 1 as such)."""
    from onnx import numpy_helper

    values = {}
    for node in graph.node:
        if node.op_type == "Constant" and len(node.attribute) == 1 and node.attribute[0].name == "value":
            try:
                values[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
            except (ValueError, TypeError):  # the translator refuses it in words when a layer reads it
                continue
    return values


def _is_known(node) -> bool:
    return node.domain in ("", "ai.onnx") and (node.op_type in SUPPORTED or node.op_type in FOLDABLE)


def _refuse_unknown_operators(nodes, path: Path, more: dict[str, list[str]] | None = None) -> None:
    """Refuse every operator LayerLab has no layer for at once, each with its nodes (first five)."""
    unknown: dict[str, list[str]] = {}
    for index, node in enumerate(nodes):
        if not _is_known(node):
            op = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
            unknown.setdefault(_short(op), []).append(_short(node.name) or f"#{index + 1}")
    for op, names in (more or {}).items():
        unknown.setdefault(op, []).extend(names)
    if unknown:
        listed = ", ".join(f"{op} (node{'s' if len(names) > 1 else ''} {', '.join(names[:5])}"
                           f"{', ...' if len(names) > 5 else ''})" for op, names in unknown.items())
        raise OnnxImportError(path, f"LayerLab has no layer for these operators: {listed}; "
                                    f"supported: {', '.join(SUPPORTED)}")


def _translate_nodes(nodes: list, translator: GraphTranslator, path: Path) -> None:
    """Translate every node. An operator with no layer for what it does here (a Mul of two layers' outputs)
    joins the refusal naming them all; the first node with a setting LayerLab cannot take is refused alone."""
    without_layer: dict[str, list[str]] = {}
    for index, node in enumerate(nodes):
        where = _short(node.name) or f"#{index + 1}"
        if without_layer:
            continue  # later nodes may read what that one makes; the refusal names the operators
        try:
            translator.translate(node)
        except Unsupported as exc:
            if str(exc) == NO_LAYER:
                without_layer.setdefault(node.op_type, []).append(where)
                continue
            raise OnnxImportError(path, f"node {where} ({node.op_type}) {exc}") from None
        except (ValueError, TypeError, KeyError, IndexError) as exc:  # an attribute missing or of the wrong kind
            raise OnnxImportError(path, f"node {where} ({node.op_type}) cannot be read ({describe_error(exc)})") \
                from None
    if without_layer:
        _refuse_unknown_operators([], path, without_layer)


def _output(graph, translator: GraphTranslator, path: Path) -> Tensor:
    if len(graph.output) != 1:
        names = ", ".join(o.name for o in graph.output)
        raise OnnxImportError(path, f"has {len(graph.output)} outputs ({names}); a LayerLab network has one")
    value = translator.values.get(graph.output[0].name)
    if isinstance(value, Permuted):
        raise OnnxImportError(path, f"its output {graph.output[0].name} has its axes in another order than the "
                                    f"batch first; LayerLab's layers give the batch first")
    if not isinstance(value, Tensor):
        raise OnnxImportError(path, f"its output {graph.output[0].name} does not depend on its input")
    if translator.nodes[0]["id"] == value.node_id:
        raise OnnxImportError(path, "has no layers: its output is its input")
    return value


def _reachable(translator: GraphTranslator, output: Tensor):
    """Only the layers the output depends on (a LayerLab network has exactly one node nothing reads)."""
    needed = {output.node_id}
    for source, target in reversed(translator.edges):
        if target in needed:
            needed.add(source)
    changed = True
    while changed:  # edges are in creation order, so one reverse pass suffices; this guards any other order
        changed = False
        for source, target in translator.edges:
            if target in needed and source not in needed:
                needed.add(source)
                changed = True
    nodes = [n for n in translator.nodes if n["id"] in needed]
    dropped = [n["id"] for n in translator.nodes if n["id"] not in needed]
    edges = [[s, t] for s, t in translator.edges if t in needed]
    weights = {k: v for k, v in translator.weights.items() if k.split(".", 1)[0] in needed}
    return nodes, edges, weights, dropped


def _keep_the_task(model, spec: dict, notes: list[str]) -> None:
    """The design's task (the spec's "loss" and "target" keys: an autoencoder's binary cross-entropy on its own
    input), which ONNX has no operator for, from the design LayerLab's export keeps in the metadata; only those
    two keys are read, as text, and kept only if the engine accepts them for the imported design."""
    import json

    from engine.export.onnx_export import SPEC_METADATA_KEY

    text = next((p.value for p in model.metadata_props if p.key == SPEC_METADATA_KEY), None)
    try:
        written = json.loads(text) if text else None
    except ValueError:
        return
    if not isinstance(written, dict):
        return
    task = {key: written[key] for key in ("loss", "target") if isinstance(written.get(key), str)}
    if not task:
        return
    try:
        import engine

        engine.infer_shapes({**spec, **task})
    except (SpecError, ValueError):
        notes.append("left out the training task its metadata names (loss, target): it does not fit the design")
        return
    spec.update(task)


def _verify(spec: dict, weights: dict, path: Path) -> None:
    """Shape inference, a build and the weights loaded: what is returned runs."""
    import engine

    try:
        engine.infer_shapes(spec)
        network = engine.Network(spec, xp=np)
        network.load_state_dict(weights)
    except SpecError as exc:
        raise OnnxImportError(path, f"does not make a valid LayerLab design: {exc}") from None
    except ValueError as exc:
        raise OnnxImportError(path, f"its weights do not fit the design: {exc}") from None
