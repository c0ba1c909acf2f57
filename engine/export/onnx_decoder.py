"""The layers that make images larger (UpSampling2D, Conv2DTranspose) to ONNX and back.

Export (converters called by engine/export/onnx_export.py, with its graph builder):

    UpSampling2D     Resize(scales [1, 1, sh, sw]), mode nearest, coordinate_transformation_mode asymmetric,
                     nearest_mode floor: output pixel y reads input pixel floor(y / sh) = y // sh, so every
                     pixel is repeated sh x sw times, exactly as the engine (and Keras, and torch's
                     nn.Upsample(mode='nearest')) does
    Conv2DTranspose  ConvTranspose with the kernel as the engine keeps it, (in, filters, kh, kw), which is
                     ONNX's layout. ONNX computes the whole stamped image ("full", (in - 1) * s + k), appends
                     output_padding rows at the end, then crops pads[begin] and pads[end]: 'valid' crops
                     nothing; 'same' (TensorFlow's rule, out = in * s) crops max(k - s, 0) // 2 first and the
                     rest of max(k - s, 0) last, and where k < s appends s - k rows as output_padding

Import (``DecoderOps``, mixed into engine/export/onnx_layers.py's GraphTranslator): Resize and ConvTranspose
come back as these layers whenever they compute the same thing; anything else (linear modes, a coordinate
rule that does not repeat pixels, fractional scales, pads that are neither 'valid' nor 'same') is refused
naming the attribute.
"""

from __future__ import annotations

import math

import numpy as np

from engine.export.onnx_graph import BATCH, Unsupported
from engine.export.onnx_windows import no_dilation, pair
from engine.ops.conv_transpose import transpose_geometry


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[-1]))


def _as_written(pair_value) -> int | list[int]:
    """A size pair as a person writes it: one number for a square, else [height, width]."""
    return int(pair_value[0]) if pair_value[0] == pair_value[1] else [int(v) for v in pair_value]


# -- export ---------------------------------------------------------------------------------------------------

