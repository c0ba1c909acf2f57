"""A network's nodes as lines of Keras 3 functional-API code, and its weights in Keras's layout.

Used by ``engine.export.keras_code``. LayerLab is channels-first (NCHW, conv kernels (out, in, kh, kw));
the Keras model is channels-last, Keras's default on every backend (the torch backend's CPU pooling and
convolution take channels_first too, but TensorFlow's CPU kernels do not), so:

* the model reads (height, width, channels) images and conv kernels are stored (kh, kw, in, out);
* a Flatten of an image is preceded by ``Permute((3, 1, 2))``, which puts the features back in LayerLab's
  channel, height, width order: every Dense weight (and a flat BatchNormalization's statistics, and any
  Concatenate of flattened branches) is then LayerLab's own, unchanged, wherever the Flatten leads;
* channel axes move: BatchNormalization and a Concatenate of channels act on the last axis.

Explicit integer padding of a convolution becomes a ``ZeroPadding2D`` before a "valid" convolution (the same
zeros). A pooling with explicit padding, and an average pooling whose "same" border is uneven, become the
script's own ``PaddedPooling2D`` (keras_script.PADDED_POOLING): Keras pools pad only for "same", and its torch
backend fills an uneven "same" border by repeating the edge pixels, which an average then counts (LayerLab
and TensorFlow average the real pixels only). A layer type this module does not know is refused, naming the node.
"""

from __future__ import annotations

import builtins
import keyword
import re

import numpy as np

from engine.errors import SpecError
from engine.export.keras_sequence_layers import SequenceAndDecoderEmitters
from engine.initializers import get as get_initializer
from engine.ops.padding import conv_geometry

# Keras's initializer class for each of LayerLab's (the arguments are the same, by design).
KERAS_INITIALIZERS = {
    "zeros": "Zeros", "ones": "Ones", "constant": "Constant", "glorot_uniform": "GlorotUniform",
    "glorot_normal": "GlorotNormal", "he_uniform": "HeUniform", "he_normal": "HeNormal",
    "lecun_uniform": "LecunUniform", "lecun_normal": "LecunNormal", "truncated_normal": "TruncatedNormal",
    "random_normal": "RandomNormal", "random_uniform": "RandomUniform", "variance_scaling": "VarianceScaling",
    "orthogonal": "Orthogonal",
}


# Names a node's variable must not take: the script's imports and globals, and Python's builtins.
RESERVED = {"keras", "layers", "np", "argparse", "gzip", "Path", "PaddedPooling2D", "StepDecay", "InputNoise",
            *dir(builtins)}
LINE = 112  # the longest line written before breaking a call's arguments


