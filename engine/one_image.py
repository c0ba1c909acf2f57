"""One image through a network in inference mode, as a plan compiled once and run for every reading.

One image is what the Draw panel reads at every stroke. Layer by layer, a seed-CNN pass makes ~60 NumPy
calls and a dozen fresh arrays; its two products and fc1's read of 12.8 MB of weights are only about half
of its time, and the calls and copies between the layers are the rest. The plan keeps what does not change
from one call to the next and fuses what it can:

- a stride-1 convolution keeps its zero-bordered input, its column buffer and its product, so a call copies
  the image into the border's interior and multiplies (``conv_one_image``'s wide columns, over rows that
  share their padding: see ``_Convolution``);
- a 2x2 max pooling that is the only reader of a linear or ReLU convolution pools straight from that
  product, and the bias and ReLU come after the pooling, on a quarter of the values. The order changes no
  bit: rounding is monotone, so max(a + b, c + b) = max(a, c) + b, and ReLU commutes with max;
- a Dense layer multiplies into a buffer of its own;
- Flatten and Dropout (inference) cost nothing.

Every other node runs its layer's own forward. The result is the layer-by-layer pass's to float32 rounding:
OpenBLAS may sum a product over fewer columns in another order (tests/engine/test_one_image.py). Measured
on the development machine with ``benchmarks/bench_one_image.py`` (the seed CNN, the two passes taking turns
in one process): 0.55 ms median against 0.86 layer by layer, before the rows shared their padding (another
3-7%). Like the layers' inference buffers, a plan serves one caller at a time.
"""

from __future__ import annotations

import time

import numpy as np

from engine.layers.conv import Conv2D, MaxPooling2D
from engine.layers.core import Dense, Dropout, Flatten
from engine.ops.conv_one_image import valid_outputs, wide_windows
from engine.ops.dispatch import wide_columns_fit
from engine.ops.padding import conv_geometry
from engine.ops.relu_fast import relu_in_place

# Activations that commute with a max pooling of their input (and so may run after it).
_MONOTONE_FUSABLE = ("linear", "relu")


class OneImagePlan:
    """``plan.run(x)`` for x of shape (1, *input_shape) on NumPy: the network's inference output, a fresh array."""

    def __init__(self, network):
        self._input_id = network.input_id
        self._output_id = network.output_id
        self._steps = []  # (node id, step, source ids), in run order
        fused = {}  # pool node id -> the convolution it alone reads, the two run as one step
        for node_id in network.order:
            pool_id = _pool_reading(network, node_id)
            if pool_id is not None:
                fused[pool_id] = node_id
        run_by_their_pooling = set(fused.values())
        for node_id in network.order:
            sources = network.graph.inputs[node_id]
            if not sources or node_id in run_by_their_pooling:  # the Input node has no step
                continue
            if node_id in fused:
                convolution_id = fused[node_id]
                step = _Convolution(network.layers[convolution_id], _input_shape(network, convolution_id),
                                    network.dtype, pool=True)
                sources = network.graph.inputs[convolution_id]
            else:
                step = _step_for(network, node_id, network.layers[node_id])
            self._steps.append((node_id, step, sources))

    def run(self, x, timings: dict | None = None):
        """The output for ``x``; with a ``timings`` dict, each step's seconds are added under its node's id
        (a fused convolution's under its pooling's)."""
        values = {self._input_id: x}
        for node_id, step, sources in self._steps:
            started = time.perf_counter() if timings is not None else 0.0
            values[node_id] = step([values[s] for s in sources])
            if timings is not None:
                timings[node_id] = timings.get(node_id, 0.0) + time.perf_counter() - started
        return values[self._output_id].copy()  # the last step's buffer is overwritten by the next call

    def step_kinds(self) -> dict:
        """Node id -> what runs there ("Convolution", "Dense", "LayerForward", "function"), in run order."""
        return {node_id: type(step).__name__.strip("_") for node_id, step, _ in self._steps}


def _input_shape(network, node_id) -> tuple:
    return network.shapes[network.graph.inputs[node_id][0]].output_shape


def _runs_wide(network, node_id) -> bool:
    """True for a stride-1 Conv2D whose one-image wide columns fit a chunk (``conv2d_forward``'s own rule)."""
    layer = network.layers[node_id]
    if not isinstance(layer, Conv2D) or layer.stride_hw != (1, 1):
        return False
    c, h, w = _input_shape(network, node_id)
    out_h, out_w, (_, _, left, right) = conv_geometry(h, w, layer.kernel_hw, (1, 1), layer.padding_rule)
    return wide_columns_fit(c, layer.kernel_hw, (out_h, out_w), w + left + right, network.dtype.itemsize)


