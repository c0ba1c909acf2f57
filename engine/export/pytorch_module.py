"""The ``nn.Module`` of an exported PyTorch script: a class mirroring the design, node by node, and the weights
renamed to its ``state_dict`` names.

    module = ModuleCode.of(network)      # PyTorchExportError naming the node for a layer torch cannot mirror
    module.source("SeedCnn")             # the class's code: __init__, reset_parameters, forward
    module.weights(network)              # {"conv1.weight": array, ...} for the .safetensors file

Every layer maps exactly (docs/spec.md for the math): "same" padding is TensorFlow's (the extra row and column
go after), which torch only has for stride 1, so an uneven pad is written as an ``F.pad`` before the layer;
average pooling divides by the real (unpadded) inputs of each window; BatchNormalization keeps LayerLab's
(Keras's) momentum and the biased batch variance (the script's own ``BatchNormalization`` class); a Dense
kernel, (in, out) in LayerLab, is transposed to nn.Linear's (out, in).
"""

from __future__ import annotations

import builtins
import keyword
import re
from dataclasses import dataclass, field

import numpy as np

from engine import initializers
from engine.export.pytorch_sequence_layers import SequenceAndDecoderLayers
from engine.ops.padding import conv_geometry

# Names the generated forward and script already use, and Python's built-ins (a node "sum" or "max" must not
# hide them): a node whose id would give one of them gets a "_" after.
RESERVED = {"x", "self", "F", "nn", "torch", "math", "np", "return_logits", "initialize", "pre_activation",
            "crop_to", "average_pool_padded"} | set(dir(builtins))

# activation name -> the expression applied to the code ``{}``
ACTIVATION_CODE = {
    None: "{}",
    "linear": "{}",
    "relu": "F.relu({})",
    "leaky_relu": "F.leaky_relu({}, 0.2)",  # LayerLab's (Keras's) slope, not torch's default 0.01
    "sigmoid": "torch.sigmoid({})",
    "tanh": "torch.tanh({})",
    "softmax": "torch.softmax({}, dim=1)",
    "elu": "F.elu({})",
    "gelu": "F.gelu({})",  # exact (erf) GELU in both
}

# the layers whose own activation the generated code applies (and leaves out for a fused loss)
ACTIVATED = ("Dense", "Conv2D", "Conv2DTranspose", "Activation")

# engine state name -> the torch module's
_TORCH_NAMES = {"kernel": "weight", "bias": "bias", "gamma": "weight", "beta": "bias",
                "moving_mean": "running_mean", "moving_variance": "running_var"}


class PyTorchExportError(ValueError):
    """A design LayerLab cannot write as PyTorch code; the message names the node and why."""


