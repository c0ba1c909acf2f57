"""The PyTorch code of the sequence and decoder layers: Reshape, UpSampling2D, Conv2DTranspose, SimpleRNN, LSTM
and GRU (a part of ``engine.export.pytorch_module.ModuleCode``, kept apart to keep each file short).

How each maps (docs/spec.md for LayerLab's math):

* Reshape keeps the batch axis: ``x.reshape(len(x), *target_shape)`` (C order in both).
* UpSampling2D is ``nn.Upsample(scale_factor=..., mode="nearest")``: each pixel repeated, as Keras does.
* Conv2DTranspose is ``nn.ConvTranspose2d`` without padding (its full output, (in - 1) * stride + kernel),
  then TensorFlow's rule made explicit by the script's ``crop_to``: "same" gives in * stride, cutting the
  extra rows (columns) with the smaller half at the top (left), or for a kernel smaller than the stride adding
  the missing ones at the bottom (right) with ``output_padding`` (which torch fills with the bias, as LayerLab).
  LayerLab stores the kernel as torch does, (in_channels, filters, kh, kw): no change.
* SimpleRNN, LSTM and GRU are ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` with ``batch_first=True``, the last step's
  hidden state taken unless the layer returns sequences. LayerLab keeps Keras's layout: ``kernel`` (features,
  G * units) and ``recurrent_kernel`` (units, G * units) become torch's ``weight_ih_l0`` (G * units, features)
  and ``weight_hh_l0`` (G * units, units), transposed. The LSTM's gates are in the same order in both (i, f, c,
  o = torch's i, f, g, o); the GRU's z, r, h become torch's r, z, n. LayerLab's LSTM and SimpleRNN have one
  bias, torch's two: ``bias_ih_l0`` takes it and ``bias_hh_l0`` stays at zero, frozen (requires_grad False),
  so the script trains the same parameters. The GRU resets after the recurrent product (Keras's
  reset_after=True), as torch's GRU does: its ``recurrent_bias`` is torch's ``bias_hh_l0``.
"""

from __future__ import annotations

import numpy as np

from engine import initializers

# LayerLab's recurrent layer -> (torch class, gates G)
RECURRENT = {"SimpleRNN": ("RNN", 1), "LSTM": ("LSTM", 4), "GRU": ("GRU", 3)}
SIMPLE_RNN_ACTIVATIONS = ("tanh", "relu")  # the two nn.RNN computes


def gru_gates_to_torch(array: np.ndarray, units: int, axis: int = 0) -> np.ndarray:
    """LayerLab's (Keras's) GRU gate blocks z, r, h along ``axis`` -> torch's r, z, n."""
    z, r, h = (np.take(array, range(i * units, (i + 1) * units), axis=axis) for i in range(3))
    return np.concatenate([r, z, h], axis=axis)


def _pair(values) -> str:
    first, second = values
    return str(first) if first == second else f"({first}, {second})"


