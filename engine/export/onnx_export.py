"""A Network -> a standard ONNX file (opset >= 17), built node by node with onnx.helper; no custom operators.

    from engine.export.onnx_export import export_onnx
    export_onnx(network, "model.onnx")          # Path; OnnxExportError naming the node if a layer cannot go

The graph reads a float32 batch named "input" (shape [batch, *input_shape], the batch dynamic) and gives
"output": the design's output node, logits or the probabilities of a final softmax, exactly as
``network.predict`` returns them. Weights are initializers named as the engine's state_dict names them
("conv1.kernel", "bn.moving_mean"), each ONNX node is named after the design node it comes from ("conv1",
"conv1/relu"), and the design itself travels in the model's metadata ("layerlab.spec") for whoever wants what
ONNX has no words for (initializers, dropout seeds; LayerLab's own import reads the operators).

How each layer type maps (inference: Dropout is the identity, BatchNormalization uses its moving statistics):

    Input               the graph input "input"
    Dense               Gemm (A @ kernel(in, out) + bias), then its activation
    Conv2D              Conv (kernel (filters, in, kh, kw), explicit pads: 'same' resolved as the engine does,
                        the extra pixel at the bottom/right), then its activation
    MaxPooling2D        MaxPool with explicit pads (ONNX never lets a padded position win, as the engine)
    AveragePooling2D    AveragePool, count_include_pad=0 (padded positions not counted, as the engine)
    Flatten             Flatten(axis=1): C, H, W order
    Dropout             Dropout with its rate as the "ratio" input (training_mode absent: the identity)
    BatchNormalization  BatchNormalization(scale=gamma or ones, B=beta or zeros, moving mean and variance)
    Activation          the activation below
    Add                 Add (a chain of them for more than two inputs)
    Concatenate         Concat along the engine's axis (counted with the batch)
    Reshape             Reshape to [0, *the resolved target shape] (0: the batch, whatever its size)
    UpSampling2D        Resize, nearest, coordinate_transformation_mode asymmetric, nearest_mode floor: output
                        pixel y reads input y // size, each pixel repeated exactly (engine/export/onnx_decoder.py)
    Conv2DTranspose     ConvTranspose (kernel (in, filters, kh, kw) as the engine's), 'same' as explicit pads
                        and output_padding cropping as the engine does, then its activation
    SimpleRNN/LSTM/GRU  RNN/LSTM/GRU (forward, steps first: Transpose in; Y_h, or Y transposed back), gates put
                        in ONNX's order (engine/export/onnx_recurrent.py)
    activations         relu Relu, leaky_relu LeakyRelu(0.2), sigmoid Sigmoid, tanh Tanh, softmax Softmax(axis=1),
                        elu Elu(1.0), gelu exact: Gelu from opset 20, x * 0.5 * (1 + Erf(x / sqrt 2)) before
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from engine.export.extras import require
from engine.export.onnx_decoder import DECODER_CONVERTERS
from engine.export.onnx_recurrent import RECURRENT_CONVERTERS
from engine.files import atomic_write
from engine.ops.activations import ELU_ALPHA, LEAKY_RELU_SLOPE
from engine.ops.padding import conv_geometry

MIN_OPSET = 17
INPUT_NAME = "input"
OUTPUT_NAME = "output"
BATCH_DIM = "batch"
PRODUCER = "LayerLab"
SPEC_METADATA_KEY = "layerlab.spec"
FEATURE = "ONNX export"
# A protocol buffer (so an ONNX file with its weights inside) cannot pass 2 GiB; refuse before serialising.
MAX_MODEL_BYTES = 2**31 - 1
GELU_NATIVE_OPSET = 20  # the first opset with a Gelu operator


class OnnxExportError(ValueError):
    """A network that cannot be written as standard ONNX; the message names the node and the reason."""


def export_onnx(network, path, *, opset: int = MIN_OPSET) -> Path:
    """Write ``network`` (an engine.Network, with its current weights) to ``path`` as ONNX; returns the Path.

    Checked with onnx.checker (full check) before anything is written; the write is atomic (a temporary file
    renamed over ``path``), so an existing file is either replaced whole or left as it was.
    Raises MissingExtraError when the onnx package is not installed, OnnxExportError for a design ONNX
    cannot express, and OSError when ``path`` cannot be written.
    """
    onnx = require("onnx", FEATURE)
    model = build_onnx_model(network, opset=opset)
    onnx.checker.check_model(model, full_check=True)
    data = model.SerializeToString()
    return atomic_write(Path(path), lambda handle: handle.write(data))


def build_onnx_model(network, *, opset: int = MIN_OPSET):
    """The onnx.ModelProto for ``network`` (not yet checked or written; ``export_onnx`` does both)."""
    onnx = require("onnx", FEATURE)
    newest = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= newest:
        raise OnnxExportError(f"opset must be an integer from {MIN_OPSET} to {newest} (the newest this onnx "
                              f"package knows); received opset={opset!r}")
    weight_bytes = 4 * (network.num_params + sum(b.size for b in network.buffers().values()))
    if weight_bytes > MAX_MODEL_BYTES:
        raise OnnxExportError(f"{network.name}: its weights need {weight_bytes / 2**30:.1f} GiB as float32; "
                              f"an ONNX file holding its weights is limited to 2 GiB")
    graph = _GraphBuilder(onnx, network, opset)
    for node_id in network.order:
        graph.add_layer(node_id)
    return graph.model()


class _GraphBuilder:
    """Collects the nodes and initializers of one network's graph, with names that never collide."""

    def __init__(self, onnx, network, opset: int):
        self.onnx, self.helper = onnx, onnx.helper
        self.network, self.opset = network, opset
        self.state = network.state_dict()
        self.nodes, self.initializers = [], []
        self.taken = {INPUT_NAME, OUTPUT_NAME}  # tensor names (initializers and node outputs)
        self.node_names = set()  # ONNX node names: the design's node ids, as they are wherever possible
        self.tensor_of = {}  # design node id -> the name of the tensor holding its output
        self.shared_constants = {}

    # -- names --------------------------------------------------------------------------------------
    def unique(self, wanted: str, taken: set | None = None) -> str:
        """``wanted``, or ``wanted_2``, ``wanted_3``... where it is taken already (node ids may hold dots, so a
        node "a.kernel" and the weight of node "a" could otherwise meet; "input" and "output" are reserved)."""
        taken = self.taken if taken is None else taken
        name, count = wanted, 1
        while name in taken:
            count += 1
            name = f"{wanted}_{count}"
        taken.add(name)
        return name

    def weight(self, name: str, value) -> str:
        """An initializer (float32) named ``name`` (a state_dict name, or a node's own constant)."""
        name = self.unique(name)
        array = np.array(value, dtype=np.float32, order="C")  # a scalar stays a scalar (Dropout's ratio)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def constant(self, label: str, value: float) -> str:
        """A scalar float32 initializer shared by every node that needs the same constant."""
        if label not in self.shared_constants:
            self.shared_constants[label] = self.weight(f"constant.{label}", np.float32(value))
        return self.shared_constants[label]

    def int64(self, name: str, values) -> str:
        """An int64 initializer (a shape, axes), shared by every node asking for the same ``name``."""
        key = ("int64", name)
        if key not in self.shared_constants:
            self.shared_constants[key] = self.unique(name)
            array = np.array(values, dtype=np.int64)
            self.initializers.append(self.onnx.numpy_helper.from_array(array, self.shared_constants[key]))
        return self.shared_constants[key]

    def node(self, op: str, inputs: list[str], name: str, doc: str, **attributes) -> str:
        """Add one ONNX node named ``name`` (made unique); returns its single output tensor's name (the same
        where free)."""
        return self.node_with_outputs(op, inputs, name, doc, [True], **attributes)[0]

    def node_with_outputs(self, op: str, inputs: list[str], name: str, doc: str, wanted: list[bool],
                          **attributes) -> list[str | None]:
        """An ONNX node with several outputs, those ``wanted`` named (after ``name``), the others left out ("");
        their names, None for those left out."""
        outputs = [self.unique(name if index == wanted.index(True) else f"{name}/{index}") if keep else ""
                   for index, keep in enumerate(wanted)]
        node_name = self.unique(name, self.node_names)
        written = outputs[: max(index for index, keep in enumerate(wanted) if keep) + 1]  # no trailing ""
        self.nodes.append(self.helper.make_node(op, inputs, written, name=node_name, doc_string=doc, **attributes))
        return [output or None for output in outputs]

    @staticmethod
    def refuse(node_id: str, reason: str):
        """Raise the OnnxExportError for ``node_id`` (converters in other modules refuse through this)."""
        raise OnnxExportError(f"{node_id}: {reason}")

    # -- layers -------------------------------------------------------------------------------------
    def add_layer(self, node_id: str) -> None:
        network = self.network
        layer = network.layers[node_id]
        sources = network.graph.inputs[node_id]
        inputs = [self.tensor_of[s] for s in sources] if sources else [INPUT_NAME]
        convert = _CONVERTERS.get(layer.type_name)
        if convert is None:
            raise OnnxExportError(f"{node_id}: the layer type {layer.type_name} has no standard ONNX equivalent "
                                  f"in LayerLab's ONNX export; remove or replace this node to export the design")
        doc = f"LayerLab {layer.type_name} {node_id!r}"
        self.tensor_of[node_id] = convert(self, node_id, layer, inputs, doc)

    def activation(self, name, x: str, node_id: str, doc: str) -> str:
        """``x`` through the activation called ``name`` (None or 'linear': ``x`` itself)."""
        if name in (None, "linear"):
            return x
        label = f"{node_id}/{name}"
        if name == "relu":
            return self.node("Relu", [x], label, doc)
        if name == "leaky_relu":
            return self.node("LeakyRelu", [x], label, doc, alpha=LEAKY_RELU_SLOPE)
        if name == "sigmoid":
            return self.node("Sigmoid", [x], label, doc)
        if name == "tanh":
            return self.node("Tanh", [x], label, doc)
        if name == "softmax":  # over channels or features, as the engine's
            return self.node("Softmax", [x], label, doc, axis=1)
        if name == "elu":
            return self.node("Elu", [x], label, doc, alpha=ELU_ALPHA)
        if name == "gelu":
            if self.opset >= GELU_NATIVE_OPSET:
                return self.node("Gelu", [x], label, doc, approximate="none")
            scaled = self.node("Div", [x, self.constant("sqrt2", math.sqrt(2.0))], f"{label}/div", doc)
            erf = self.node("Erf", [scaled], f"{label}/erf", doc)
            cdf = self.node("Add", [erf, self.constant("one", 1.0)], f"{label}/add", doc)
            product = self.node("Mul", [x, cdf], f"{label}/mul", doc)
            return self.node("Mul", [product, self.constant("half", 0.5)], label, doc)
        raise OnnxExportError(f"{node_id}: the activation {name!r} has no ONNX equivalent in LayerLab's ONNX export")

    def window_attributes(self, node_id: str, window, strides, padding) -> dict:
        """kernel_shape, strides and explicit pads [top, left, bottom, right], resolved as the engine does."""
        _, height, width = self.network.shapes[self.network.graph.inputs[node_id][0]].output_shape
        _, _, (top, bottom, left, right) = conv_geometry(height, width, window, strides, padding)
        return {"kernel_shape": list(window), "strides": list(strides), "pads": [top, left, bottom, right]}

    # -- the model ----------------------------------------------------------------------------------
    def model(self):
        helper, network, onnx = self.helper, self.network, self.onnx
        final = self.tensor_of[network.output_id]
        if final == INPUT_NAME:  # a design that is its Input alone still has an output to name
            final = self.node("Identity", [INPUT_NAME], f"{network.output_id}/identity", "the input, unchanged")
        # The last node writes "output" itself (no Identity in between, so Netron shows the real last op).
        last = next(n for n in reversed(self.nodes) if final in n.output)
        last.output[list(last.output).index(final)] = OUTPUT_NAME
        float32 = onnx.TensorProto.FLOAT
        graph = helper.make_graph(
            self.nodes, _safe_text(network.name) or "layerlab",
            [helper.make_tensor_value_info(INPUT_NAME, float32, [BATCH_DIM, *network.input_shape])],
            [helper.make_tensor_value_info(OUTPUT_NAME, float32, [BATCH_DIM, *network.output_shape])],
            self.initializers,
            doc_string=_safe_text(network.description or ""),
        )
        opset = helper.make_opsetid("", self.opset)
        model = helper.make_model(graph, opset_imports=[opset], producer_name=PRODUCER,
                                  producer_version=_layerlab_version(),
                                  doc_string=_model_doc(network))
        # The oldest IR version that carries this opset, so older runtimes and viewers open the file too.
        model.ir_version = helper.find_min_ir_version_for([opset])
        helper.set_model_props(model, {SPEC_METADATA_KEY: json.dumps(network.spec, sort_keys=True)})
        return onnx.shape_inference.infer_shapes(model, strict_mode=True)  # shapes on every edge, for Netron


