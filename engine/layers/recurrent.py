"""SimpleRNN, LSTM and GRU: read a sequence (steps x features), return the last state or every step's.

The math is in ``engine.ops.recurrent``; these classes hold the settings and parameters (Keras's names and
layout: ``kernel`` (features, G*units), ``recurrent_kernel`` (units, G*units), ``bias`` (G*units)) and keep
the hidden state of every step of their last forward pass, which ``Network.hidden_states`` hands to the
Activations view.
"""

from __future__ import annotations

import numpy as np

from engine.backend import array_module, to_host
from engine.design_limits import MAX_SIZE
from engine.layers.base import REQUIRED, Field, Layer, ParamSpec, describe_shape
from engine.layers.core import activation_field, initializer_field
from engine.ops import recurrent as ops
from engine.ops import recurrent_fast
from engine.ops.activations import get_activation
from engine.ops.workspace import Workspace


def _recurrent_fields() -> dict[str, Field]:
    return {
        "units": Field("int", REQUIRED, low=1, high=MAX_SIZE, help="How many numbers the hidden state holds."),
        "return_sequences": Field("bool", False, help="Return the hidden state of every step (steps x units) "
                                                      "instead of the last step's alone (units)."),
        "kernel_initializer": initializer_field("glorot_uniform", "kernel (input weights)"),
        "recurrent_initializer": initializer_field("orthogonal", "recurrent kernel (state-to-state weights)"),
        "bias_initializer": initializer_field("zeros", "bias"),
    }


class Recurrent(Layer):
    """What the three types share: the input rule, shapes, parameters and the kept hidden states."""

    gates: int = 1  # G: how many blocks of ``units`` columns the kernels hold
    # Keeps BLAS to one thread in a network with a recurrent layer (``Network._threads_for``): the loop's
    # products are small (batch x units x G*units, one per step), where waking BLAS's threads costs more than
    # it gives, and far more on a busy machine. LSTM MNIST rows, batch 128, a training step on the
    # development machine's 2 cores while other work ran: 73 ms with one thread, 806 ms with two (median of 6).
    shares_out_its_work = True

    def configure(self, **settings):
        super().configure(**settings)
        self._hidden = None  # (T, N, units) of the last forward pass, time-major

    def _sequence(self, input_shapes) -> tuple[int, int]:
        shape = tuple(input_shapes[0])
        if len(shape) != 2:
            # An image's rows as the steps (each channel's rows in turn): [C*H, W] holds the same values.
            fix = f": add a Reshape to [{shape[0] * shape[1]}, {shape[2]}] before it" if len(shape) == 3 else (
                ": add a Reshape to [steps, features] before it")
            raise self.error(f"{self.type_name} reads a sequence (steps x features); received "
                             f"{describe_shape(shape)}{fix}", "input must be a sequence")
        return shape

    def output_shape(self, input_shapes):
        steps, _ = self._sequence(input_shapes)
        return (steps, self.units) if self.return_sequences else (self.units,)

    def param_shapes(self, input_shapes):
        _, features = self._sequence(input_shapes)
        width = self.gates * self.units
        return {"kernel": ParamSpec((features, width), self.kernel_initializer, (features, width)),
                "recurrent_kernel": ParamSpec((self.units, width), self.recurrent_initializer, (self.units, width)),
                "bias": ParamSpec((width,), self.bias_initializer, (features, width), False)}

    def flops(self, input_shapes, output_shape):
        steps, features = self._sequence(input_shapes)
        width = self.gates * self.units
        return steps * (2 * (features + self.units) * width + 6 * width)

    def _values(self):
        return {name: param.value for name, param in self._params.items()}

    def forward(self, inputs, training):
        hs, saved = self._forward(inputs[0], self._values())
        self._hidden = hs
        self._saved = saved if self.keep_for_backward else None
        # a copy of the last step: ``hs`` stays the layer's own record (Network.hidden_states)
        return hs.transpose(1, 0, 2).copy() if self.return_sequences else hs[-1].copy()

    def backward(self, dy, need_input_grads=True):
        xp = array_module(dy)
        if self.return_sequences:
            dhs = xp.ascontiguousarray(dy.transpose(1, 0, 2))
        else:
            dhs = self._last_step_gradient(dy)
        dx, grads = self._backward(dhs, self._saved, need_input_grads)
        for name, grad in grads.items():
            self._params[name].grad[...] = grad
        self._saved = None
        return [dx]

    def _last_step_gradient(self, dy):
        """What ``_backward`` reads when only the last step's state is the output: every step's, zeros before."""
        xp = array_module(dy)
        steps, batch, units = self._hidden.shape
        dhs = xp.zeros((steps, batch, units), dtype=dy.dtype)
        dhs[-1] = dy
        return dhs

    def hidden_states(self):
        """Every step's hidden state of the last forward pass, host (N, steps, units); None before any pass."""
        if self._hidden is None:
            return None
        return np.ascontiguousarray(to_host(self._hidden).transpose(1, 0, 2))

    def forget(self) -> None:
        self._saved = None  # the hidden states stay: the Activations view reads them after an inference pass


