"""Stochastic gradient descent, with classical or Nesterov momentum (PyTorch's formulation).

    velocity = momentum * velocity + grad
    value   -= lr * velocity                               (classical)
    value   -= lr * (grad + momentum * velocity)           (Nesterov)

PyTorch puts lr outside the velocity (Keras puts it inside); the two agree while lr is constant, and
PyTorch's keeps the step size right when a schedule changes lr.
"""

from __future__ import annotations

from engine import checks
from engine.optimizers.base import Optimizer


def sgd_update(xp, value, grad, tmp, lr):
    xp.multiply(grad, lr, out=tmp)
    value -= tmp


def momentum_update(xp, value, grad, velocity, tmp, lr, momentum, nesterov):
    velocity *= momentum
    velocity += grad
    if nesterov:
        xp.multiply(velocity, momentum, out=tmp)
        tmp += grad
        tmp *= lr
    else:
        xp.multiply(velocity, lr, out=tmp)
    value -= tmp


class SGD(Optimizer):
    """Plain SGD, or with ``momentum`` (and ``nesterov``). Defaults as PyTorch: lr=1e-3, momentum=0.

    >>> opt = SGD(net.parameters(), lr=0.01, momentum=0.9)
    """

    name = "SGD"

    def __init__(self, params, lr=1e-3, momentum=0.0, nesterov=False, weight_decay=0.0, clipnorm=None,
                 clipvalue=None):
        super().__init__(params, lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue)

    def _check(self, hyperparameters):
        hyperparameters["momentum"] = checks.unit_interval(self.name, "momentum", hyperparameters["momentum"])
        if "nesterov" in hyperparameters:
            hyperparameters["nesterov"] = checks.boolean(self.name, "nesterov", hyperparameters["nesterov"])
            if hyperparameters["nesterov"] and hyperparameters["momentum"] == 0:
                raise ValueError(f"{self.name}: nesterov needs momentum > 0. Received: momentum=0")
        return hyperparameters

    @property
    def nesterov(self) -> bool:
        return self.hyperparameters.get("nesterov", False)

    def _state_names(self):
        return ("velocity",) if self.hyperparameters["momentum"] > 0 else ()

    def _constants(self, lr, t):
        return lr, self.hyperparameters["momentum"], self.nesterov

    def _update(self, xp, segment, grad, constants):
        lr, momentum, nesterov = constants
        if momentum:
            momentum_update(xp, segment.value, grad, segment.state["velocity"], segment.scratch[1], lr, momentum,
                            nesterov)
        else:
            sgd_update(xp, segment.value, grad, segment.scratch[1], lr)


class Momentum(SGD):
    """SGD with classical momentum (default 0.9); lr=1e-3 as PyTorch's SGD."""

    name = "Momentum"

    def __init__(self, params, lr=1e-3, momentum=0.9, weight_decay=0.0, clipnorm=None, clipvalue=None):
        Optimizer.__init__(self, params, lr, momentum=momentum, weight_decay=weight_decay, clipnorm=clipnorm,
                           clipvalue=clipvalue)

    def _check(self, hyperparameters):
        hyperparameters = super()._check(hyperparameters)
        if hyperparameters["momentum"] == 0:
            raise ValueError(f"{self.name}: momentum must be in (0, 1). Received: momentum=0")
        return hyperparameters


class Nesterov(Momentum):
    """SGD with Nesterov momentum (default 0.9), as PyTorch's ``SGD(nesterov=True)``."""

    name = "Nesterov"

    @property
    def nesterov(self) -> bool:
        return True