# -- one converter per layer type: (graph, node id, layer, input tensor names, doc) -> output tensor name --------

def _input(graph, node_id, layer, inputs, doc):
    return INPUT_NAME


def _dense(graph, node_id, layer, inputs, doc):
    operands = [inputs[0], graph.weight(f"{node_id}.kernel", graph.state[f"{node_id}.kernel"])]  # (in, out)
    if layer.use_bias:
        operands.append(graph.weight(f"{node_id}.bias", graph.state[f"{node_id}.bias"]))
    linear = graph.node("Gemm", operands, node_id, doc)
    return graph.activation(layer.activation, linear, node_id, doc)


def _conv2d(graph, node_id, layer, inputs, doc):
    operands = [inputs[0], graph.weight(f"{node_id}.kernel", graph.state[f"{node_id}.kernel"])]  # (f, c, kh, kw)
    if layer.use_bias:
        operands.append(graph.weight(f"{node_id}.bias", graph.state[f"{node_id}.bias"]))
    window = graph.window_attributes(node_id, layer.kernel_hw, layer.stride_hw, layer.padding_rule)
    linear = graph.node("Conv", operands, node_id, doc, dilations=[1, 1], group=1, **window)
    return graph.activation(layer.activation, linear, node_id, doc)


def _max_pooling(graph, node_id, layer, inputs, doc):
    window = graph.window_attributes(node_id, layer.pool_hw, layer.stride_hw, layer.padding_rule)
    return graph.node("MaxPool", inputs[:1], node_id, doc, **window)