class SimpleRNN(Recurrent):
    """h_t = activation(x_t kernel + h_{t-1} recurrent_kernel + bias)."""

    type_name = "SimpleRNN"
    fields = {**_recurrent_fields(), "activation": activation_field("tanh")}
    gates = 1

    def configure(self, **settings):
        super().configure(**settings)
        self._activation = get_activation(self.activation)

    def _forward(self, x, p):
        return ops.simple_rnn_forward(x, p["kernel"], p["recurrent_kernel"], p["bias"], self._activation)

    def _backward(self, dhs, saved, need_input_grad):
        return ops.simple_rnn_backward(dhs, saved, need_input_grad)


class LSTM(Recurrent):
    """Long short-term memory: gates i, f, c (candidate), o side by side in the kernels, as Keras."""

    type_name = "LSTM"
    fields = {**_recurrent_fields(),
              "unit_forget_bias": Field("bool", True, help="Start the forget gate's bias at 1 (as Keras), so the "
                                                           "cell remembers by default early in training.")}
    gates = 4

    def build(self, input_shapes, store, rng, xp, dtype) -> None:
        super().build(input_shapes, store, rng, xp, dtype)
        if self.unit_forget_bias:
            self._params["bias"].value[self.units:2 * self.units] = 1.0

    # The reference's math arranged for speed (engine.ops.recurrent_fast): feature-major, one product and one tanh
    # for the four gates a step, two cores shared when the batch pays for it; tested against the reference.
    def configure(self, **settings):
        super().configure(**settings)
        self._workspace = Workspace()  # the training passes' buffers, kept while the shape stays

    def _forward(self, x, p):
        # Only a pass whose saved arrays backward reads uses the kept buffers: an inference pass in between
        # (same shape) must not overwrite them.
        workspace = self._workspace if self.keep_for_backward else None
        return recurrent_fast.lstm_forward(x, p["kernel"], p["recurrent_kernel"], p["bias"], workspace)

    def _backward(self, dhs, saved, need_input_grad):
        return recurrent_fast.lstm_backward(dhs, saved, need_input_grad)

    def _last_step_gradient(self, dy):
        return dy  # the fast backward takes the last step's gradient alone, no (T, N, H) of zeros


class GRU(Recurrent):
    """Gated recurrent unit: gates z, r, h; the reset applied after the recurrent product (Keras reset_after)."""

    type_name = "GRU"
    fields = _recurrent_fields()
    gates = 3

    def param_shapes(self, input_shapes):
        specs = super().param_shapes(input_shapes)
        specs["recurrent_bias"] = ParamSpec((3 * self.units,), self.bias_initializer, (self.units, 3 * self.units),
                                            False)
        return specs

    def _forward(self, x, p):
        return ops.gru_forward(x, p["kernel"], p["recurrent_kernel"], p["bias"], p["recurrent_bias"])

    def _backward(self, dhs, saved, need_input_grad):
        return ops.gru_backward(dhs, saved, need_input_grad)
