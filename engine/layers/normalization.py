"""BatchNormalization: per-channel normalisation with learned scale/shift and moving statistics.

Training normalises with the batch's mean and (biased) variance and updates the moving averages
as Keras does: moving = moving * momentum + batch * (1 - momentum). Inference uses the moving ones.
"""

from __future__ import annotations

from engine.layers.base import Field, Layer, ParamSpec


class BatchNormalization(Layer):
    type_name = "BatchNormalization"
    fields = {
        # a momentum of 1 itself is refused: the moving statistics would never move
        "momentum": Field("float", 0.99, low=0.0, high=1.0, high_inclusive=False, step=0.01,
                          help="How much of the moving mean and variance each batch keeps."),
        "epsilon": Field("float", 0.001, low=1e-12, high=1.0, step=1e-4,
                         help="Added to the variance before dividing, so a flat channel cannot divide by zero."),
        "center": Field("bool", True, help="Whether a learned shift (beta) is added after normalising."),
        "scale": Field("bool", True, help="Whether a learned scale (gamma) multiplies after normalising."),
    }

    def configure(self, momentum, epsilon, center, scale):
        # Each setting has been checked against ``fields`` already (Layer.__init__).
        self.momentum, self.epsilon, self.center, self.scale = momentum, epsilon, center, scale

    def param_shapes(self, input_shapes):
        channels = input_shapes[0][0]
        specs = {}
        if self.scale:
            specs["gamma"] = ParamSpec((channels,), "ones", (channels, channels), False)
        if self.center:
            specs["beta"] = ParamSpec((channels,), "zeros", (channels, channels), False)
        return specs

    def buffer_shapes(self, input_shapes):
        channels = input_shapes[0][0]
        return {"moving_mean": ((channels,), 0.0), "moving_variance": ((channels,), 1.0)}

    def flops(self, input_shapes, output_shape):
        size = 1
        for d in output_shape:
            size *= d
        return 4 * size

    @staticmethod
    def _axes_and_shape(x):
        """Reduction axes and the broadcast shape of a per-channel vector, for (N, C) or (N, C, H, W)."""
        if x.ndim == 4:
            return (0, 2, 3), (1, -1, 1, 1)
        return (0,), (1, -1)

    def forward(self, inputs, training):
        x = inputs[0]
        xp_axes, shape = self._axes_and_shape(x)
        moving_mean, moving_var = self._buffers["moving_mean"], self._buffers["moving_variance"]
        if training:
            mean = x.mean(axis=xp_axes)
            var = x.var(axis=xp_axes)
            moving_mean *= self.momentum
            moving_mean += (1 - self.momentum) * mean
            moving_var *= self.momentum
            moving_var += (1 - self.momentum) * var
        else:
            mean, var = moving_mean, moving_var
        inv_std = 1.0 / (var + self.epsilon) ** 0.5
        x_hat = (x - mean.reshape(shape)) * inv_std.reshape(shape)
        y = x_hat
        if self.scale:
            y = y * self._params["gamma"].value.reshape(shape)
        if self.center:
            y = y + self._params["beta"].value.reshape(shape)
        self._saved = (x_hat, inv_std, training)
        return y

    def backward(self, dy, need_input_grads=True):
        x_hat, inv_std, training = self._saved
        axes, shape = self._axes_and_shape(dy)
        dbeta = dy.sum(axis=axes)
        dgamma = (dy * x_hat).sum(axis=axes)
        if self.center:
            self._params["beta"].grad[...] = dbeta
        gamma = 1.0
        if self.scale:
            self._params["gamma"].grad[...] = dgamma
            gamma = self._params["gamma"].value.reshape(shape)
        dx = None
        if need_input_grads:
            if training:
                count = dy.size // dbeta.size
                dx = (gamma * inv_std.reshape(shape) / count) * (
                    count * dy - dbeta.reshape(shape) - x_hat * dgamma.reshape(shape)
                )
            else:  # moving statistics are constants
                dx = dy * (gamma * inv_std.reshape(shape))
        self._saved = None
        return [dx]
