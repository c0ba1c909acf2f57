"""Conv2D and the two pooling layers (thin owners of parameters around engine.ops)."""

from __future__ import annotations

from engine.layers.base import REQUIRED, Layer, ParamSpec, check_bool, check_int, describe_shape, require_image
from engine.layers.core import (
    DEFAULT_BIAS_INITIALIZER,
    DEFAULT_KERNEL_INITIALIZER,
    activation_of_pass,
    check_initializer,
)
from engine.ops.activations import get_activation
from engine.ops.conv import CHUNK_BYTES, columns_bytes, conv2d_backward, conv2d_forward
from engine.ops.padding import conv_geometry, normalize_padding, pair
from engine.ops.pooling import avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward
from engine.ops.workspace import Workspace


def _positive_pair(value, field):
    result = pair(value, field)
    if min(result) < 1:
        raise ValueError(f"{field} must be positive; received {field}={value!r}")
    return result


def _describe_padding(padding) -> str:
    return repr(padding) if isinstance(padding, str) else f"{padding[0]}x{padding[1]}"


def window_output_shape(layer, input_shape, window, strides, padding, what="kernel"):
    """(out_h, out_w) of a window op, or a SpecError naming the node, the rule and what was received."""
    _, h, w = require_image(layer, input_shape, layer.type_name)
    out_h, out_w, _ = conv_geometry(h, w, window, strides, padding)
    if out_h < 1 or out_w < 1:
        raise layer.error(
            f"{what} {window[0]}x{window[1]} does not fit a {h}x{w} input with padding {_describe_padding(padding)}",
            f"{what} must fit the input",
        )
    return out_h, out_w


class Conv2D(Layer):
    """Learned filters slid over the image; kernel (filters, in_channels, kh, kw)."""

    type_name = "Conv2D"
    shares_out_its_work = True
    fields = {
        "filters": REQUIRED,
        "kernel_size": REQUIRED,
        "strides": 1,
        "padding": "valid",
        "activation": None,
        "use_bias": True,
        "kernel_initializer": DEFAULT_KERNEL_INITIALIZER,
        "bias_initializer": DEFAULT_BIAS_INITIALIZER,
    }

    def configure(self, filters, kernel_size, strides, padding, activation, use_bias,
                  kernel_initializer, bias_initializer):
        self.filters = check_int(filters, "filters")
        self.kernel_size = kernel_size
        self._kernel = _positive_pair(kernel_size, "kernel_size")
        self.strides = strides
        self._strides = _positive_pair(strides, "strides")
        self.padding = padding
        self._padding = normalize_padding(padding)
        self._activation = get_activation(activation)
        self.activation = activation
        self.use_bias = check_bool(use_bias, "use_bias")
        self.kernel_initializer = check_initializer(kernel_initializer, "kernel_initializer")
        self.bias_initializer = check_initializer(bias_initializer, "bias_initializer")
        self._workspace = Workspace()
        self._inference_workspace = Workspace()  # only ever holds columns of up to CHUNK_BYTES

    def output_shape(self, input_shapes):
        out_h, out_w = window_output_shape(self, input_shapes[0], self._kernel, self._strides, self._padding)
        return (self.filters, out_h, out_w)

    def param_shapes(self, input_shapes):
        channels = require_image(self, input_shapes[0], "Conv2D")[0]
        kh, kw = self._kernel
        shape = (self.filters, channels, kh, kw)
        fans = (channels * kh * kw, self.filters * kh * kw)
        specs = {"kernel": ParamSpec(shape, self.kernel_initializer, fans, True)}
        if self.use_bias:
            specs["bias"] = ParamSpec((self.filters,), self.bias_initializer, fans, False)
        return specs

    def flops(self, input_shapes, output_shape):
        channels = input_shapes[0][0]
        f, out_h, out_w = output_shape
        per_output = 2 * channels * self._kernel[0] * self._kernel[1] + (1 if self.use_bias else 0)
        return per_output * f * out_h * out_w

    def forward(self, inputs, training):
        x = inputs[0]
        bias = self._params["bias"].value if self.use_bias else None
        kernel = self._params["kernel"].value
        # Training reuses the big im2col buffers between steps. Inference keeps its own only while they are
        # small (a few images): a column buffer allocated afresh comes straight from the OS, and touching its
        # pages cost more than the product itself (single-image seed CNN conv2: 1.13 -> 0.48 ms, the draw
        # reader's every reading); a big inference batch holds nothing once it is done.
        if training:
            workspace = self._workspace
        elif columns_bytes(x.shape, kernel.shape, self._strides, self._padding, x.itemsize) <= CHUNK_BYTES:
            workspace = self._inference_workspace
        else:
            workspace = None
        z, self._cache = conv2d_forward(x, kernel, bias, self._strides, self._padding, workspace=workspace)
        y, self._saved = activation_of_pass(self).forward(z, inplace=True)
        return y

    def backward(self, dy, need_input_grads=True):
        dz = activation_of_pass(self).backward(dy, self._saved)
        dbias = self._params["bias"].grad if self.use_bias else None
        dx, _, _ = conv2d_backward(dz, self._cache, need_input_grads, self._params["kernel"].grad, dbias)
        self._cache = self._saved = None
        return [dx]


class _Pooling2D(Layer):
    fields = {"pool_size": 2, "strides": None, "padding": "valid"}
    shares_out_its_work = True

    def configure(self, pool_size, strides, padding):
        self.pool_size = pool_size
        self._pool = _positive_pair(pool_size, "pool_size")
        self.strides = strides
        self._strides = self._pool if strides is None else _positive_pair(strides, "strides")
        self.padding = padding
        self._padding = normalize_padding(padding)

    def output_shape(self, input_shapes):
        out_h, out_w = window_output_shape(self, input_shapes[0], self._pool, self._strides, self._padding, "pool")
        return (input_shapes[0][0], out_h, out_w)

    def flops(self, input_shapes, output_shape):
        c, out_h, out_w = output_shape
        return self._pool[0] * self._pool[1] * c * out_h * out_w


class MaxPooling2D(_Pooling2D):
    type_name = "MaxPooling2D"

    def forward(self, inputs, training):
        y, self._cache = max_pool2d_forward(inputs[0], self._pool, self._strides, self._padding,
                                            keep_cache=self.keep_for_backward)
        return y

    def backward(self, dy, need_input_grads=True):
        dx = max_pool2d_backward(dy, self._cache)
        self._cache = None
        return [dx]


class AveragePooling2D(_Pooling2D):
    type_name = "AveragePooling2D"

    def forward(self, inputs, training):
        y, self._cache = avg_pool2d_forward(inputs[0], self._pool, self._strides, self._padding)
        return y

    def backward(self, dy, need_input_grads=True):
        dx = avg_pool2d_backward(dy, self._cache)
        self._cache = None
        return [dx]


__all__ = ["Conv2D", "MaxPooling2D", "AveragePooling2D", "describe_shape"]
