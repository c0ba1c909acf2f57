"""ONNX operators as LayerLab layers: one method per operator, building the spec's nodes, edges and weights.

Each ONNX node becomes a layer, folds into the layer before it (a Gemm's Relu becomes the Dense's
``activation``; MatMul then Add of a bias becomes one Dense), or disappears (Identity, a Reshape that keeps
the shape, constant arithmetic). Weights are put in engine state_dict naming and layout: Dense kernels
(in, out), Conv2D kernels (filters, in_channels, kh, kw) as ONNX has them.

A setting LayerLab's layer does not have (a grouped convolution, a dilation, padding that differs by more
than "same" allows) raises ``Unsupported`` naming the attribute, so the refusal can say what to change.
"""

from __future__ import annotations

import re

import numpy as np

from engine.errors import SpecError
from engine.export.onnx_decoder import DecoderOps
from engine.export.onnx_graph import (
    BATCH,
    FOLDABLE,
    NO_LAYER,
    FoldError,
    Permuted,
    Tensor,
    Unsupported,
    attributes,
    bias_values,
    fold,
    is_data,
)
from engine.export.onnx_recurrent import RecurrentOps
from engine.export.onnx_windows import no_dilation, padded_size, padding_rule, pair
from engine.layers import make_layer

# Operators with a LayerLab layer (or folded into one); the refusal lists them.
SUPPORTED = ("Gemm", "MatMul", "Add", "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
             "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softmax", "Elu", "Gelu", "Flatten", "Reshape",
             "BatchNormalization", "Dropout", "Concat", "Identity", "Resize", "ConvTranspose", "RNN", "LSTM", "GRU")
# (Transpose, Squeeze and Gather are read too, as constant arithmetic or around a recurrent operator: FOLDABLE)
SIMPLE_ACTIVATIONS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Softmax": "softmax",
                      "LeakyRelu": "leaky_relu", "Elu": "elu", "Gelu": "gelu"}
MAX_ID_CHARS = 64  # a node name in a file may be any length; an id is shown on the canvas (the end is kept)
LEAKY_SLOPE, ELU_ALPHA = 0.2, 1.0  # the engine's fixed leaky_relu slope and elu alpha (docs/spec.md)
FUSES_ACTIVATION = ("Dense", "Conv2D", "Conv2DTranspose")
__all__ = ["NO_LAYER", "SUPPORTED", "GraphTranslator", "Unsupported"]


def as_written(value) -> float:
    """A float32 attribute as the person wrote it (1e-05, not 9.999999747378752e-06), for the inspector."""
    return float(str(np.float32(value)))