def _upsampling(graph, node_id, layer, inputs, doc):
    network = graph.network
    _, in_h, in_w = network.shapes[network.graph.inputs[node_id][0]].output_shape
    _, out_h, out_w = network.shapes[node_id].output_shape
    scales = graph.weight(f"{node_id}.scales", np.array([1, 1, out_h // in_h, out_w // in_w], np.float32))
    return graph.node("Resize", [inputs[0], "", scales], node_id, doc, mode="nearest",
                      coordinate_transformation_mode="asymmetric", nearest_mode="floor")


def transpose_pads(height: int, width: int, kernel: tuple, strides: tuple, padding: str) -> tuple[list, list]:
    """(pads [top, left, bottom, right], output_padding [rows, columns]) for ONNX's ConvTranspose to give the
    engine's output of an (height, width) input, cropped where the engine crops (its ``transpose_geometry``)."""
    outs, crops = transpose_geometry(height, width, kernel, strides, padding)
    begins, ends, extras = [], [], []
    for size, out, begin, k, s in zip((height, width), outs, crops, kernel, strides, strict=True):
        full = (size - 1) * s + k
        extra = max(out - full, 0)  # 'same' with a kernel shorter than the stride: zeros appended
        begins.append(begin)
        ends.append(full + extra - out - begin)
        extras.append(extra)
    return begins + ends, extras


def _conv_transpose(graph, node_id, layer, inputs, doc):
    network = graph.network
    config = layer.get_config()
    _, in_h, in_w = network.shapes[network.graph.inputs[node_id][0]].output_shape
    (kh, kw), (sh, sw) = _pair(config["kernel_size"]), _pair(config["strides"])
    pads, output_padding = transpose_pads(in_h, in_w, (kh, kw), (sh, sw), config["padding"])
    operands = [inputs[0], graph.weight(f"{node_id}.kernel", graph.state[f"{node_id}.kernel"])]  # (in, f, kh, kw)
    if config["use_bias"]:
        operands.append(graph.weight(f"{node_id}.bias", graph.state[f"{node_id}.bias"]))
    linear = graph.node("ConvTranspose", operands, node_id, doc, kernel_shape=[kh, kw], strides=[sh, sw],
                        pads=pads, output_padding=output_padding, dilations=[1, 1], group=1)
    return graph.activation(config["activation"], linear, node_id, doc)


DECODER_CONVERTERS = {"UpSampling2D": _upsampling, "Conv2DTranspose": _conv_transpose}


# -- import ---------------------------------------------------------------------------------------------------

# Where output pixel x of an axis scaled by s (n inputs, m = n * s outputs) reads in the input, before rounding.
_COORDINATES = {
    "half_pixel": lambda x, s, n, m: (x + 0.5) / s - 0.5,
    "half_pixel_symmetric": lambda x, s, n, m: (x + 0.5) / s - 0.5,  # the same where m = n * s exactly
    "pytorch_half_pixel": lambda x, s, n, m: (x + 0.5) / s - 0.5 if m > 1 else 0.0 * x,
    "asymmetric": lambda x, s, n, m: x / s,
    "tf_half_pixel_for_nn": lambda x, s, n, m: (x + 0.5) / s,
    "align_corners": lambda x, s, n, m: x * (n - 1) / (m - 1) if m > 1 else 0.0 * x,
}
_ROUNDING = {
    "round_prefer_floor": lambda v: np.where(v - np.floor(v) == 0.5, np.floor(v), np.round(v)),
    "round_prefer_ceil": lambda v: np.where(v - np.floor(v) == 0.5, np.ceil(v), np.round(v)),
    "floor": np.floor,
    "ceil": np.ceil,
}


def repeats_pixels(coordinates: str, rounding: str, scale: int, size: int) -> bool:
    """Whether nearest-neighbour Resize with these settings reads input x // scale for every output x of an
    axis of ``size`` inputs, i.e. repeats each pixel ``scale`` times as UpSampling2D does."""
    outputs = np.arange(size * scale, dtype=np.float64)
    read = _ROUNDING[rounding](_COORDINATES[coordinates](outputs, scale, size, size * scale))
    return bool(np.array_equal(np.clip(read, 0, size - 1), outputs // scale))


class DecoderOps:
    """GraphTranslator's methods for Resize and ConvTranspose (see the module's docstring)."""

    def _op_Resize(self, node, inputs, attrs):
        x = self._image(inputs[0])
        if self.opset < 11:
            raise Unsupported("is an opset-10 Resize, whose pixel rule differs by runtime; export with opset 11 "
                              "or later")
        mode = attrs.get("mode", "nearest")
        if mode != "nearest":
            raise Unsupported(f"has mode={mode}; LayerLab's UpSampling2D repeats pixels (mode nearest)")
        if "axes" in attrs:
            raise Unsupported(f"has axes={list(attrs['axes'])}; LayerLab reads a Resize of all four axes")
        scales = self._resize_scales(x, inputs)
        coordinates = attrs.get("coordinate_transformation_mode", "half_pixel")
        rounding = attrs.get("nearest_mode", "round_prefer_floor")
        if coordinates not in _COORDINATES or rounding not in _ROUNDING:
            raise Unsupported(f"has coordinate_transformation_mode={coordinates}, which LayerLab does not read "
                              f"as repeating pixels")
        for scale, size in zip(scales, x.shape[1:], strict=True):
            if not repeats_pixels(coordinates, rounding, scale, size):
                raise Unsupported(f"has coordinate_transformation_mode={coordinates} with nearest_mode={rounding}, "
                                  f"which does not repeat each pixel {scale} times; LayerLab's UpSampling2D does")
        return self.add_layer(node, {"type": "UpSampling2D", "size": _as_written(scales)}, [x])

    @staticmethod
    def _resize_scales(x, inputs) -> tuple[int, int]:
        """(sh, sw) from the scales input or the sizes input; Unsupported unless whole numbers >= 1."""
        scales = inputs[2] if len(inputs) > 2 and isinstance(inputs[2], np.ndarray) and inputs[2].size else None
        sizes = inputs[3] if len(inputs) > 3 and isinstance(inputs[3], np.ndarray) and inputs[3].size else None
        if scales is not None:
            values = [float(v) for v in scales.reshape(-1)]
            if len(values) != 4 or values[:2] != [1.0, 1.0]:
                raise Unsupported(f"scales its input by {values}; LayerLab's UpSampling2D scales height and width")
        elif sizes is not None:
            wanted = sizes.astype(np.int64).reshape(-1).tolist()
            if len(wanted) != 4 or wanted[0] != BATCH or wanted[1] != x.shape[0]:
                raise Unsupported("resizes to sizes that do not keep the batch and the channels; LayerLab's "
                                  "UpSampling2D scales height and width")
            values = [size / old for size, old in zip(wanted[2:], x.shape[1:], strict=True)]
        else:
            raise Unsupported("has neither scales nor sizes LayerLab can work out before running (a dynamic size)")
        factors = values[-2:]
        if any(f < 1 or not math.isclose(f, round(f)) for f in factors):
            shown = " x ".join(f"{f:g}" for f in factors)
            raise Unsupported(f"scales height and width by {shown}; LayerLab's UpSampling2D repeats each pixel "
                              f"a whole number of times")
        return int(round(factors[0])), int(round(factors[1]))

    def _op_ConvTranspose(self, node, inputs, attrs):
        x = self.tensor(inputs[0])
        kernel = inputs[1]
        if not isinstance(kernel, np.ndarray) or kernel.ndim != 4:
            raise Unsupported("is not a 2-D transposed convolution with constant weights (LayerLab has "
                              "Conv2DTranspose only)")
        if attrs.get("group", 1) != 1:
            raise Unsupported(f"has group={attrs['group']}; LayerLab's Conv2DTranspose has group=1 only")
        no_dilation(attrs)
        if "output_shape" in attrs:
            raise Unsupported(f"has output_shape={list(attrs['output_shape'])}; LayerLab reads explicit pads "
                              f"and output_padding")
        if len(x.shape) != 3 or kernel.shape[0] != x.shape[0]:
            raise Unsupported(f"has weights for {kernel.shape[0]} input channels but reads "
                              f"{'x'.join(map(str, x.shape))}")
        window = (int(kernel.shape[2]), int(kernel.shape[3]))
        strides = pair(attrs.get("strides", [1, 1]))
        padding = self._transpose_padding(attrs, x, window, strides)
        weights = {"kernel": kernel}
        has_bias = len(inputs) > 2 and inputs[2] is not None
        if has_bias:
            weights["bias"] = self._bias(inputs[2], kernel.shape[1])
        layer = {"type": "Conv2DTranspose", "filters": int(kernel.shape[1]), "kernel_size": _as_written(window),
                 "strides": _as_written(strides), "padding": padding, "use_bias": has_bias}
        return self.add_layer(node, layer, [x], weights)

    @staticmethod
    def _transpose_padding(attrs, x, window, strides) -> str:
        """'valid' or 'same' from auto_pad, pads and output_padding; Unsupported for any other cropping."""
        auto_pad = attrs.get("auto_pad", "NOTSET")
        if auto_pad not in ("NOTSET", "", "VALID"):
            raise Unsupported(f"has auto_pad={auto_pad}; LayerLab reads a ConvTranspose with explicit pads")
        pads = [int(p) for p in (list(attrs.get("pads", [0, 0, 0, 0])) + [0, 0, 0, 0])[:4]]
        extra = [int(p) for p in (list(attrs.get("output_padding", [0, 0])) + [0, 0])[:2]]
        if auto_pad == "VALID":
            pads = [0, 0, 0, 0]
        for padding in ("valid", "same"):
            if (pads, extra) == transpose_pads(int(x.shape[1]), int(x.shape[2]), window, strides, padding):
                return padding
        raise Unsupported(f"has pads={pads} and output_padding={extra}; LayerLab's Conv2DTranspose crops as "
                          f"'valid' (nothing) or 'same' (TensorFlow's rule: the output is the input times the "
                          f"stride)")
