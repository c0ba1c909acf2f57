"""Fixtures shared by the export bridges' tests (ONNX export and import, PyTorch and Keras code, TensorBoard).

    def test_something(mnist_test_subset, trained_seed_cnn, dag_design):
        images, labels = mnist_test_subset          # float32 (1000, 1, 28, 28) in [0, 1], int64 (1000,)
        logits = trained_seed_cnn.predict(images)   # the bundled trained seed CNN (an engine.Network)
        outputs = dag_design.predict(random_images) # a small seeded DAG using every layer type

``dag_spec()`` gives that DAG's spec (a fresh copy each call) for tests that build their own network.
The loaded and built networks are session-wide: a test must not change their weights (copy them first).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

MNIST_SUBSET_SIZE = 1_000
DAG_SEED = 7

# A small design with branches and a merge of each kind, touching every layer type of the catalog:
#   input -> conv_a (same, relu) ----+-> sum (Add) -> bn -> act (tanh) --+-> join (Concatenate, channels)
#   input -> conv_b (padding 2) -----+                                   |     -> max -> avg -> flatten
#   input -> conv_c (3x1, same, elu) ------------------------------------+     -> hidden -> drop -> output
# ending in a softmax Dense, so its output is probabilities.
_DAG_SPEC = {
    "format": "layerlab-network", "version": 1, "name": "export-dag",
    "description": "A small branching design for the export tests: two convolutions added, a third joined.",
    "nodes": [
        {"id": "input", "type": "Input", "shape": [1, 28, 28]},
        {"id": "conv_a", "type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"},
        {"id": "conv_b", "type": "Conv2D", "filters": 4, "kernel_size": 5, "padding": 2, "use_bias": False},
        {"id": "sum", "type": "Add"},
        {"id": "bn", "type": "BatchNormalization"},
        {"id": "act", "type": "Activation", "activation": "tanh"},
        {"id": "conv_c", "type": "Conv2D", "filters": 3, "kernel_size": [3, 1], "padding": "same",
         "activation": "elu"},
        {"id": "join", "type": "Concatenate", "axis": 1},
        {"id": "max", "type": "MaxPooling2D", "pool_size": 3, "strides": 2, "padding": "same"},
        {"id": "avg", "type": "AveragePooling2D", "pool_size": 2, "padding": "same"},
        {"id": "flatten", "type": "Flatten"},
        {"id": "hidden", "type": "Dense", "units": 16, "activation": "gelu"},
        {"id": "drop", "type": "Dropout", "rate": 0.25},
        {"id": "output", "type": "Dense", "units": 10, "activation": "softmax"},
    ],
    "edges": [
        ["input", "conv_a"], ["input", "conv_b"], ["conv_a", "sum"], ["conv_b", "sum"], ["sum", "bn"],
        ["bn", "act"], ["input", "conv_c"], ["act", "join"], ["conv_c", "join"], ["join", "max"],
        ["max", "avg"], ["avg", "flatten"], ["flatten", "hidden"], ["hidden", "drop"], ["drop", "output"],
    ],
}


def dag_spec() -> dict:
    """The spec behind ``dag_design`` (a deep copy: change it freely)."""
    return copy.deepcopy(_DAG_SPEC)


def give_batchnorm_statistics(network, seed: int = 0) -> None:
    """Set every BatchNormalization's moving statistics (and gamma, beta) to seeded values away from the
    initial 0 / 1, so that an exporter that dropped or swapped them would be caught."""
    rng = np.random.default_rng(seed)
    state = network.state_dict()
    for name, value in state.items():
        if name.endswith(".moving_mean") or name.endswith(".beta"):
            state[name] = rng.normal(0.0, 0.5, value.shape).astype(value.dtype)
        elif name.endswith(".moving_variance") or name.endswith(".gamma"):
            state[name] = rng.uniform(0.5, 2.0, value.shape).astype(value.dtype)
    network.load_state_dict(state)


@pytest.fixture(scope="session")
def mnist_test_subset():
    """The first 1,000 MNIST test images, float32 (1000, 1, 28, 28) in [0, 1], and their int64 labels."""
    from engine import datasets

    mnist = datasets.load("mnist", download=False)  # bundled: never the network
    # to_float is what datasets.prepare applies to the test split (pixels / 255 as float32); applying it to the
    # 1,000 images alone spares converting all 70,000.
    images = np.ascontiguousarray(datasets.to_float(mnist.test_images[:MNIST_SUBSET_SIZE]), dtype=np.float32)
    labels = np.asarray(mnist.test_labels[:MNIST_SUBSET_SIZE], dtype=np.int64)
    return images, labels


@pytest.fixture(scope="session")
def trained_seed_cnn():
    """The bundled trained seed CNN (resources/models/seed-cnn-mnist.llmodel), an engine.Network."""
    import engine
    from resources import path

    return engine.load(path("models/seed-cnn-mnist.llmodel"))


@pytest.fixture(scope="session")
def dag_design():
    """A small seeded design with branches and both merges, using every layer type (engine.Network, seed 7,
    BatchNorm statistics set to seeded non-trivial values)."""
    import engine

    network = engine.build(dag_spec(), seed=DAG_SEED)
    give_batchnorm_statistics(network, seed=DAG_SEED)
    return network