class GraphTranslator(DecoderOps, RecurrentOps):
    """Walks an ONNX graph in order, building a LayerLab spec. ``values`` maps each ONNX value name to a
    constant (np.ndarray), a ``Tensor`` (a layer's output) or a ``Permuted`` one (its axes moved, around a
    recurrent operator). Resize and ConvTranspose are read in engine/export/onnx_decoder.py, RNN, LSTM and
    GRU (with the Transpose, Squeeze and Gather around them) in engine/export/onnx_recurrent.py."""

    def __init__(self, onnx, nodes: list, graph_outputs: list[str], constants: dict, opset: int):
        self.onnx, self.opset = onnx, opset
        self.values: dict[str, object] = dict(constants)
        self.nodes: list[dict] = []
        self.edges: list[list[str]] = []
        self.weights: dict[str, np.ndarray] = {}
        self.notes: list[str] = []
        self._ids: set[str] = set()
        self._by_id: dict[str, dict] = {}
        self.readers: dict[str, int] = {}  # node id -> how many ONNX reads its output has, through every alias
        self.uses: dict[str, int] = {}  # how many nodes (and graph outputs) read each value
        for node in nodes:
            for name in node.input:
                if name:
                    self.uses[name] = self.uses.get(name, 0) + 1
        for name in graph_outputs:
            self.uses[name] = self.uses.get(name, 0) + 1

    # -- the spec being built ---------------------------------------------------------------------------

    def new_id(self, onnx_name: str, op: str) -> str:
        """A node id from the ONNX node's name: '/features/conv1/Conv' -> 'features_conv1_Conv', unique."""
        base = re.sub(r"[^A-Za-z0-9_-]+", "_", onnx_name or "").strip("_")[-MAX_ID_CHARS:].strip("_") or op.lower()
        node_id, count = base, 1
        while node_id in self._ids:
            count += 1
            node_id = f"{base}_{count}"
        self._ids.add(node_id)
        return node_id

    def add_input(self, name: str, shape: tuple[int, ...]) -> None:
        """The Input node for the graph input ``name`` (one example's ``shape``)."""
        node_id = self.new_id(name or "input", "input")
        node = {"id": node_id, "type": "Input", "shape": list(shape)}
        self.nodes.append(node)
        self._by_id[node_id] = node
        self.values[name] = Tensor(node_id, shape)
        self.readers[node_id] = self.uses.get(name, 0)

    def add_layer(self, onnx_node, layer: dict, inputs: list[Tensor], weights: dict | None = None) -> Tensor:
        """Add ``layer`` (a spec node without id) reading ``inputs``; its output Tensor."""
        name = onnx_node.name
        if layer["type"] == "Activation" and name.endswith(f"/{layer['activation']}"):
            name = name[: -len(layer["activation"]) - 1]  # LayerLab's export names an Activation 'act' 'act/tanh'
        node_id = self.new_id(name, onnx_node.op_type)
        node = {"id": node_id, **layer}
        try:
            shape = tuple(make_layer(node).output_shape([t.shape for t in inputs]))
        except (SpecError, ValueError) as exc:
            detail = exc.detail if isinstance(exc, SpecError) else str(exc)
            raise Unsupported(f"as a LayerLab {layer['type']}: {detail}") from None
        self.nodes.append(node)
        self._by_id[node_id] = node
        self.edges.extend([t.node_id, node_id] for t in inputs)
        for name, value in (weights or {}).items():
            self.weights[f"{node_id}.{name}"] = np.ascontiguousarray(value, dtype=np.float32)
        return Tensor(node_id, shape)

    def node_of(self, tensor: Tensor) -> dict:
        return self._by_id[tensor.node_id]

    def read_once(self, tensor: Tensor) -> bool:
        """True when the node being translated is the only reader of ``tensor`` under any of its names (so
        folding a bias or an activation into the layer that made it changes nothing else)."""
        return self.readers.get(tensor.node_id, 0) == 1

    # -- walking ------------------------------------------------------------------------------------------

    def translate(self, node) -> None:
        op = node.op_type
        attrs = attributes(node, self.onnx)
        inputs = [self.values.get(name) if name else None for name in node.input]
        missing = [name for name, value in zip(node.input, inputs, strict=True) if name and value is None]
        if missing:
            raise Unsupported(f"reads {', '.join(missing)}, which no node, input or initializer provides")
        if op in FOLDABLE and (op in ("Constant", "Shape") or not any(is_data(v) for v in inputs)):
            try:
                self.values[node.output[0]] = fold(op, inputs, attrs, self.opset)
            except FoldError as exc:
                raise Unsupported(str(exc)) from None
            except (ValueError, IndexError, TypeError, KeyError) as exc:
                raise Unsupported(f"cannot be worked out ({exc})") from None
            return
        method = getattr(self, f"_op_{op}", None)
        if method is None:
            raise Unsupported(NO_LAYER)
        result = method(node, inputs, attrs)
        if result is None:  # an operator with several outputs put them in place itself
            return
        self.values[node.output[0]] = result
        uses = self.uses.get(node.output[0], 0)
        if any(is_data(v) and v.node_id == result.node_id for v in inputs):  # an alias: one read less
            self.readers[result.node_id] += uses - 1
        else:
            self.readers[result.node_id] = uses

    def tensor(self, value, what: str = "its input") -> Tensor:
        if isinstance(value, Permuted):
            raise Unsupported(f"{what} has its axes in another order than the batch first (a Transpose LayerLab "
                              f"reads only around a recurrent operator)")
        if not isinstance(value, Tensor):
            raise Unsupported(f"{what} is a constant; LayerLab layers read the network's data")
        return value

    # -- dense ------------------------------------------------------------------------------------------

    def _op_Gemm(self, node, inputs, attrs):
        x = self.tensor(inputs[0])
        weight = inputs[1]
        if not isinstance(weight, np.ndarray) or weight.ndim != 2:
            raise Unsupported("multiplies by something other than a constant matrix of weights")
        if attrs.get("transA", 0):
            raise Unsupported("has transA=1 (its input transposed); LayerLab's Dense reads x @ W")
        kernel = weight.T if attrs.get("transB", 0) else weight
        kernel = kernel * attrs.get("alpha", 1.0)
        bias = None
        if len(inputs) > 2 and inputs[2] is not None:
            bias = self._bias(inputs[2], kernel.shape[1], rank=2) * attrs.get("beta", 1.0)
        return self._dense(node, x, kernel, bias)

    def _op_MatMul(self, node, inputs, attrs):
        x = self.tensor(inputs[0])
        if not isinstance(inputs[1], np.ndarray) or inputs[1].ndim != 2:
            raise Unsupported("multiplies by something other than a constant matrix of weights")
        return self._dense(node, x, inputs[1], None)

    def _dense(self, node, x: Tensor, kernel: np.ndarray, bias):
        if len(x.shape) != 1:
            raise Unsupported(f"reads a {'x'.join(map(str, x.shape))} input; LayerLab's Dense reads a flat one")
        if kernel.shape[0] != x.shape[0]:
            raise Unsupported(f"has weights for {kernel.shape[0]} inputs but reads {x.shape[0]}")
        weights = {"kernel": kernel}
        if bias is not None:
            weights["bias"] = bias
        layer = {"type": "Dense", "units": int(kernel.shape[1]), "use_bias": bias is not None}
        return self.add_layer(node, layer, [x], weights)

    _bias = staticmethod(bias_values)  # engine/export/onnx_graph.py

    # -- add: a bias folded into the layer before, or LayerLab's Add ----------------------------------------

    def _op_Add(self, node, inputs, attrs):
        tensors = [v for v in inputs if isinstance(v, Tensor)]
        constants = [v for v in inputs if isinstance(v, np.ndarray)]
        if len(tensors) == 2:
            if tensors[0].shape != tensors[1].shape:
                raise Unsupported("adds tensors of different shapes (broadcasting); LayerLab's Add needs one shape")
            return self.add_layer(node, {"type": "Add"}, tensors)
        x, constant = tensors[0], constants[0]
        maker = self.node_of(x)
        if maker["type"] in FUSES_ACTIVATION and not maker["use_bias"] and maker.get("activation") is None \
                and self.read_once(x):
            dense = maker["type"] == "Dense"
            bias = self._bias(constant, maker["units"] if dense else maker["filters"], rank=2 if dense else 4)
            maker["use_bias"] = True
            self.weights[f"{maker['id']}.bias"] = bias
            return x
        raise Unsupported("adds a constant to a layer's output; LayerLab adds constants only as a Dense or "
                          "Conv2D bias")

    # -- convolution and pooling ----------------------------------------------------------------------------

    def _op_Conv(self, node, inputs, attrs):
        x = self.tensor(inputs[0])
        kernel = inputs[1]
        if not isinstance(kernel, np.ndarray) or kernel.ndim != 4:
            raise Unsupported("is not a 2-D convolution with constant weights (LayerLab has Conv2D only)")
        if attrs.get("group", 1) != 1:
            raise Unsupported(f"has group={attrs['group']} (a grouped or depthwise convolution); LayerLab's "
                              f"Conv2D has group=1 only")
        no_dilation(attrs)
        if len(x.shape) != 3 or kernel.shape[1] != x.shape[0]:
            raise Unsupported(f"has weights for {kernel.shape[1]} input channels but reads "
                              f"{'x'.join(map(str, x.shape))}")
        window = tuple(int(k) for k in kernel.shape[2:])
        strides = pair(attrs.get("strides", [1, 1]))
        padding = padding_rule(attrs, x, window, strides)
        weights = {"kernel": kernel}
        has_bias = len(inputs) > 2 and inputs[2] is not None
        if has_bias:
            weights["bias"] = self._bias(inputs[2], kernel.shape[0])
        layer = {"type": "Conv2D", "filters": int(kernel.shape[0]), "kernel_size": list(window),
                 "strides": list(strides), "padding": padding, "use_bias": has_bias}
        return self.add_layer(node, layer, [x], weights)

    def _op_MaxPool(self, node, inputs, attrs):
        return self._pool(node, inputs, attrs, "MaxPooling2D")

    def _op_AveragePool(self, node, inputs, attrs):
        if attrs.get("count_include_pad", 0) and any(attrs.get("pads", [0])):
            raise Unsupported("has count_include_pad=1 with padding; LayerLab's average leaves padding out")
        return self._pool(node, inputs, attrs, "AveragePooling2D")

    def _pool(self, node, inputs, attrs, layer_type):
        x = self._image(inputs[0])
        if len(outputs := [o for o in node.output if o]) > 1 and self.uses.get(outputs[1]):
            raise Unsupported("has its Indices output read; LayerLab's pooling gives values only")
        no_dilation(attrs)
        window = pair(attrs["kernel_shape"])
        strides = pair(attrs.get("strides", [1, 1]))
        padding = padding_rule(attrs, x, window, strides)
        if attrs.get("ceil_mode", 0):
            padded = padded_size(x, window, strides, padding)
            if any((p - k) % s for p, k, s in zip(padded, window, strides, strict=True)):
                raise Unsupported("has ceil_mode=1 where it changes the output size; LayerLab rounds down")
        layer = {"type": layer_type, "pool_size": list(window), "strides": list(strides), "padding": padding}
        return self.add_layer(node, layer, [x])

    def _op_GlobalAveragePool(self, node, inputs, attrs):
        x = self._image(inputs[0])
        window = list(x.shape[1:])
        return self.add_layer(node, {"type": "AveragePooling2D", "pool_size": window, "strides": window}, [x])

    def _op_GlobalMaxPool(self, node, inputs, attrs):
        x = self._image(inputs[0])
        window = list(x.shape[1:])
        return self.add_layer(node, {"type": "MaxPooling2D", "pool_size": window, "strides": window}, [x])

    def _image(self, value) -> Tensor:
        x = self.tensor(value)
        if len(x.shape) != 3:
            raise Unsupported(f"reads a {'x'.join(map(str, x.shape))} input; LayerLab pools images (2-D) only")
        return x

    # -- activations ----------------------------------------------------------------------------------------

    def _activation(self, node, inputs, attrs):
        x = self.tensor(inputs[0])
        op = node.op_type
        name = SIMPLE_ACTIVATIONS[op]
        if op == "LeakyRelu" and not np.isclose(attrs.get("alpha", 0.01), LEAKY_SLOPE):
            raise Unsupported(f"has alpha={attrs.get('alpha', 0.01):g}; LayerLab's leaky_relu has slope {LEAKY_SLOPE}")
        if op == "Elu" and not np.isclose(attrs.get("alpha", 1.0), ELU_ALPHA):
            raise Unsupported(f"has alpha={attrs['alpha']:g}; LayerLab's elu has alpha {ELU_ALPHA:g}")
        if op == "Gelu" and attrs.get("approximate", "none") != "none":
            raise Unsupported("has approximate='tanh'; LayerLab's gelu is the exact one (with erf)")
        if op == "Softmax":
            self._softmax_axis(x, attrs)
        maker = self.node_of(x)
        if maker["type"] in FUSES_ACTIVATION and maker.get("activation") is None \
                and self.read_once(x):
            maker["activation"] = name
            return x
        return self.add_layer(node, {"type": "Activation", "activation": name}, [x])

    _op_Relu = _op_Sigmoid = _op_Tanh = _op_Softmax = _op_LeakyRelu = _op_Elu = _op_Gelu = _activation

    def _softmax_axis(self, x: Tensor, attrs):
        rank = len(x.shape) + 1
        axis = attrs.get("axis", -1 if self.opset >= 13 else 1)
        axis = axis % rank
        if self.opset < 13 and rank > 2:
            raise Unsupported("is an opset-12 softmax over several axes of an image; LayerLab's acts over channels")
        if axis != 1:
            raise Unsupported(f"acts along axis {attrs.get('axis', -1)}; LayerLab's softmax acts over the "
                              f"channels (axis 1)")

    # -- shapes ---------------------------------------------------------------------------------------------

    def _op_Flatten(self, node, inputs, attrs):
        x = self.tensor(inputs[0])
        axis = attrs.get("axis", 1) % (len(x.shape) + 1)
        if axis != 1:
            raise Unsupported(f"flattens from axis {attrs['axis']}; LayerLab's Flatten keeps the batch (axis 1)")
        return x if len(x.shape) == 1 else self.add_layer(node, {"type": "Flatten"}, [x])

    def _op_Reshape(self, node, inputs, attrs):
        x = self.tensor(inputs[0])
        target = inputs[1]
        if not isinstance(target, np.ndarray):
            raise Unsupported("has a shape LayerLab cannot work out before running (a dynamic shape)")
        target = target.astype(np.int64).reshape(-1).tolist()
        if attrs.get("allowzero", 0) and 0 in target:
            raise Unsupported("has allowzero=1 and a 0 in its shape: an empty tensor")
        example = self._example_shape(x, target)
        if example == x.shape:
            return x
        if len(example) == 1:  # as a person would place it (torch writes x.view(x.size(0), -1) this way)
            return self.add_layer(node, {"type": "Flatten"}, [x])
        if len(example) > 3:
            raise Unsupported(f"reshapes {'x'.join(map(str, x.shape))} to {'x'.join(map(str, example))}; LayerLab's "
                              f"Reshape gives 1 to 3 axes")
        return self.add_layer(node, {"type": "Reshape", "target_shape": list(example)}, [x])

    @staticmethod
    def _example_shape(x: Tensor, target: list[int]) -> tuple[int, ...]:
        """One example's shape after the Reshape, or Unsupported if the batch does not stay first."""
        size = int(np.prod(x.shape))
        if not target or target[0] not in (BATCH, 0, -1) or any(t in (BATCH,) for t in target[1:]):
            raise Unsupported(f"reshapes to {target}, which does not keep the batch first")
        rest = [x.shape[i - 1] if t == 0 else t for i, t in enumerate(target) if i > 0]
        if target[0] == -1 and -1 in rest:
            raise Unsupported("has two unknown sizes (-1) in its shape")
        if -1 in rest:
            known = int(np.prod([t for t in rest if t != -1]))
            rest[rest.index(-1)] = size // known if known and size % known == 0 else -2
        if any(t < 1 for t in rest) or int(np.prod(rest)) != size:
            raise Unsupported(f"reshapes {'x'.join(map(str, x.shape))} to a shape of a different size or with "
                              f"the batch folded in ({target})")
        return tuple(rest)

    # -- normalisation, dropout, merging ----------------------------------------------------------------------

    def _op_BatchNormalization(self, node, inputs, attrs):
        x = self.tensor(inputs[0])
        if attrs.get("training_mode", 0) or len([o for o in node.output if o]) > 1:
            raise Unsupported("is in training mode (training_mode=1); export the model in inference mode")
        params = inputs[1:5]
        if len(params) != 4 or not all(isinstance(p, np.ndarray) and p.size == x.shape[0] for p in params):
            raise Unsupported("has scale, bias, mean or variance that are not constants of one value a channel")
        momentum = float(attrs.get("momentum", 0.9))
        layer = {"type": "BatchNormalization", "epsilon": as_written(attrs.get("epsilon", 1e-5)),
                 "momentum": as_written(momentum) if 0.0 <= momentum < 1.0 else 0.99}
        weights = {"gamma": params[0].reshape(-1), "beta": params[1].reshape(-1),
                   "moving_mean": params[2].reshape(-1), "moving_variance": params[3].reshape(-1)}
        return self.add_layer(node, layer, [x], weights)

    def _op_Dropout(self, node, inputs, attrs):
        x = self.tensor(inputs[0])
        if len(node.output) > 1 and node.output[1] and self.uses.get(node.output[1]):
            raise Unsupported("has its mask output read; LayerLab's Dropout gives values only")
        ratio = attrs.get("ratio", 0.5)
        if len(inputs) > 1 and isinstance(inputs[1], np.ndarray):
            ratio = float(inputs[1].reshape(-1)[0])
        rate = as_written(min(max(ratio, 0.0), 0.95))
        return self.add_layer(node, {"type": "Dropout", "rate": rate}, [x])

    def _op_Identity(self, node, inputs, attrs):
        return inputs[0]

    def _op_Concat(self, node, inputs, attrs):
        tensors = [self.tensor(v, "one of its inputs") for v in inputs]
        rank = len(tensors[0].shape) + 1
        axis = attrs.get("axis", 1)
        if axis % rank == 0:
            raise Unsupported("joins along the batch axis (0)")
        positive = axis % rank
        return self.add_layer(node, {"type": "Concatenate", "axis": positive}, tensors)

