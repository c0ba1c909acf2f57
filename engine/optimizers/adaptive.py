"""Optimizers that scale each weight's step by its own gradient history: AdaGrad, RMSProp, Adadelta.

Formulas and defaults follow PyTorch (``torch.optim.Adagrad``, ``RMSprop``, ``Adadelta``); argument
names follow Keras (``rho``, ``epsilon``). Each rule is written once, over arrays of any shape.
"""

from __future__ import annotations

from engine import checks
from engine.optimizers.base import Optimizer


def adagrad_update(xp, value, grad, sum_of_squares, tmp, lr, epsilon):
    """sum += grad**2;  value -= lr * grad / (sqrt(sum) + epsilon)"""
    xp.square(grad, out=tmp)
    sum_of_squares += tmp
    xp.sqrt(sum_of_squares, out=tmp)
    tmp += epsilon
    xp.divide(grad, tmp, out=tmp)
    tmp *= lr
    value -= tmp


def rmsprop_update(xp, value, grad, mean_square, mean_grad, velocity, tmp, lr, rho, epsilon, momentum):
    """mean_square = rho * mean_square + (1 - rho) * grad**2;  step = grad / (sqrt(mean_square) + epsilon).

    Centered (``mean_grad`` given): the denominator uses mean_square - mean_grad**2, the variance.
    With ``velocity``: velocity = momentum * velocity + step, and the weight moves by lr * velocity.
    """
    mean_square *= rho
    xp.square(grad, out=tmp)
    tmp *= 1.0 - rho
    mean_square += tmp
    if mean_grad is not None:
        mean_grad *= rho
        xp.multiply(grad, 1.0 - rho, out=tmp)
        mean_grad += tmp
        xp.multiply(mean_grad, mean_grad, out=tmp)
        xp.subtract(mean_square, tmp, out=tmp)
        xp.maximum(tmp, 0.0, out=tmp)  # rounding can leave a tiny negative variance; sqrt would give NaN
        xp.sqrt(tmp, out=tmp)
    else:
        xp.sqrt(mean_square, out=tmp)
    tmp += epsilon
    xp.divide(grad, tmp, out=tmp)
    if velocity is not None:
        velocity *= momentum
        velocity += tmp
        xp.multiply(velocity, lr, out=tmp)
    else:
        tmp *= lr
    value -= tmp


def adadelta_update(xp, value, grad, mean_square, mean_square_update, tmp, tmp2, lr, rho, epsilon):
    """update = sqrt((mean_square_update + eps) / (mean_square + eps)) * grad, with both means running."""
    mean_square *= rho
    xp.square(grad, out=tmp)
    tmp *= 1.0 - rho
    mean_square += tmp
    xp.add(mean_square, epsilon, out=tmp)
    xp.add(mean_square_update, epsilon, out=tmp2)
    xp.divide(tmp2, tmp, out=tmp)
    xp.sqrt(tmp, out=tmp)  # one square root of the ratio instead of two
    tmp *= grad
    mean_square_update *= rho
    xp.multiply(tmp, 1.0 - rho, out=tmp2)
    tmp2 *= tmp
    mean_square_update += tmp2
    tmp *= lr
    value -= tmp


class AdaGrad(Optimizer):
    """Divides each step by the root of the sum of all past squared gradients.

    Defaults as PyTorch: lr=0.01, epsilon=1e-10, initial_accumulator_value=0 (Keras uses 0.1).
    """

    name = "AdaGrad"

    def __init__(self, params, lr=0.01, epsilon=1e-10, initial_accumulator_value=0.0, weight_decay=0.0,
                 clipnorm=None, clipvalue=None):
        super().__init__(params, lr, epsilon=epsilon, initial_accumulator_value=initial_accumulator_value,
                         weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue)

    def _check(self, hyperparameters):
        hyperparameters["epsilon"] = checks.positive(self.name, "epsilon", hyperparameters["epsilon"])
        hyperparameters["initial_accumulator_value"] = checks.non_negative(
            self.name, "initial_accumulator_value", hyperparameters["initial_accumulator_value"])
        return hyperparameters

    def _state_names(self):
        return ("sum_of_squares",)

    def _initial_state(self, state_name):
        return self.hyperparameters["initial_accumulator_value"]

    def _constants(self, lr, t):
        return lr, self.hyperparameters["epsilon"]

    def _update(self, xp, segment, grad, constants):
        lr, epsilon = constants
        adagrad_update(xp, segment.value, grad, segment.state["sum_of_squares"], segment.scratch[1], lr, epsilon)


class RMSProp(Optimizer):
    """Divides each step by a running root-mean-square of recent gradients.

    Defaults as PyTorch: lr=0.01, rho=0.99 (PyTorch's alpha), epsilon=1e-8, momentum=0, centered=False.
    """

    name = "RMSProp"

    def __init__(self, params, lr=0.01, rho=0.99, epsilon=1e-8, momentum=0.0, centered=False, weight_decay=0.0,
                 clipnorm=None, clipvalue=None):
        super().__init__(params, lr, rho=rho, epsilon=epsilon, momentum=momentum, centered=centered,
                         weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue)

    def _check(self, hyperparameters):
        hyperparameters["rho"] = checks.unit_interval(self.name, "rho", hyperparameters["rho"])
        hyperparameters["epsilon"] = checks.positive(self.name, "epsilon", hyperparameters["epsilon"])
        hyperparameters["momentum"] = checks.unit_interval(self.name, "momentum", hyperparameters["momentum"])
        hyperparameters["centered"] = checks.boolean(self.name, "centered", hyperparameters["centered"])
        return hyperparameters

    def _state_names(self):
        names = ("mean_square",)
        if self.hyperparameters["centered"]:
            names += ("mean_grad",)
        if self.hyperparameters["momentum"] > 0:
            names += ("velocity",)
        return names

    def _constants(self, lr, t):
        h = self.hyperparameters
        return lr, h["rho"], h["epsilon"], h["momentum"]

    def _update(self, xp, segment, grad, constants):
        lr, rho, epsilon, momentum = constants
        state = segment.state
        rmsprop_update(xp, segment.value, grad, state["mean_square"], state.get("mean_grad"), state.get("velocity"),
                       segment.scratch[1], lr, rho, epsilon, momentum)


class Adadelta(Optimizer):
    """Scales steps by the ratio of running RMS of past updates to running RMS of gradients.

    Defaults as PyTorch: lr=1.0 (the paper's rule has no learning rate), rho=0.9, epsilon=1e-6.
    """

    name = "Adadelta"
    rule_scratch = 2

    def __init__(self, params, lr=1.0, rho=0.9, epsilon=1e-6, weight_decay=0.0, clipnorm=None, clipvalue=None):
        super().__init__(params, lr, rho=rho, epsilon=epsilon, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue)

    def _check(self, hyperparameters):
        hyperparameters["rho"] = checks.unit_interval(self.name, "rho", hyperparameters["rho"])
        hyperparameters["epsilon"] = checks.positive(self.name, "epsilon", hyperparameters["epsilon"])
        return hyperparameters

    def _state_names(self):
        return ("mean_square", "mean_square_update")

    def _constants(self, lr, t):
        return lr, self.hyperparameters["rho"], self.hyperparameters["epsilon"]

    def _update(self, xp, segment, grad, constants):
        lr, rho, epsilon = constants
        state, scratch = segment.state, segment.scratch
        adadelta_update(xp, segment.value, grad, state["mean_square"], state["mean_square_update"], scratch[1],
                        scratch[2], lr, rho, epsilon)
