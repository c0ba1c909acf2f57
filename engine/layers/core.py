"""Input, Dense, Flatten, Activation and Dropout."""

from __future__ import annotations

from engine.design_limits import MAX_SIZE
from engine.layers.base import (
    REQUIRED,
    Field,
    Layer,
    ParamSpec,
    describe_shape,
    describe_value,
)
from engine.ops.activations import ACTIVATIONS, get_activation
from engine.parallel import matmul

DEFAULT_KERNEL_INITIALIZER = "glorot_uniform"
DEFAULT_BIAS_INITIALIZER = "zeros"
LINEAR = get_activation(None)


def activation_of_pass(layer):
    """``layer``'s activation, or the identity where this pass stops before it (``Layer.skip_activation``)."""
    return LINEAR if layer.skip_activation else layer._activation


def check_activation(name):
    """An activation's name (or None, linear), resolved now so that a typo names the node."""
    if name is not None and not isinstance(name, str):
        raise ValueError(f'activation must be a name such as "relu", or null; '
                         f"received activation={describe_value(name)}")
    try:
        return get_activation(name)
    except ValueError:
        # get_activation's own message would repeat the whole name, however long
        raise ValueError(f"unknown activation {describe_value(name)}; expected one of: "
                         f"{', '.join(ACTIVATIONS)}") from None


def check_initializer(config, field: str):
    """Resolve an initializer config now, so a typo is reported when the node is made, not at build."""
    from engine import initializers

    try:
        initializers.get(config)
    except ValueError as exc:
        raise ValueError(f"{field}: {exc}") from None
    return config


def _activation_name(name, field: str):
    check_activation(name)
    return name


def activation_field(default=None, linear_allowed: bool = True) -> Field:
    """The ``activation`` setting Dense, Conv2D and Activation share."""
    choices = (None, *ACTIVATIONS) if linear_allowed else tuple(ACTIVATIONS)
    return Field("choice", default, choices=choices, none_label="none (linear)" if linear_allowed else None,
                 check=_activation_name, help="The non-linearity applied to the output; none keeps it linear.")


def initializer_field(default, what: str) -> Field:
    return Field("initializer", default, check=check_initializer,
                 help=f"How the {what} starts before training: an initializer's name, or a config with its arguments.")


def use_bias_field() -> Field:
    return Field("bool", True, help="Whether a learned bias is added to each output.")


class Input(Layer):
    """Where data enters; ``shape`` is one example's shape, e.g. [1, 28, 28] or [2]."""

    type_name = "Input"
    fields = {"shape": Field("shape", REQUIRED, low=1, high=MAX_SIZE,
                             help="One example's shape: [features], or [channels, height, width] for an image.")}
    min_inputs = 0
    max_inputs = 0

    def configure(self, shape):
        low, high = self.fields["shape"].low, self.fields["shape"].high
        ok = isinstance(shape, (list, tuple)) and len(shape) in (1, 3)
        ok = ok and all(isinstance(d, int) and not isinstance(d, bool) and low <= d <= high for d in shape)
        if not ok:
            raise ValueError(f"shape must be [features] or [channels, height, width] of integers from {low} to "
                             f"{high:,}; received shape={describe_value(shape)}")
        self.shape = [int(d) for d in shape]

    def output_shape(self, input_shapes):
        return tuple(self.shape)

    def forward(self, inputs, training):
        return inputs[0]

    def backward(self, dy, need_input_grads=True):
        return [dy]