def _pool_reading(network, node_id):
    """The id of the 2x2, stride-2, unpadded max pooling that is the only reader of convolution ``node_id``
    when the two can run as one step; else None."""
    consumers = network.graph.consumers[node_id]
    if len(consumers) != 1 or not _runs_wide(network, node_id):
        return None
    layer, pool = network.layers[node_id], network.layers[consumers[0]]
    if layer.activation_function.name not in _MONOTONE_FUSABLE or not isinstance(pool, MaxPooling2D):
        return None
    _, out_h, out_w = network.shapes[node_id].output_shape
    _, _, pads = conv_geometry(out_h, out_w, pool.pool_hw, pool.stride_hw, pool.padding_rule)
    if pool.pool_hw != (2, 2) or pool.stride_hw != (2, 2) or any(pads) or out_h % 2 or out_w % 2:
        return None
    return consumers[0]


def _step_for(network, node_id, layer):
    if isinstance(layer, Flatten):
        return lambda inputs: inputs[0].reshape(1, -1)
    if isinstance(layer, Dropout):
        return lambda inputs: inputs[0]
    if isinstance(layer, Dense):
        return _Dense(layer, network.dtype)
    if _runs_wide(network, node_id):
        return _Convolution(layer, _input_shape(network, node_id), network.dtype, pool=False)
    return _LayerForward(layer)


def _activate(layer, y):
    """The layer's activation applied to ``y`` (a contiguous buffer of the plan's) in place where it can be."""
    name = layer.activation_function.name
    if name == "linear":
        return y
    if name == "relu":
        relu_in_place(y.reshape(-1))
        return y
    return layer.activation_function.forward(y, inplace=True)[0]


class _Convolution:
    """A stride-1 Conv2D on one image through its wide columns, its buffers kept; with ``pool``, followed by
    the 2x2 max pooling that alone reads it, the bias and activation then applied to the pooled values."""

    def __init__(self, layer, input_shape, dtype, pool: bool):
        c, h, w = input_shape
        (kh, kw), f = layer.kernel_hw, layer.filters
        self._layer, self._pool = layer, pool
        out_h, out_w, (top, bottom, left, right) = conv_geometry(h, w, layer.kernel_hw, (1, 1), layer.padding_rule)
        self._out_hw = (out_h, out_w)
        # The image's rows one after another with ONE gap of zeros between neighbours: a row's right padding and
        # the next row's left padding are the same zeros, max(left, right) columns of them instead of left +
        # right. Products run over it as in conv_one_image (output (h, w) at h * stride + w of the product), with
        # fewer thrown-away columns: the seed CNN's conv2 multiplies 222 columns instead of 248, ~11% faster.
        gap = max(left, right)
        stride = w + gap
        rows = top + h + bottom + 1  # a last zero row: the last window reaches `right` columns past its row
        self._planes = np.zeros((c, rows, stride), dtype)  # everything but the interior stays zero
        self._interior = self._planes[:, top:top + h, gap:gap + w]
        first = self._planes.reshape(-1)[gap - left:]  # where the first window starts
        self._windows = wide_windows(first, c, rows * stride, stride, (kh, kw), self._out_hw)
        length = self._windows.shape[-1]
        self._columns = np.empty((c * kh * kw, length), dtype)
        self._product = np.empty((f, length), dtype)
        self._valid = valid_outputs(self._product, self._out_hw, stride)
        if pool:  # the views are made once: each costs as much as a small pass
            self._row_maxima = np.empty((f, out_h // 2, out_w), dtype)
            self._y = np.empty((1, f, out_h // 2, out_w // 2), dtype)
            self._row_pairs = (self._valid[:, 0::2], self._valid[:, 1::2], self._row_maxima)
            self._column_pairs = (self._row_maxima[..., 0::2], self._row_maxima[..., 1::2], self._y[0])
        else:
            self._y = np.empty((1, f, out_h, out_w), dtype)

    def __call__(self, inputs):
        layer, y = self._layer, self._y
        np.copyto(self._interior, inputs[0][0])
        np.copyto(self._columns.reshape(self._windows.shape), self._windows)
        kernel = layer.parameters()["kernel"].value
        np.matmul(kernel.reshape(len(kernel), -1), self._columns, out=self._product)
        if self._pool:
            top, bottom, row_maxima = self._row_pairs
            np.maximum(top, bottom, out=row_maxima)
            left, right, pooled = self._column_pairs
            np.maximum(left, right, out=pooled)
        else:
            np.copyto(y[0], self._valid)
        if layer.use_bias:
            np.add(y[0], layer.parameters()["bias"].value[:, None, None], out=y[0])
        return _activate(layer, y)


class _Dense:
    """x @ kernel + bias into a buffer of its own, then the activation."""

    def __init__(self, layer, dtype):
        self._layer = layer
        self._y = np.empty((1, layer.units), dtype)

    def __call__(self, inputs):
        layer, y = self._layer, self._y
        np.matmul(inputs[0].reshape(1, -1), layer.parameters()["kernel"].value, out=y)
        if layer.use_bias:
            np.add(y, layer.parameters()["bias"].value, out=y)
        return _activate(layer, y)


class _LayerForward:
    """Any other node: its layer's own inference forward, nothing kept for backward."""

    def __init__(self, layer):
        self._layer = layer

    def __call__(self, inputs):
        self._layer.keep_for_backward = False
        y = self._layer.forward(inputs, False)
        self._layer.forget()
        return y