def _average_pooling(graph, node_id, layer, inputs, doc):
    window = graph.window_attributes(node_id, layer.pool_hw, layer.stride_hw, layer.padding_rule)
    return graph.node("AveragePool", inputs[:1], node_id, doc, count_include_pad=0, **window)


def _flatten(graph, node_id, layer, inputs, doc):
    return graph.node("Flatten", inputs[:1], node_id, doc, axis=1)


def _dropout(graph, node_id, layer, inputs, doc):
    # The rate rides along as the ratio input (ignored at inference) so that a reader of the file sees it.
    ratio = graph.weight(f"{node_id}.ratio", np.float32(layer.rate))
    return graph.node("Dropout", [inputs[0], ratio], node_id, doc)


def _batch_norm(graph, node_id, layer, inputs, doc):
    state = graph.state
    channels = state[f"{node_id}.moving_mean"].shape[0]
    # ONNX always takes a scale and a shift; a layer without them multiplies by one and adds zero.
    gamma = state[f"{node_id}.gamma"] if layer.scale else np.ones(channels, np.float32)
    beta = state[f"{node_id}.beta"] if layer.center else np.zeros(channels, np.float32)
    operands = [inputs[0],
                graph.weight(f"{node_id}.gamma" if layer.scale else f"{node_id}.gamma_ones", gamma),
                graph.weight(f"{node_id}.beta" if layer.center else f"{node_id}.beta_zeros", beta),
                graph.weight(f"{node_id}.moving_mean", state[f"{node_id}.moving_mean"]),
                graph.weight(f"{node_id}.moving_variance", state[f"{node_id}.moving_variance"])]
    return graph.node("BatchNormalization", operands, node_id, doc, epsilon=float(layer.epsilon),
                      momentum=float(layer.momentum))