@dataclass
class ModuleCode(SequenceAndDecoderLayers):
    """The pieces of the class, gathered node by node in run order."""

    init_lines: list[str] = field(default_factory=list)
    reset_lines: list[str] = field(default_factory=list)
    forward_lines: list[str] = field(default_factory=list)
    regularized: list[str] = field(default_factory=list)  # "self.conv1.weight": what L2 applies to
    # engine name -> (torch name, how the value changes: False as it is, True transposed, or a function)
    renames: dict[str, tuple[str, object]] = field(default_factory=dict)
    constants: dict[str, np.ndarray] = field(default_factory=dict)  # torch tensors LayerLab has no twin of
    helpers: set[str] = field(default_factory=set)  # script helpers the class needs ("batch_norm", "avg_pool")
    fused_node: str | None = None  # the node whose pre-activation the loss reads (a fused sigmoid or softmax)

    @classmethod
    def of(cls, network) -> ModuleCode:
        code = cls()
        names = python_names(network.order)
        names[network.input_id] = "x"  # the forward's argument (no other node is named x: see RESERVED)
        head = network.output_head
        # The fused node is the output node, or the last layer with an activation before shape-only layers
        # (the dense autoencoder's sigmoid Dense before its Reshape): the loss reads its pre-activation.
        code.fused_node = fused_node(network) if head.fused else None
        for node_id in network.order:
            layer = network.layers[node_id]
            sources = network.graph.inputs[node_id]
            inputs = [names[s] for s in sources]
            input_shapes = [tuple(network.shapes[s].output_shape) for s in sources]
            is_output = node_id == network.output_id
            code._add(node_id, names[node_id], layer, inputs, input_shapes, node_id == code.fused_node,
                      is_output)
        return code

    # -- one node ------------------------------------------------------------------------------------
    def _add(self, node_id, name, layer, inputs, input_shapes, fused, is_output):
        kind = layer.type_name
        builder = getattr(self, f"_{kind}", None)
        if builder is None:
            raise PyTorchExportError(f"node {node_id!r} ({kind}): no PyTorch code is known for this layer type; "
                                     f"the PyTorch export takes {', '.join(sorted(SUPPORTED))}")
        activation = getattr(layer, "activation", None)
        if activation not in ACTIVATION_CODE and kind in ACTIVATED:
            raise PyTorchExportError(f"node {node_id!r} ({kind}): no PyTorch code is known for the activation "
                                     f"{activation!r}")
        expression = builder(node_id, name, layer, inputs, input_shapes)
        if kind in ACTIVATED:
            if fused and is_output:  # the loss reads the pre-activation (LayerLab fuses a final softmax or sigmoid)
                self.forward_lines += [f"{name} = {expression}", "if return_logits:", f"    return {name}",
                                       f"return {ACTIVATION_CODE[activation].format(name)}"]
                return
            if fused:  # shape-only layers follow: keep the pre-activation for the loss, reshaped at the end
                self.forward_lines.append(f"pre_activation = {expression}")
                expression = ACTIVATION_CODE[activation].format("pre_activation")
            else:
                expression = ACTIVATION_CODE[activation].format(expression)
        if expression is not None:
            self.forward_lines.append(f"{name} = {expression}")
        if is_output:
            if self.fused_node is not None and not fused:
                self.forward_lines += ["if return_logits:", f"    return pre_activation.reshape({name}.shape)"]
            self.forward_lines.append(f"return {name}")

    def _Input(self, node_id, name, layer, inputs, input_shapes):
        return None

    def _Dense(self, node_id, name, layer, inputs, input_shapes):
        n_in = input_shapes[0][0]
        bias = "" if layer.use_bias else ", bias=False"
        self.init_lines.append(f"self.{name} = nn.Linear({n_in}, {layer.units}{bias})")
        self._initializers(node_id, name, layer, input_shapes)
        return f"self.{name}({inputs[0]})"

    def _Conv2D(self, node_id, name, layer, inputs, input_shapes):
        channels, height, width = input_shapes[0]
        top, bottom, left, right = conv_geometry(height, width, layer.kernel_hw, layer.stride_hw,
                                                 layer.padding_rule)[2]
        arguments = [str(channels), str(layer.filters), f"kernel_size={_pair(layer.kernel_hw)}"]
        if layer.stride_hw != (1, 1):
            arguments.append(f"stride={_pair(layer.stride_hw)}")
        source = inputs[0]
        if top == bottom and left == right:
            if top or left:
                arguments.append(f"padding={_pair((top, left))}")
        else:  # TensorFlow's "same": the extra row and column of padding go after (bottom, right)
            source = f"F.pad({source}, ({left}, {right}, {top}, {bottom}))"
        if not layer.use_bias:
            arguments.append("bias=False")
        self.init_lines.append(f"self.{name} = nn.Conv2d({', '.join(arguments)})")
        self._initializers(node_id, name, layer, input_shapes)
        return f"self.{name}({source})"

    def _pooling(self, name, layer, inputs, input_shapes, torch_class):
        _, height, width = input_shapes[0]
        window, stride = layer.pool_hw, layer.stride_hw
        top, bottom, left, right = conv_geometry(height, width, window, stride, layer.padding_rule)[2]
        arguments = [_pair(window), _pair(stride)]
        # torch pads a pool evenly, by at most half its window; any other padding is written out before it
        even = top == bottom and left == right and top <= window[0] // 2 and left <= window[1] // 2
        if not (top or bottom or left or right):
            pass
        elif even:
            arguments.append(f"padding={_pair((top, left))}")
            if torch_class == "AvgPool2d":
                arguments.append("count_include_pad=False")  # LayerLab divides by the real inputs of a window
        elif torch_class == "MaxPool2d":
            source = f"F.pad({inputs[0]}, ({left}, {right}, {top}, {bottom}), value=-math.inf)"
            self.init_lines.append(f"self.{name} = nn.MaxPool2d({', '.join(arguments)})")
            return f"self.{name}({source})"
        else:
            self.helpers.add("avg_pool")
            return (f"average_pool_padded({inputs[0]}, {_pair(window)}, {_pair(stride)}, "
                    f"({left}, {right}, {top}, {bottom}))")
        self.init_lines.append(f"self.{name} = nn.{torch_class}({', '.join(arguments)})")
        return f"self.{name}({inputs[0]})"

    def _MaxPooling2D(self, node_id, name, layer, inputs, input_shapes):
        return self._pooling(name, layer, inputs, input_shapes, "MaxPool2d")

    def _AveragePooling2D(self, node_id, name, layer, inputs, input_shapes):
        return self._pooling(name, layer, inputs, input_shapes, "AvgPool2d")

    def _BatchNormalization(self, node_id, name, layer, inputs, input_shapes):
        self.helpers.add("batch_norm")
        channels = input_shapes[0][0]
        self.init_lines.append(f"self.{name} = BatchNormalization({channels}, momentum={layer.momentum!r}, "
                               f"epsilon={layer.epsilon!r}, center={layer.center}, scale={layer.scale})")
        for engine_name in ("gamma", "beta", "moving_mean", "moving_variance"):
            self.renames[f"{node_id}.{engine_name}"] = (f"{name}.{_TORCH_NAMES[engine_name]}", False)
        return f"self.{name}({inputs[0]})"

    def _Dropout(self, node_id, name, layer, inputs, input_shapes):
        self.init_lines.append(f"self.{name} = nn.Dropout({layer.rate!r})")
        return f"self.{name}({inputs[0]})"

    def _Flatten(self, node_id, name, layer, inputs, input_shapes):
        return f"torch.flatten({inputs[0]}, 1)"  # channels, rows, columns: LayerLab's order too

    def _Activation(self, node_id, name, layer, inputs, input_shapes):
        return inputs[0]

    def _Add(self, node_id, name, layer, inputs, input_shapes):
        return " + ".join(inputs)

    def _Concatenate(self, node_id, name, layer, inputs, input_shapes):
        dim = layer._example_axis(len(input_shapes[0])) + 1
        return f"torch.cat([{', '.join(inputs)}], dim={dim})"

    # -- initial weights -----------------------------------------------------------------------------
    def _initializers(self, node_id, name, layer, input_shapes):
        for engine_name, spec in layer.param_shapes(list(input_shapes)).items():
            torch_name = f"{name}.{_TORCH_NAMES[engine_name]}"
            self.renames[f"{node_id}.{engine_name}"] = (torch_name, spec.transposed)
            if spec.regularize:
                self.regularized.append(f"self.{torch_name}")
            config = initializers.get(spec.initializer).get_config()
            arguments = "".join(f", {key}={value!r}" for key, value in config.items() if key != "name")
            self.reset_lines.append(f'initialize(self.{torch_name}, "{config["name"]}", fan_in={spec.fans[0]}, '
                                    f"fan_out={spec.fans[1]}{arguments})")

    # -- output ----------------------------------------------------------------------------------------
    def source(self, class_name: str, design: str) -> str:
        lines = [f"class {class_name}(nn.Module):",
                 f'    """The design "{design}", layer by layer (node ids as attribute and variable names)."""',
                 "",
                 "    def __init__(self):",
                 "        super().__init__()"]
        lines += [f"        {line}" for line in self.init_lines]
        lines += ["        self.reset_parameters()", "",
                  "    def reset_parameters(self):",
                  '        """The initial weights LayerLab gives this design: its initializers, by name."""']
        lines += [f"        {line}" for line in self.reset_lines] or ["        pass"]
        lines += ["",
                  "    def forward(self, x, return_logits=False):",
                  '        """The design\'s output for a batch x (N, C, H, W or N, features): what LayerLab shows.',
                  "",
                  "        With return_logits, a final softmax (or sigmoid) is left out: what the loss reads.",
                  '        """']
        lines += [f"        {line}" for line in self.forward_lines]
        return "\n".join(lines) + "\n"

    def weights(self, network) -> dict[str, np.ndarray]:
        """The network's parameters and buffers under the class's state_dict names, float32, contiguous."""
        state = network.state_dict()
        out = {}
        for engine_name, value in state.items():
            torch_name, change = self.renames[engine_name]
            array = np.asarray(value, dtype=np.float32)
            if callable(change):
                array = change(array)
            elif change:
                array = array.T
            out[torch_name] = np.ascontiguousarray(array, dtype=np.float32)
        for torch_name, array in self.constants.items():
            out[torch_name] = np.ascontiguousarray(array, dtype=np.float32)
        return out


