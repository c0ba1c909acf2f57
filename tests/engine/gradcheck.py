"""The one gradient-check harness: analytic gradients against central finite differences, in float64.

A network's scalar loss is sum(output * upstream) for a fixed random ``upstream``, so
d loss / d output = upstream and every parameter and input gradient can be checked.
"""

from __future__ import annotations

import numpy as np

from engine import backend, build

EPSILON = 1e-6
RTOL = 1e-5
ATOL = 1e-7


def numeric_gradient(f, array, indices, eps=EPSILON):
    """Central differences of scalar ``f()`` w.r.t. ``array`` at flat (C-order) ``indices`` (array mutated and
    restored). Indexed element by element: ``reshape(-1)`` of a parameter stored transposed (a Dense kernel)
    is a copy."""
    grads = []
    for i in indices:
        index = np.unravel_index(int(i), array.shape)
        original = array[index].item()
        array[index] = original + eps
        plus = f()
        array[index] = original - eps
        minus = f()
        array[index] = original
        grads.append((plus - minus) / (2 * eps))
    return np.array(grads)


def sample_indices(size, rng, limit=40):
    return np.arange(size) if size <= limit else rng.choice(size, limit, replace=False)


def check_network_gradients(spec, batch=2, seed=0, training=True, rng=None, inputs=None):
    """Assert that every parameter's and the input's analytic gradient matches finite differences."""
    rng = rng or np.random.default_rng(seed)
    net = build(spec, seed=seed, dtype="float64")
    xp = net.xp
    x = xp.asarray(inputs if inputs is not None else rng.standard_normal((batch,) + tuple(net.input_shape)))
    upstream = xp.asarray(rng.standard_normal((x.shape[0],) + tuple(net.output_shape)))
    buffers_before = {k: v.copy() for k, v in net.buffers().items()}

    def loss():
        # Same dropout mask and the same batch statistics on every evaluation.
        net.reseed_dropout(seed)
        for name, value in buffers_before.items():
            net.buffers()[name][...] = value
        return float((net.forward(x, training=training, keep_for_backward=True) * upstream).sum())

    loss()
    dx = net.backward(upstream, input_grad=True)
    checks = {"input": (x, dx)}
    checks.update({name: (p.value, p.grad.copy()) for name, p in net.parameters().items()})
    for name, (array, grad) in checks.items():
        indices = sample_indices(array.size, rng)
        numeric = numeric_gradient(loss, array, indices)
        analytic = backend.to_host(grad).reshape(-1)[indices]
        np.testing.assert_allclose(analytic, numeric, rtol=RTOL, atol=ATOL,
                                   err_msg=f"gradient of {name} in {spec.get('name')}")
    return net