def _activation(graph, node_id, layer, inputs, doc):
    return graph.activation(layer.activation, inputs[0], node_id, doc)


def _add(graph, node_id, layer, inputs, doc):
    total = inputs[0]
    for index, other in enumerate(inputs[1:], start=2):
        # ONNX's Add takes two operands: more inputs are summed left to right, as the engine does.
        label = node_id if index == len(inputs) else f"{node_id}/add{index - 1}"
        total = graph.node("Add", [total, other], label, doc)
    return total


def _concatenate(graph, node_id, layer, inputs, doc):
    rank = len(graph.network.shapes[node_id].output_shape)
    axis = layer.axis if layer.axis > 0 else layer.axis + rank + 1  # counted with the batch axis
    return graph.node("Concat", inputs, node_id, doc, axis=axis)


def _reshape(graph, node_id, layer, inputs, doc):
    # 0 copies the input's first axis, the batch, whatever its size; the rest is the shape the engine resolved.
    target = [0, *graph.network.shapes[node_id].output_shape]
    return graph.node("Reshape", [inputs[0], graph.int64(f"{node_id}.shape", target)], node_id, doc)


_CONVERTERS = {
    "Input": _input,
    "Dense": _dense,
    "Conv2D": _conv2d,
    "MaxPooling2D": _max_pooling,
    "AveragePooling2D": _average_pooling,
    "Flatten": _flatten,
    "Dropout": _dropout,
    "BatchNormalization": _batch_norm,
    "Activation": _activation,
    "Add": _add,
    "Concatenate": _concatenate,
    "Reshape": _reshape,
    **DECODER_CONVERTERS,
    **RECURRENT_CONVERTERS,
}
SUPPORTED_LAYER_TYPES = tuple(_CONVERTERS)


def _model_doc(network) -> str:
    text = f"{network.name}, designed in LayerLab"
    if network.description:
        text += f": {network.description}"
    return _safe_text(text)


def _safe_text(text: str) -> str:
    """``text`` as valid UTF-8 (a design's name may hold lone surrogates that protobuf refuses)."""
    return str(text).encode("utf-8", "replace").decode("utf-8")


def _layerlab_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("layerlab")
    except metadata.PackageNotFoundError:
        return "unknown"
