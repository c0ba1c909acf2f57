"""The example networks in resources/examples/: each one parses, has the shape and size it claims, and runs."""

import json

import numpy as np
import pytest

import engine
import resources

# Parameter counts worked out by hand: a conv layer has kh*kw*in*filters + filters, a dense layer in*out + out.
CONV = lambda k, cin, cout: k * k * cin * cout + cout  # noqa: E731
DENSE = lambda n_in, n_out: n_in * n_out + n_out  # noqa: E731

EXPECTED = {
    # name: (output shape, parameters)
    "softmax-regression": ((10,), DENSE(784, 10)),
    # 28 -> pool (same) 14 -> pool 7: 7*7*64 = 3136 features into fc1.
    "seed-cnn": ((10,), CONV(5, 1, 32) + CONV(5, 32, 64) + DENSE(3136, 1024) + DENSE(1024, 10)),
    # 28 -> 26 -> 24 (valid 3x3) -> pool 12: 12*12*64 = 9216 features into fc1.
    "keras-mnist-cnn": ((10,), CONV(3, 1, 32) + CONV(3, 32, 64) + DENSE(9216, 128) + DENSE(128, 10)),
    # 28 (same) -> pool 14 -> 10 (valid 5x5) -> pool 5: 5*5*16 = 400 features into c5.
    "lenet-5": ((10,), CONV(5, 1, 6) + CONV(5, 6, 16) + DENSE(400, 120) + DENSE(120, 84) + DENSE(84, 10)),
    "mlp-784-128-10": ((10,), DENSE(784, 128) + DENSE(128, 10)),
    "toy-mlp": ((2,), DENSE(2, 8) + DENSE(8, 8) + DENSE(8, 2)),
    # 32 (same 3x3) -> pool 16 -> (same) -> pool 8: 8*8*32 = 2048 features into fc1; 9 colour-shape classes.
    "colour-cnn": ((9,), CONV(3, 3, 16) + CONV(3, 16, 32) + DENSE(2048, 64) + DENSE(64, 9)),
    # 28 rows as 28 steps of 28 values; an LSTM has 4 gates of (features + units) * units + units (Keras's count).
    "lstm-mnist-rows": ((10,), 4 * ((28 + 128) * 128 + 128) + DENSE(128, 10)),
    # 784 -> 256 -> 64 -> a 2-unit code -> 64 -> 256 -> 784 sigmoid pixels, reshaped to the input's 1x28x28.
    "dense-autoencoder": ((1, 28, 28), DENSE(784, 256) + DENSE(256, 64) + DENSE(64, 2) + DENSE(2, 64)
                          + DENSE(64, 256) + DENSE(256, 784)),
    # 28 -> pool 14 -> pool 7 (8x7x7), then two stride-2 transposed convolutions back to 16x28x28 and a 3x3
    # convolution to one sigmoid channel; a transposed convolution's kernel has the count of the one it mirrors.
    "conv-autoencoder": ((1, 28, 28), CONV(3, 1, 16) + CONV(3, 16, 8) + CONV(3, 8, 8) + CONV(3, 8, 16)
                         + CONV(3, 16, 1)),
}


def read_example(name: str) -> dict:
    return json.loads(resources.examples()[name].read_text(encoding="utf-8"))


def test_the_examples_are_the_ones_expected():
    assert list(resources.examples()) == sorted(EXPECTED)


def test_hand_counts_match_the_published_figures():
    # The seed CNN's size as the tutorial reports it, and Keras's model.summary() for mnist_cnn.
    assert EXPECTED["seed-cnn"][1] == 3_274_634
    assert EXPECTED["keras-mnist-cnn"][1] == 1_199_882
    assert EXPECTED["lenet-5"][1] == 61_706


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_has_a_name_a_description_and_the_expected_shapes(name):
    spec = read_example(name)
    assert spec["format"] == engine.SPEC_FORMAT and spec["version"] == engine.SPEC_VERSION
    assert spec["name"] == name
    assert isinstance(spec["description"], str) and 20 < len(spec["description"]) < 400
    report = engine.infer_shapes(spec)
    output_shape, params = EXPECTED[name]
    assert tuple(report[report.order[-1]].output_shape) == output_shape
    assert report.total_params == params


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_builds_and_runs_a_batch_of_two(name):
    network = engine.build(read_example(name), seed=0)
    assert network.num_params == EXPECTED[name][1]
    x = np.random.default_rng(0).random((2, *network.input_shape), dtype=np.float32)
    logits = engine.backend.to_host(network.forward(x, training=False))
    assert logits.shape == (2, *EXPECTED[name][0])
    assert np.isfinite(logits).all()


def test_seed_cnn_example_matches_the_engine_tests_spec():
    from tests.engine.specs import SEED_CNN

    spec = read_example("seed-cnn")
    assert spec["nodes"] == SEED_CNN["nodes"]


def test_softmax_regression_starts_from_zeros():
    network = engine.build(read_example("softmax-regression"), seed=3)
    assert all(not engine.backend.to_host(p.value).any() for p in network.parameters().values())