class Dense(Layer):
    """Fully connected: y = activation(x @ kernel + bias); kernel is (in, out)."""

    type_name = "Dense"
    fields = {
        "units": Field("int", REQUIRED, low=1, high=MAX_SIZE, help="How many outputs (neurons) the layer has."),
        "activation": activation_field(),
        "use_bias": use_bias_field(),
        "kernel_initializer": initializer_field(DEFAULT_KERNEL_INITIALIZER, "kernel (the weights)"),
        "bias_initializer": initializer_field(DEFAULT_BIAS_INITIALIZER, "bias"),
    }

    def configure(self, units, activation, use_bias, kernel_initializer, bias_initializer):
        # Each setting has been checked against ``fields`` already (Layer.__init__).
        self.units = units
        self._activation = get_activation(activation)
        self.activation = activation
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer

    @property
    def activation_function(self):
        """The ``engine.ops.activations.Activation`` that ``activation`` names."""
        return self._activation

    def _features(self, input_shapes) -> int:
        shape = input_shapes[0]
        if len(shape) != 1:
            raise self.error(f"Dense expects a flat input; received shape {describe_shape(shape)} "
                             f"(add a Flatten layer before it)", "input must be flat")
        return shape[0]

    def output_shape(self, input_shapes):
        self._features(input_shapes)
        return (self.units,)

    def param_shapes(self, input_shapes):
        n_in = self._features(input_shapes)
        # Stored (out, in) as PyTorch's Linear, seen (in, out) as Keras': one example's product x @ kernel
        # then reads each output's weights as one contiguous row (a dot product per output), which OpenBLAS
        # runs ~1.4x faster than the (in, out) order's column updates. Measured on the development machine,
        # the seed CNN's fc1 (3136 x 1024, 12.8 MB) for one image in a network pass: 290-350 -> 180-220 us.
        specs = {"kernel": ParamSpec((n_in, self.units), self.kernel_initializer, (n_in, self.units), True,
                                     transposed=True)}
        if self.use_bias:
            specs["bias"] = ParamSpec((self.units,), self.bias_initializer, (n_in, self.units), False)
        return specs

    def flops(self, input_shapes, output_shape):
        return 2 * self._features(input_shapes) * self.units + (self.units if self.use_bias else 0)

    def forward(self, inputs, training):
        x = inputs[0]
        z = matmul(x, self._params["kernel"].value)
        if self.use_bias:
            z += self._params["bias"].value
        y, self._saved = activation_of_pass(self).forward(z, inplace=True)
        self._x = x
        return y

    def backward(self, dy, need_input_grads=True):
        dz = activation_of_pass(self).backward(dy, self._saved)
        kernel = self._params["kernel"]
        matmul(dz.T, self._x, out=kernel.grad.T)  # the grad is stored (out, in) like the kernel: a C-order out
        if self.use_bias:
            dz.sum(axis=0, out=self._params["bias"].grad)
        dx = matmul(dz, kernel.value.T) if need_input_grads else None
        self._x = self._saved = None
        return [dx]


class Flatten(Layer):
    """(C, H, W) -> (C*H*W,), in C, H, W order (as Keras channels_first and PyTorch)."""

    type_name = "Flatten"
    fields = {}

    def output_shape(self, input_shapes):
        size = 1
        for d in input_shapes[0]:
            size *= d
        return (size,)

    def forward(self, inputs, training):
        x = inputs[0]
        self._x_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy, need_input_grads=True):
        return [dy.reshape(self._x_shape)]


class Activation(Layer):
    """A stand-alone non-linearity; softmax acts over the channel (or feature) axis."""

    type_name = "Activation"
    fields = {"activation": activation_field(REQUIRED, linear_allowed=False)}

    def configure(self, activation):
        self._activation = get_activation(activation)
        self.activation = activation

    def flops(self, input_shapes, output_shape):
        size = 1
        for d in output_shape:
            size *= d
        return size

    def forward(self, inputs, training):
        y, self._saved = activation_of_pass(self).forward(inputs[0])
        return y

    def backward(self, dy, need_input_grads=True):
        dx = activation_of_pass(self).backward(dy, self._saved)
        self._saved = None
        return [dx]


class Dropout(Layer):
    """Inverted dropout: at training time zero a fraction ``rate`` and scale the rest by 1/(1-rate)."""

    type_name = "Dropout"
    # 1 itself is refused: nothing would be kept
    fields = {"rate": Field("float", REQUIRED, low=0.0, high=1.0, high_inclusive=False, step=0.05,
                            help="The fraction of values zeroed while training; none at inference.")}

    def configure(self, rate):
        self.rate = rate

    def set_random_generator(self, generator) -> None:
        """The run's seeded generator (on the network's device); the network sets it at build."""
        self._generator = generator

    def forward(self, inputs, training):
        x = inputs[0]
        if not training or self.rate == 0:
            self._mask = None
            return x
        keep = 1.0 - self.rate
        noise = self._generator.random(x.shape, dtype=x.dtype)
        # One array that both zeroes and rescales; backward reuses it.
        self._mask = (noise >= self.rate).astype(x.dtype)
        self._mask *= x.dtype.type(1.0 / keep)
        return x * self._mask

    def backward(self, dy, need_input_grads=True):
        return [dy if self._mask is None else dy * self._mask]
