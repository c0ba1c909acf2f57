"""Conv2D and the two pooling layers (thin owners of parameters around engine.ops); ``size_pair``,
``filter_fields`` and ``LearnedFilters``, which Conv2DTranspose and UpSampling2D (engine/layers/decoder.py)
share with them."""

from __future__ import annotations

from engine.design_limits import MAX_SIZE
from engine.layers.base import (
    REQUIRED,
    Field,
    Layer,
    ParamSpec,
    check_int,
    describe_shape,
    describe_value,
    require_image,
)
from engine.layers.core import (
    DEFAULT_BIAS_INITIALIZER,
    DEFAULT_KERNEL_INITIALIZER,
    activation_field,
    activation_of_pass,
    initializer_field,
    use_bias_field,
)
from engine.ops.activations import get_activation
from engine.ops.conv import conv2d_backward, conv2d_forward
from engine.ops.dispatch import choose
from engine.ops.padding import conv_geometry
from engine.ops.pooling import avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward
from engine.ops.workspace import Workspace


def size_pair(value, field: str, declared: Field) -> tuple[int, int]:
    """An int or [height, width] of ints in the declared range, as (height, width); ValueError naming ``field``."""
    values = value if isinstance(value, (list, tuple)) and len(value) == 2 else [value]
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"{field} must be an integer or a pair of integers [height, width]; "
                             f"received {field}={describe_value(value)}")
        check_int(v, field, declared.low, declared.high)
    return (values[0], values[-1])


def _padding(value, declared: Field):
    """'valid', 'same', or explicit (pad_h, pad_w) of integers in the declared range."""
    if isinstance(value, str):
        if value.lower() in ("valid", "same"):
            return value.lower()
        raise ValueError(f"padding must be 'valid', 'same' or integers; received padding={describe_value(value)}")
    return size_pair(value, "padding", declared)


PADDING_HELP = "'valid' (none), 'same' (the output keeps the input's size), or explicit pixels on each side."


def _describe_padding(padding) -> str:
    return repr(padding) if isinstance(padding, str) else f"{padding[0]}x{padding[1]}"


def window_output_shape(layer, input_shape, window, strides, padding, what="kernel"):
    """(out_h, out_w) of a window op, or a SpecError naming the node, the rule and what was received.

    Besides the window fitting the (padded) input, three rules refuse sizes that are typos whatever the
    memory (docs/spec.md, "Limits"): explicit padding no larger than the input it pads, and smaller than
    the window (else some outputs see nothing but padding: a max pool of them would be -inf, a
    convolution its bias); and a stride no longer than both the window and the padded input (a stride
    past the whole input can never take a second step).
    """
    _, h, w = require_image(layer, input_shape, layer.type_name)
    out_h, out_w, (top, bottom, left, right) = conv_geometry(h, w, window, strides, padding)
    if not isinstance(padding, str):
        if padding[0] > h or padding[1] > w:
            raise layer.error(f"padding {_describe_padding(padding)} is larger than the {h}x{w} input it pads",
                              "padding must not exceed the input")
        if padding[0] >= window[0] or padding[1] >= window[1]:
            raise layer.error(f"padding {_describe_padding(padding)} is not smaller than the {what} "
                              f"{window[0]}x{window[1]}: some outputs would see nothing but padding",
                              f"padding must be smaller than the {what}")
    if out_h < 1 or out_w < 1:
        raise layer.error(
            f"{what} {window[0]}x{window[1]} does not fit a {h}x{w} input with padding {_describe_padding(padding)}",
            f"{what} must fit the input",
        )
    padded = (h + top + bottom, w + left + right)
    if strides[0] > max(window[0], padded[0]) or strides[1] > max(window[1], padded[1]):
        raise layer.error(f"strides {strides[0]}x{strides[1]} step past the whole {padded[0]}x{padded[1]} "
                          f"(padded) input and the {what} {window[0]}x{window[1]}",
                          "strides must not exceed the input")
    return out_h, out_w


class _SlidingWindow:
    """How a window slides, as the ops read it (a layer's ``strides`` and ``padding`` fields keep what the
    spec said: an int or a pair, any case)."""

    @property
    def stride_hw(self) -> tuple[int, int]:
        """(rows, columns) per step; a pool's own size where its ``strides`` is None."""
        return self._strides

    @property
    def padding_rule(self):
        """'valid', 'same' or (pad_h, pad_w)."""
        return self._padding