class SequenceAndDecoderLayers:
    """The ``_<LayerType>`` builders of these layers; each returns the forward's expression for the node."""

    def _Reshape(self, node_id, name, layer, inputs, input_shapes):
        target = tuple(layer.output_shape(input_shapes))  # any -1 worked out
        return f"{inputs[0]}.reshape(len({inputs[0]}), {', '.join(map(str, target))})"

    def _UpSampling2D(self, node_id, name, layer, inputs, input_shapes):
        _, height, width = input_shapes[0]
        _, out_height, out_width = layer.output_shape(input_shapes)
        scale = (out_height // height, out_width // width)
        self.init_lines.append(f'self.{name} = nn.Upsample(scale_factor={_pair(scale)}, mode="nearest")')
        return f"self.{name}({inputs[0]})"

    def _Conv2DTranspose(self, node_id, name, layer, inputs, input_shapes):
        channels, height, width = input_shapes[0]
        kernel, stride = layer.kernel_hw, layer.stride_hw
        _, out_height, out_width = layer.output_shape(input_shapes)
        full = ((height - 1) * stride[0] + kernel[0], (width - 1) * stride[1] + kernel[1])
        extra = (max(out_height - full[0], 0), max(out_width - full[1], 0))  # rows and columns torch adds at the end
        arguments = [str(channels), str(layer.filters), f"kernel_size={_pair(kernel)}"]
        if stride != (1, 1):
            arguments.append(f"stride={_pair(stride)}")
        if any(extra):
            arguments.append(f"output_padding={_pair(extra)}")
        if not layer.use_bias:
            arguments.append("bias=False")
        self.init_lines.append(f"self.{name} = nn.ConvTranspose2d({', '.join(arguments)})")
        self._initializers(node_id, name, layer, input_shapes)
        expression = f"self.{name}({inputs[0]})"
        if (out_height, out_width) != (full[0] + extra[0], full[1] + extra[1]):
            self.helpers.add("crop_to")
            expression = f"crop_to({expression}, ({out_height}, {out_width}))"
        return expression

    def _recurrent(self, node_id, name, layer, inputs, input_shapes):
        kind = layer.type_name
        torch_class, gates = RECURRENT[kind]
        steps, features = input_shapes[0]
        units = layer.units
        arguments = [str(features), str(units)]
        if kind == "SimpleRNN":
            activation = layer.activation
            if activation not in SIMPLE_RNN_ACTIVATIONS:
                from engine.export.pytorch_module import PyTorchExportError

                raise PyTorchExportError(f"node {node_id!r} (SimpleRNN): torch's nn.RNN computes tanh or relu "
                                         f"only; this layer uses {activation!r}")
            if activation != "tanh":
                arguments.append(f'nonlinearity="{activation}"')
        arguments.append("batch_first=True")
        self.init_lines.append(f"self.{name} = nn.{torch_class}({', '.join(arguments)})")
        module = f"self.{name}"
        if kind != "GRU":  # one bias in LayerLab: torch's second stays 0
            self.init_lines.append(f"{module}.bias_hh_l0.requires_grad_(False)  # LayerLab's {kind} has one bias")
            self.constants[f"{name}.bias_hh_l0"] = np.zeros(gates * units, dtype=np.float32)

        def reordered(array, axis):
            return gru_gates_to_torch(array, units, axis) if kind == "GRU" else array

        self.renames[f"{node_id}.kernel"] = (f"{name}.weight_ih_l0", lambda a: reordered(a.T, 0))
        self.renames[f"{node_id}.recurrent_kernel"] = (f"{name}.weight_hh_l0", lambda a: reordered(a.T, 0))
        self.renames[f"{node_id}.bias"] = (f"{name}.bias_ih_l0", lambda a: reordered(a, 0))
        if kind == "GRU":
            self.renames[f"{node_id}.recurrent_bias"] = (f"{name}.bias_hh_l0", lambda a: reordered(a, 0))
        regularized = self._regularized_parameters(layer, input_shapes)
        self.regularized += [f"{module}.{torch}" for engine_name, torch in
                             (("kernel", "weight_ih_l0"), ("recurrent_kernel", "weight_hh_l0"))
                             if engine_name in regularized]
        fans = {"kernel": (features, gates * units), "recurrent_kernel": (units, gates * units)}
        for engine_name, torch_name, initializer in (("kernel", "weight_ih_l0", layer.kernel_initializer),
                                                     ("recurrent_kernel", "weight_hh_l0", layer.recurrent_initializer)):
            config = initializers.get(initializer).get_config()
            arguments = "".join(f", {key}={value!r}" for key, value in config.items() if key != "name")
            self.reset_lines.append(f'initialize({module}.{torch_name}, "{config["name"]}", '
                                    f"fan_in={fans[engine_name][0]}, fan_out={fans[engine_name][1]}{arguments})")
        config = initializers.get(layer.bias_initializer).get_config()
        arguments = "".join(f", {key}={value!r}" for key, value in config.items() if key != "name")
        for torch_name in ("bias_ih_l0", "bias_hh_l0") if kind == "GRU" else ("bias_ih_l0",):
            self.reset_lines.append(f'initialize({module}.{torch_name}, "{config["name"]}", fan_in={features}, '
                                    f"fan_out={gates * units}{arguments})")
        if kind == "LSTM" and getattr(layer, "unit_forget_bias", False):
            self.reset_lines.append(f"{module}.bias_ih_l0.data[{units}:{2 * units}] = 1.0  # the forget gate's "
                                    "bias starts at 1 (Keras's unit_forget_bias)")
        if kind != "GRU":
            self.reset_lines.append(f"nn.init.zeros_({module}.bias_hh_l0)")
        if layer.return_sequences:
            return f"{module}({inputs[0]})[0]  # (N, steps, units): the hidden state of every step"
        return f"{module}({inputs[0]})[0][:, -1]  # the last step's hidden state"

    _SimpleRNN = _LSTM = _GRU = _recurrent

    @staticmethod
    def _regularized_parameters(layer, input_shapes) -> set[str]:
        """The parameters LayerLab's L2 applies to (their ParamSpec says so)."""
        specs = layer.param_shapes(list(input_shapes))
        return {name for name, spec in specs.items() if spec.regularize}


CROP_TO = '''\
def crop_to(x, size):
    """x (N, C, H, W) cut to size (height, width) as TensorFlow's "same" transposed convolution does: of the
    extra rows (columns), the smaller half goes from the top (left), the rest from the bottom (right)."""
    extra_rows, extra_columns = x.shape[2] - size[0], x.shape[3] - size[1]
    top, left = extra_rows // 2, extra_columns // 2
    return x[:, :, top:top + size[0], left:left + size[1]]
'''