def wrap(statement: str) -> str:
    """``statement`` broken after the commas of its first call's arguments where it is longer than LINE,
    continuation lines aligned under that call's first argument (string literals are never broken)."""
    if len(statement) + 4 <= LINE:
        return statement
    opening = statement.index("(")
    pieces, depth, start, quote, i = [], 0, 0, None, 0
    while i < len(statement):
        char = statement[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 1 and i > opening:
            pieces.append(statement[start:i + 1])
            start = i + 2
        i += 1
    pieces.append(statement[start:])
    lines, current = [], pieces[0]
    for piece in pieces[1:]:
        if len(current) + 1 + len(piece) + 4 > LINE:
            lines.append(current)
            current = " " * (opening + 1) + piece
        else:
            current += " " + piece
    lines.append(current)
    return "\n    ".join(lines)


class KerasExportError(SpecError):
    """A design, or one node of it, that the Keras export cannot write; the message names the node."""


class KerasGraph(SequenceAndDecoderEmitters):
    """The code of ``build_model()``'s body and the weights it loads, for one network.

    ``lines``: the statements building the model (each node a layer called on its inputs, in run order);
    ``input_var`` and ``output_var``: the variables holding the model's input and output; ``model_name``;
    ``weights``: {key: array in Keras layout};
    ``weight_names``: {Keras layer name: [keys, in the order ``layer.set_weights`` takes them]}.
    ``l2``: the L2 factor of every kernel's ``kernel_regularizer`` (0: none). ``input_noise``: the standard
    deviation of the script's ``InputNoise`` layer after the input (training only; 0: none).
    """

    def __init__(self, network, l2: float = 0.0, input_noise: float = 0.0):
        self.network = network
        self.l2 = float(l2)
        self.input_noise = float(input_noise or 0.0)
        self.lines: list[str] = []
        self.weights: dict[str, np.ndarray] = {}
        self.weight_names: dict[str, list[str]] = {}
        self._vars: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self._taken_vars: set[str] = set()
        self._taken_names: set[str] = set()
        self.needs_padded_pooling = False  # the script must define its PaddedPooling2D layer
        state = network.state_dict()
        for node_id in network.order:
            self._emit(node_id, state)
        self.output_var = self._vars[network.output_id]
        self.model_name = self._unique_name(network.name or "network")
        if len(network.output_shape) == 3:  # an image output: flattened in CHW order, as the loss reads it
            flat = self._unique_var("outputs_flat")
            self.lines.append(f"{flat} = layers.Flatten(name={self._unique_name('output_flat')!r})("
                              f"layers.Permute((3, 1, 2), name={self._unique_name('output_to_chw')!r})"
                              f"({self.output_var}))")
            self.output_var = flat

    # -- names ------------------------------------------------------------------------------------
    def _unique_var(self, base: str) -> str:
        name = re.sub(r"\W", "_", base, flags=re.ASCII) or "node"
        if name[0].isdigit() or keyword.iskeyword(name) or name in RESERVED:
            name = f"x_{name}"
        candidate, n = name, 2
        while candidate in self._taken_vars:
            candidate, n = f"{name}_{n}", n + 1
        self._taken_vars.add(candidate)
        return candidate

    def _unique_name(self, base: str) -> str:
        # Keras refuses "/" in a layer's name; anything else in a node id is kept.
        name = base.replace("/", "_") or "node"
        candidate, n = name, 2
        while candidate in self._taken_names:
            candidate, n = f"{name}_{n}", n + 1
        self._taken_names.add(candidate)
        return candidate

    # -- nodes ------------------------------------------------------------------------------------
    def _emit(self, node_id: str, state: dict) -> None:
        layer = self.network.layers[node_id]
        kind = layer.type_name
        var = self._vars[node_id] = self._unique_var(node_id)
        name = self._names[node_id] = self._unique_name(node_id)
        sources = [self._vars[s] for s in self.network.graph.inputs[node_id]]
        source = sources[0] if sources else None
        input_shapes = [self.network.shapes[s].output_shape for s in self.network.graph.inputs[node_id]]
        emit = getattr(self, f"_emit_{kind}", None)
        if emit is None:
            raise KerasExportError(f"a {kind} layer has no Keras equivalent this export knows, so the design "
                                   f"cannot be written as Keras code", node_id, "no Keras equivalent")
        call = emit(layer, name, source, sources, input_shapes)
        self.lines.append(wrap(f"{var} = {call}"))
        self._add_weights(layer, node_id, name, state)
        if kind == "Input":
            self.input_var = var
            if self.input_noise:  # the layers read the noisy inputs; the model (and the targets) the clean ones
                noisy = self._vars[node_id] = self._unique_var("noisy_input")
                clip = len(layer.shape) == 3  # images clipped back to [0, 1], as LayerLab does
                self.lines.append(f"{noisy} = InputNoise({self.input_noise!r}, clip={clip!r}, "
                                  f"name={self._unique_name('input_noise')!r})({var})")

    def _emit_Input(self, layer, name, source, sources, input_shapes):
        shape = layer.shape if len(layer.shape) == 1 else [layer.shape[1], layer.shape[2], layer.shape[0]]
        return f"keras.Input(shape={tuple(shape)!r}, name={name!r})"

    def _emit_Dense(self, layer, name, source, sources, input_shapes):
        args = [str(layer.units), *self._common_args(layer, name)]
        return f"layers.Dense({', '.join(args)})({source})"

    def _emit_Conv2D(self, layer, name, source, sources, input_shapes):
        padding = layer.padding_rule
        if not isinstance(padding, str):
            if padding != (0, 0):  # the same zeros LayerLab pads with, then a valid convolution
                padded = self._unique_var(f"{name}_pad")
                pad_name = self._unique_name(f"{name}_pad")
                self.lines.append(wrap(f"{padded} = layers.ZeroPadding2D({padding!r}, name={pad_name!r})({source})"))
                source = padded
            padding = "valid"
        args = [str(layer.filters), f"{layer.kernel_hw!r}", f"strides={layer.stride_hw!r}", f"padding={padding!r}",
                *self._common_args(layer, name)]
        return f"layers.Conv2D({', '.join(args)})({source})"

    def _pooling(self, keras_type, layer, name, source, input_shape):
        padding = layer.padding_rule
        _, _, pads = conv_geometry(input_shape[1], input_shape[2], layer.pool_hw, layer.stride_hw, padding)
        top, bottom, left, right = pads
        uneven_average = keras_type == "AveragePooling2D" and (top != bottom or left != right)
        if isinstance(padding, str) and not uneven_average:
            return (f"layers.{keras_type}({layer.pool_hw!r}, strides={layer.stride_hw!r}, padding={padding!r}, "
                    f"name={name!r})({source})")
        if not isinstance(padding, str) and not any(pads):
            return (f"layers.{keras_type}({layer.pool_hw!r}, strides={layer.stride_hw!r}, padding='valid', "
                    f"name={name!r})({source})")
        # Explicit padding (Keras pools pad only for "same"), or an uneven "same" border of an average (Keras's torch
        # backend fills it by repeating the edge pixels, which the average then counts): the script's own layer.
        self.needs_padded_pooling = True
        mode = "max" if keras_type == "MaxPooling2D" else "average"
        return (f"PaddedPooling2D({mode!r}, {layer.pool_hw!r}, {layer.stride_hw!r}, pads={pads!r}, "
                f"name={name!r})({source})")

    def _emit_MaxPooling2D(self, layer, name, source, sources, input_shapes):
        return self._pooling("MaxPooling2D", layer, name, source, input_shapes[0])

    def _emit_AveragePooling2D(self, layer, name, source, sources, input_shapes):
        return self._pooling("AveragePooling2D", layer, name, source, input_shapes[0])

    def _emit_BatchNormalization(self, layer, name, source, sources, input_shapes):
        # LayerLab keeps Keras's conventions: moving = moving * momentum + batch * (1 - momentum), and epsilon
        # added to the variance; so both are copied as they are (PyTorch's momentum would be 1 - this one).
        return (f"layers.BatchNormalization(axis=-1, momentum={layer.momentum!r}, epsilon={layer.epsilon!r}, "
                f"center={layer.center!r}, scale={layer.scale!r}, name={name!r})({source})")

    def _emit_Dropout(self, layer, name, source, sources, input_shapes):
        return f"layers.Dropout({layer.rate!r}, name={name!r})({source})"

    def _emit_Activation(self, layer, name, source, sources, input_shapes):
        # softmax acts over the last axis: the channels of a channels-last image, as LayerLab's over its channels
        return f"layers.Activation({layer.activation!r}, name={name!r})({source})"

    def _emit_Flatten(self, layer, name, source, sources, input_shapes):
        if len(input_shapes[0]) == 3:  # (H, W, C) -> (C, H, W), so the features come out in LayerLab's order
            chw = self._unique_var(f"{name}_to_chw")
            self.lines.append(wrap(f"{chw} = layers.Permute((3, 1, 2), name={self._unique_name(chw)!r})({source})"))
            source = chw
        return f"layers.Flatten(name={name!r})({source})"

    def _emit_Add(self, layer, name, source, sources, input_shapes):
        return f"layers.Add(name={name!r})([{', '.join(sources)}])"

    def _emit_Concatenate(self, layer, name, source, sources, input_shapes):
        rank = len(input_shapes[0])
        axis = layer._example_axis(rank)  # 0-based within one example
        if rank == 3:
            axis = {0: 3, 1: 1, 2: 2}[axis]  # (C, H, W) -> Keras's (batch, H, W, C) axes
        else:
            axis += 1
        return f"layers.Concatenate(axis={axis}, name={name!r})([{', '.join(sources)}])"

    def _common_args(self, layer, name: str) -> list[str]:
        """activation, use_bias, the name, the initializers and the L2 regularizer of a Dense or Conv2D."""
        args = []
        if layer.activation not in (None, "linear"):
            args.append(f"activation={layer.activation!r}")
        if not layer.use_bias:
            args.append("use_bias=False")
        args.append(f"name={name!r}")
        args.append(f"kernel_initializer={_initializer_code(layer.kernel_initializer)}")
        if layer.use_bias:
            args.append(f"bias_initializer={_initializer_code(layer.bias_initializer)}")
        if self.l2:
            # LayerLab adds l2 * w to a kernel's gradient; Keras's L2(f) adds f * sum(w**2) to the loss,
            # whose gradient is 2 f w: so f = l2 / 2.
            args.append(f"kernel_regularizer=keras.regularizers.L2({self.l2 / 2!r})")
        return args

    # -- weights ----------------------------------------------------------------------------------
    def _add_weights(self, layer, node_id: str, name: str, state: dict) -> None:
        kind = layer.type_name
        if kind == "Conv2D":
            order = [("kernel", lambda a: a.transpose(2, 3, 1, 0))] + ([("bias", None)] if layer.use_bias else [])
        elif kind == "Dense":  # LayerLab's kernel is (in, out), as Keras's
            order = [("kernel", None)] + ([("bias", None)] if layer.use_bias else [])
        elif kind == "BatchNormalization":  # Keras's set_weights order
            order = ([("gamma", None)] if layer.scale else []) + ([("beta", None)] if layer.center else [])
            order += [("moving_mean", None), ("moving_variance", None)]
        else:
            arrays = self._sequence_and_decoder_weights(layer, node_id, state)
            if arrays is None:
                return
            order = [(part, lambda _, array=array: array) for part, array in arrays]
        keys = []
        for part, convert in order:
            array = np.asarray(state[f"{node_id}.{part}"], dtype=np.float32)
            key = f"{name}.{part}"
            self.weights[key] = np.ascontiguousarray(convert(array) if convert else array, dtype=np.float32)
            keys.append(key)
        self.weight_names[name] = keys

    # for the emitters of engine.export.keras_sequence_layers (which this module imports)
    _initializer = staticmethod(lambda config: _initializer_code(config))
    _wrap = staticmethod(wrap)


def _initializer_code(config) -> str:
    """Keras code for LayerLab's initializer ``config`` (a name or a dict), e.g. ``keras.initializers.Zeros()``."""
    settings = get_initializer(config).get_config()
    name = settings.pop("name")
    if name == "variance_scaling" and settings.get("distribution") == "normal":
        settings["distribution"] = "untruncated_normal"  # Keras's name for it
    arguments = ", ".join(f"{key}={value!r}" for key, value in settings.items())
    return f"keras.initializers.{KERAS_INITIALIZERS[name]}({arguments})"