def filter_fields(strides: Field, padding: Field) -> dict[str, Field]:
    """The settings of a layer of learned filters (``LearnedFilters``), in the inspector's order, with the
    layer's own ``strides`` and ``padding``."""
    return {
        "filters": Field("int", REQUIRED, low=1, high=MAX_SIZE, help="How many filters, so how many output maps."),
        "kernel_size": Field("size_pair", REQUIRED, low=1, high=MAX_SIZE,
                             help="Each filter's height x width; one number for a square."),
        "strides": strides,
        "padding": padding,
        "activation": activation_field(),
        "use_bias": use_bias_field(),
        "kernel_initializer": initializer_field(DEFAULT_KERNEL_INITIALIZER, "kernel (the filters)"),
        "bias_initializer": initializer_field(DEFAULT_BIAS_INITIALIZER, "bias"),
    }


class LearnedFilters(Layer):
    """What Conv2D and Conv2DTranspose share: ``filters`` learned filters of ``kernel_size``, ``strides`` apart, a
    bias and an activation (``fields`` from ``filter_fields``; each layer reads its own ``padding``)."""

    shares_out_its_work = True

    def configure(self, **settings):
        # Every setting is kept as the spec said it (an int or a pair, any case: ``get_config`` gives it back);
        # filters, activation, use_bias and the initializers have been checked against ``fields`` already.
        super().configure(**settings)
        self._kernel = size_pair(self.kernel_size, "kernel_size", self.fields["kernel_size"])
        self._strides = size_pair(self.strides, "strides", self.fields["strides"])
        self._activation = get_activation(self.activation)
        self._workspace = Workspace()  # training's column buffers, reused from step to step

    # Geometry as the ops read it.
    @property
    def kernel_hw(self) -> tuple[int, int]:
        return self._kernel

    @property
    def activation_function(self):
        """The ``engine.ops.activations.Activation`` that ``activation`` names."""
        return self._activation

    def _filter_params(self, kernel_shape, fans) -> dict[str, ParamSpec]:
        """The kernel (as the op stores it) and, with ``use_bias``, one bias per filter."""
        specs = {"kernel": ParamSpec(kernel_shape, self.kernel_initializer, fans, True)}
        if self.use_bias:
            specs["bias"] = ParamSpec((self.filters,), self.bias_initializer, fans, False)
        return specs


class Conv2D(_SlidingWindow, LearnedFilters):
    """Learned filters slid over the image; kernel (filters, in_channels, kh, kw)."""

    type_name = "Conv2D"
    fields = filter_fields(
        strides=Field("size_pair", 1, low=1, high=MAX_SIZE, help="How far the filter steps, down x across."),
        padding=Field("padding", "valid", low=0, high=MAX_SIZE, help=PADDING_HELP),
    )

    def configure(self, **settings):
        super().configure(**settings)
        self._padding = _padding(self.padding, self.fields["padding"])
        self._inference_workspace = Workspace()  # only ever holds columns of up to dispatch.CHUNK_BYTES

    def output_shape(self, input_shapes):
        out_h, out_w = window_output_shape(self, input_shapes[0], self._kernel, self._strides, self._padding)
        return (self.filters, out_h, out_w)

    def param_shapes(self, input_shapes):
        channels = require_image(self, input_shapes[0], "Conv2D")[0]
        kh, kw = self._kernel
        return self._filter_params((self.filters, channels, kh, kw), (channels * kh * kw, self.filters * kh * kw))

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
        # reader's every reading); a big inference batch holds nothing once it is done. (The "conv2d workspace"
        # rules of ``engine.ops.dispatch``.)
        path = choose("conv2d workspace", training, x.shape, kernel.shape, self._strides, self._padding, x.itemsize)
        if path == "training":
            workspace = self._workspace
        elif path == "small inference":
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


class _Pooling2D(_SlidingWindow, Layer):
    fields = {
        "pool_size": Field("size_pair", 2, low=1, high=MAX_SIZE, help="Each window's height x width."),
        "strides": Field("size_pair", None, low=1, high=MAX_SIZE, none_label="= pool",
                         help="How far the window steps, down x across; none: by the pool size."),
        "padding": Field("padding", "valid", low=0, high=MAX_SIZE, help=PADDING_HELP),
    }
    shares_out_its_work = True

    def configure(self, pool_size, strides, padding):
        self.pool_size = pool_size
        self._pool = size_pair(pool_size, "pool_size", self.fields["pool_size"])
        self.strides = strides
        self._strides = self._pool if strides is None else size_pair(strides, "strides", self.fields["strides"])
        self.padding = padding
        self._padding = _padding(padding, self.fields["padding"])

    # Geometry as the ops read it (the fields above keep what the spec said).
    @property
    def pool_hw(self) -> tuple[int, int]:
        return self._pool

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


__all__ = ["Conv2D", "MaxPooling2D", "AveragePooling2D", "LearnedFilters", "describe_shape", "filter_fields",
           "size_pair"]