SUPPORTED = ("Input", "Dense", "Conv2D", "MaxPooling2D", "AveragePooling2D", "BatchNormalization", "Dropout",
             "Flatten", "Activation", "Add", "Concatenate", "Reshape", "UpSampling2D", "Conv2DTranspose",
             "SimpleRNN", "LSTM", "GRU")
SHAPE_ONLY = ("Reshape", "Flatten")  # layers that only move values: a fused sigmoid may come before them


def fused_node(network) -> str:
    """The node whose activation the loss fuses: the output node, or the last node before a chain of
    shape-only layers (Reshape, Flatten) that ends at the output."""
    node_id = network.output_id
    while network.layers[node_id].type_name in SHAPE_ONLY and len(network.graph.inputs[node_id]) == 1:
        node_id = network.graph.inputs[node_id][0]
    return node_id


def python_names(node_ids) -> dict[str, str]:
    """A distinct, lower-case Python identifier per node id ("conv-1" -> "conv_1", "2d" -> "node_2d");
    the Input node reads as ``x``, the forward's argument, unless another node claims it first."""
    names, taken = {}, set()
    for node_id in node_ids:
        name = re.sub(r"[^0-9a-zA-Z_]", "_", str(node_id)).lower().strip("_") or "node"
        if name[0].isdigit():
            name = f"node_{name}"
        if keyword.iskeyword(name) or name in RESERVED:
            name += "_"
        candidate, count = name, 2
        while candidate in taken:
            candidate, count = f"{name}_{count}", count + 1
        names[node_id] = candidate
        taken.add(candidate)
    return names


def _pair(values) -> str:
    """An int for a square window or stride, else a (height, width) tuple."""
    first, second = values
    return str(first) if first == second else f"({first}, {second})"
