"""Adam and AdamW (PyTorch's formulation and defaults: lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8).

    m = beta_1 * m + (1 - beta_1) * grad
    v = beta_2 * v + (1 - beta_2) * grad**2
    value -= lr / (1 - beta_1**t) * m / (sqrt(v / (1 - beta_2**t)) + epsilon)

epsilon is added after the square root as in PyTorch (Keras's 1e-7 default differs slightly). AdamW
first shrinks each regularised weight by ``1 - lr * weight_decay`` (decoupled weight decay).

The state holds decayed sums, ``decayed_grad_sum = m / (1 - beta_1)`` and ``decayed_square_sum =
v / (1 - beta_2)``: updating a sum (``s = beta * s + grad``) takes two array operations fewer per step
than updating an average, and the constants fold into the step size and epsilon.

The NumPy rule below is the reference; on CuPy one fused kernel does the same work in one launch.
"""

from __future__ import annotations

import math
from functools import cache

from engine import checks
from engine.optimizers.base import Optimizer


def adam_update(xp, value, grad, grad_sum, square_sum, tmp, beta_1, beta_2, step_size, epsilon_hat):
    """One Adam step on decayed sums, with bias corrections folded into ``step_size`` and ``epsilon_hat``."""
    grad_sum *= beta_1
    grad_sum += grad
    square_sum *= beta_2
    xp.square(grad, out=tmp)
    square_sum += tmp
    xp.sqrt(square_sum, out=tmp)
    tmp += epsilon_hat
    xp.divide(grad_sum, tmp, out=tmp)
    tmp *= step_size
    value -= tmp


@cache
def _cupy_adam_kernel():
    import cupy

    return cupy.ElementwiseKernel(
        "T grad, T beta_1, T beta_2, T step_size, T epsilon_hat, T decay_factor",
        "T value, T grad_sum, T square_sum",
        """
        grad_sum = beta_1 * grad_sum + grad;
        square_sum = beta_2 * square_sum + grad * grad;
        value = value * decay_factor - step_size * grad_sum / (sqrt(square_sum) + epsilon_hat);
        """,
        "layerlab_adam_update",
    )


class Adam(Optimizer):
    """Adaptive moment estimation. ``weight_decay`` here is L2 added to the gradient (PyTorch's Adam).

    >>> opt = Adam(net.parameters(), lr=1e-4)
    """

    name = "Adam"
    use_fused_kernel = True  # on CuPy; tests turn it off to check the plain rule there too

    def __init__(self, params, lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.0, clipnorm=None,
                 clipvalue=None):
        super().__init__(params, lr, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue)

    def _check(self, hyperparameters):
        for field in ("beta_1", "beta_2"):
            hyperparameters[field] = checks.unit_interval(self.name, field, hyperparameters[field])
        hyperparameters["epsilon"] = checks.positive(self.name, "epsilon", hyperparameters["epsilon"])
        return hyperparameters

    def _state_names(self):
        return ("decayed_grad_sum", "decayed_square_sum")

    def _constants(self, lr, t):
        # m_hat = (1 - beta_1) / (1 - beta_1**t) * grad_sum and v_hat = root**2 * square_sum, so
        # lr * m_hat / (sqrt(v_hat) + epsilon) = step_size * grad_sum / (sqrt(square_sum) + epsilon / root)
        h = self.hyperparameters
        root = math.sqrt((1.0 - h["beta_2"]) / (1.0 - h["beta_2"] ** t))
        step_size = lr * (1.0 - h["beta_1"]) / ((1.0 - h["beta_1"] ** t) * root)
        decay_factor = 1.0 - lr * h["weight_decay"] if self.decoupled_weight_decay else 1.0
        return h["beta_1"], h["beta_2"], step_size, h["epsilon"] / root, decay_factor

    def _update(self, xp, segment, grad, constants):
        beta_1, beta_2, step_size, epsilon_hat, decay_factor = constants
        if not segment.decay:
            decay_factor = 1.0
        grad_sum, square_sum = segment.state["decayed_grad_sum"], segment.state["decayed_square_sum"]
        if self.use_fused_kernel and xp.__name__ == "cupy":
            scalar = segment.value.dtype.type
            _cupy_adam_kernel()(grad, scalar(beta_1), scalar(beta_2), scalar(step_size), scalar(epsilon_hat),
                                scalar(decay_factor), segment.value, grad_sum, square_sum)
            return
        if decay_factor != 1.0:
            segment.value *= decay_factor
        adam_update(xp, segment.value, grad, grad_sum, square_sum, segment.scratch[1], beta_1, beta_2, step_size,
                    epsilon_hat)


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.01, as PyTorch) on parameters with ``regularize=True``."""

    name = "AdamW"
    decoupled_weight_decay = True

    def __init__(self, params, lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.01, clipnorm=None,
                 clipvalue=None):
        super().__init__(params, lr, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue)
