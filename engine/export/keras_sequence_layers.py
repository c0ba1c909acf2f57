"""The Keras code of the sequence and decoder layers: Reshape, UpSampling2D, Conv2DTranspose, SimpleRNN, LSTM
and GRU (a part of ``engine.export.keras_layers.KerasGraph``, kept apart to keep each file short).

* Reshape reads LayerLab's (channels, height, width) order: an image is turned back to it (``Permute``) before
  Keras's ``Reshape``, and a reshaped image turned to channels-last after, so the values land where LayerLab
  puts them. A sequence (steps, features) is the same in both.
* UpSampling2D is Keras's own, nearest neighbour (LayerLab's rule).
* Conv2DTranspose is Keras's, whose "valid" and "same" are TensorFlow's rules, as LayerLab's; the kernel,
  (in_channels, filters, kh, kw) in LayerLab (PyTorch's layout), becomes Keras's (kh, kw, filters, in_channels).
* SimpleRNN, LSTM and GRU are Keras's: LayerLab keeps their layout and gate order (kernel, recurrent_kernel,
  bias; LSTM i, f, c, o; GRU z, r, h with the reset after the recurrent product, reset_after=True), so the
  weights go as they are; the GRU's two biases are Keras's one (2, 3 * units) bias, input's first.
"""

from __future__ import annotations

import numpy as np

RECURRENT = ("SimpleRNN", "LSTM", "GRU")


def _stack_gru_biases(state: dict, node_id: str) -> np.ndarray:
    return np.stack([state[f"{node_id}.bias"], state[f"{node_id}.recurrent_bias"]])


class SequenceAndDecoderEmitters:
    """The ``_emit_<LayerType>`` methods of these layers and the order of their weights."""

    def _emit_Reshape(self, layer, name, source, sources, input_shapes):
        target = tuple(layer.output_shape([tuple(s) for s in input_shapes]))  # any -1 worked out
        if len(input_shapes[0]) == 3:  # (H, W, C) -> (C, H, W): reshape LayerLab's order of values
            chw = self._unique_var(f"{name}_to_chw")
            self.lines.append(f"{chw} = layers.Permute((3, 1, 2), name={self._unique_name(chw)!r})({source})")
            source = chw
        if len(target) != 3:
            return f"layers.Reshape({target!r}, name={name!r})({source})"
        reshaped = self._unique_var(f"{name}_chw")
        self.lines.append(f"{reshaped} = layers.Reshape({target!r}, name={self._unique_name(reshaped)!r})({source})")
        return f"layers.Permute((2, 3, 1), name={name!r})({reshaped})"  # back to channels-last

    def _emit_UpSampling2D(self, layer, name, source, sources, input_shapes):
        _, height, width = input_shapes[0]
        _, out_height, out_width = layer.output_shape([tuple(s) for s in input_shapes])
        size = (out_height // height, out_width // width)
        return f"layers.UpSampling2D(size={size!r}, interpolation='nearest', name={name!r})({source})"

    def _emit_Conv2DTranspose(self, layer, name, source, sources, input_shapes):
        args = [str(layer.filters), f"{tuple(layer.kernel_hw)!r}", f"strides={tuple(layer.stride_hw)!r}",
                f"padding={layer.padding!r}", *self._common_args(layer, name)]
        call = f"layers.Conv2DTranspose({', '.join(args)})({source})"
        # Keras's "valid" gives in * stride where the kernel is smaller than the stride; LayerLab's (and
        # PyTorch's) (in - 1) * stride + kernel: the extra rows and columns, at the end, are cut off.
        (kh, kw), (sh, sw) = layer.kernel_hw, layer.stride_hw
        extra = [max(sh - kh, 0), max(sw - kw, 0)] if layer.padding == "valid" else [0, 0]
        if not any(extra):
            return call
        stamped = self._unique_var(f"{name}_full")
        self.lines.append(self._wrap(f"{stamped} = {call}"))
        return (f"layers.Cropping2D(((0, {extra[0]}), (0, {extra[1]})), "
                f"name={self._unique_name(f'{name}_crop')!r})({stamped})")

    def _emit_recurrent(self, layer, name, source, sources, input_shapes):
        kind = layer.type_name
        args = [str(layer.units)]
        if kind == "SimpleRNN":
            args.append(f"activation={layer.activation!r}")
        if layer.return_sequences:
            args.append("return_sequences=True")
        if kind == "GRU":
            args.append("reset_after=True")
        args.append(f"name={name!r}")
        args.append(f"kernel_initializer={self._initializer(layer.kernel_initializer)}")
        args.append(f"recurrent_initializer={self._initializer(layer.recurrent_initializer)}")
        args.append(f"bias_initializer={self._initializer(layer.bias_initializer)}")
        if kind == "LSTM":
            args.append(f"unit_forget_bias={bool(getattr(layer, 'unit_forget_bias', True))!r}")
        if self.l2:
            regularized = {n for n, spec in layer.param_shapes([tuple(s) for s in input_shapes]).items()
                           if spec.regularize}
            for part in ("kernel", "recurrent_kernel"):  # f = l2 / 2: see _common_args
                if part in regularized:
                    keyword = "kernel" if part == "kernel" else "recurrent"
                    args.append(f"{keyword}_regularizer=keras.regularizers.L2({self.l2 / 2!r})")
        return f"layers.{kind}({', '.join(args)})({source})"

    _emit_SimpleRNN = _emit_LSTM = _emit_GRU = _emit_recurrent

    @staticmethod
    def _sequence_and_decoder_weights(layer, node_id: str, state: dict):
        """[(part, array)] in the order ``layer.set_weights`` takes them; None for a layer without weights."""
        kind = layer.type_name
        if kind == "Conv2DTranspose":
            parts = [("kernel", state[f"{node_id}.kernel"].transpose(2, 3, 1, 0))]
            return parts + ([("bias", state[f"{node_id}.bias"])] if layer.use_bias else [])
        if kind in RECURRENT:
            bias = _stack_gru_biases(state, node_id) if kind == "GRU" else state[f"{node_id}.bias"]
            return [("kernel", state[f"{node_id}.kernel"]), ("recurrent_kernel", state[f"{node_id}.recurrent_kernel"]),
                    ("bias", bias)]
        return None
