"""Initializers: statistics on large shapes, Keras's formulas, seeding, fans and config errors."""

import math

import numpy as np
import pytest

from engine import initializers

DENSE = (400, 300)  # fan_in 400, fan_out 300: 120,000 draws, so stddevs are good to about 0.5%
CONV = (64, 32, 3, 3)  # fan_in 288, fan_out 576


def draw(config, shape=DENSE, kind="dense", seed=0, dtype=np.float64):
    fan_in, fan_out = initializers.compute_fans(shape, kind)
    return initializers.get(config)(shape, fan_in, fan_out, np.random.default_rng(seed), dtype)


@pytest.mark.parametrize(("name", "limit"), [
    ("glorot_uniform", math.sqrt(6 / (400 + 300))),
    ("he_uniform", math.sqrt(6 / 400)),
    ("lecun_uniform", math.sqrt(3 / 400)),
])
def test_uniform_variance_scaling(name, limit):
    values = draw(name)
    assert values.shape == DENSE and np.abs(values).max() <= limit
    assert np.abs(values).max() > 0.99 * limit
    assert values.std() == pytest.approx(limit / math.sqrt(3), rel=0.02)
    assert abs(values.mean()) < 0.01 * limit


@pytest.mark.parametrize(("name", "stddev"), [
    ("glorot_normal", math.sqrt(2 / (288 + 576))),
    ("he_normal", math.sqrt(2 / 288)),
    ("lecun_normal", math.sqrt(1 / 288)),
])
def test_normal_variance_scaling_is_truncated_and_keeps_the_variance(name, stddev):
    values = draw(name, CONV, "conv")
    # Keras draws from a normal truncated at 2 sigma whose sigma is stddev / 0.8796, so the std stays right
    assert values.std() == pytest.approx(stddev, rel=0.02)
    assert np.abs(values).max() <= 2 * stddev / 0.87962566103423978


def test_truncated_normal_stays_within_two_stddev():
    values = draw({"name": "truncated_normal", "mean": 1.0, "stddev": 0.1})
    assert values.min() >= 0.8 and values.max() <= 1.2
    assert values.min() < 0.81 and values.max() > 1.19  # resampled, not clipped onto the bounds
    assert values.mean() == pytest.approx(1.0, abs=0.002)
    assert values.std() == pytest.approx(0.1 * 0.87962566103423978, rel=0.02)
    assert draw("truncated_normal").std() == pytest.approx(0.05 * 0.8796, rel=0.02)  # Keras's default stddev


def test_random_normal_and_uniform():
    normal = draw({"name": "random_normal", "mean": -2.0, "stddev": 0.5})
    assert normal.mean() == pytest.approx(-2.0, abs=0.01) and normal.std() == pytest.approx(0.5, rel=0.02)
    uniform = draw({"name": "random_uniform", "minval": 1.0, "maxval": 3.0})
    assert uniform.min() >= 1.0 and uniform.max() < 3.0 and uniform.mean() == pytest.approx(2.0, abs=0.01)
    assert np.abs(draw("random_uniform")).max() <= 0.05


def test_constant_initializers():
    assert not draw("zeros").any()
    assert (draw("ones") == 1).all()
    bias = initializers.get({"name": "constant", "value": 0.1})((32,), 32, 32, np.random.default_rng(0), np.float32)
    assert bias.dtype == np.float32 and (bias == np.float32(0.1)).all()


def test_seeded_draws_are_reproducible_and_dtype_independent():
    a = draw("he_normal", seed=7, dtype=np.float32)
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a, draw("he_normal", seed=7, dtype=np.float32))
    assert not np.array_equal(a, draw("he_normal", seed=8, dtype=np.float32))
    # float64 networks (gradient checks) start from the same weights as float32 ones, rounded
    np.testing.assert_array_equal(a, draw("he_normal", seed=7, dtype=np.float64).astype(np.float32))


def test_compute_fans():
    assert initializers.compute_fans((784, 128), "dense") == (784, 128)
    assert initializers.compute_fans((32, 1, 5, 5), "conv") == (25, 800)
    with pytest.raises(ValueError, match=r"a dense kernel is \(in, out\). Received: shape=\(3, 3, 3\)"):
        initializers.compute_fans((3, 3, 3), "dense")
    with pytest.raises(ValueError, match="kind must be 'dense' or 'conv'. Received: kind='rnn'"):
        initializers.compute_fans((3, 3), "rnn")


def test_names_configs_and_round_trip():
    assert isinstance(initializers.get("GlorotUniform"), initializers.GlorotUniform)  # Keras class names too
    config = {"name": "truncated_normal", "mean": 0.0, "stddev": 0.1}
    assert initializers.get(config).get_config() == config
    assert initializers.get("he_normal").get_config() == {"name": "he_normal"}
    scaling = {"name": "variance_scaling", "scale": 2.0, "mode": "fan_out", "distribution": "uniform"}
    assert initializers.get(scaling).get_config() == scaling
    assert set(initializers.INITIALIZERS) >= {"zeros", "ones", "constant", "glorot_uniform", "glorot_normal",
                                              "he_uniform", "he_normal", "lecun_normal", "truncated_normal",
                                              "random_normal", "random_uniform"}


@pytest.mark.parametrize(("config", "message"), [
    ("glorot_unifrom", "unknown initializer 'glorot_unifrom'; expected one of: zeros, ones, constant, .*"
                       "Did you mean 'glorot_uniform'\\?"),
    ({"name": "truncated_normal", "stddev": -1}, "truncated_normal: stddev must be > 0. Received: stddev=-1"),
    ({"name": "truncated_normal", "std": 0.1}, "unexpected argument.* std; expected: mean, stddev"),
    ({"name": "he_normal", "scale": 3}, "expected: no arguments"),
    ({"name": "random_uniform", "minval": 1, "maxval": 0}, "minval must be less than maxval"),
    ({"name": "constant", "value": "a"}, "constant: value must be a finite number. Received: value='a'"),
    ({"name": "variance_scaling", "mode": "fan_mid"}, "mode must be one of fan_in, fan_out, fan_avg"),
    ({"stddev": 0.1}, "an initializer config must be a name"),
    (3, "an initializer config must be a name"),
    # issue 19: values that are inf in float32, or too big to be a float at all, or absurd as a start
    ({"name": "constant", "value": 1e308}, "constant: value must be between -1e\\+06 and 1e\\+06: larger starting "
                                           "weights overflow in the first pass. Received: value=1e\\+308"),
    ({"name": "constant", "value": 10**400}, "value must be a finite number. Received: value=an integer of about "
                                             "401 digits"),
    ({"name": "constant", "value": -2e6}, "value must be between -1e\\+06 and 1e\\+06"),
    ({"name": "random_normal", "mean": 1e39}, "mean must be between"),
    ({"name": "truncated_normal", "stddev": 1e7}, "stddev must be between"),
    ({"name": "random_uniform", "minval": -1e300, "maxval": 1e300}, "minval must be between"),
    ({"name": "variance_scaling", "scale": 1e30}, "scale must be between"),
    ({"name": "constant", "value": True}, "value must be a finite number. Received: value=True"),
    ({"name": "variance_scaling", "mode": ["fan_in"]}, "mode must be one of"),
])
def test_bad_configs_say_what_was_expected(config, message):
    with pytest.raises(ValueError, match=message):
        initializers.get(config)


def test_the_largest_accepted_values_are_finite_in_float32():
    values = draw({"name": "constant", "value": -1e6}, dtype=np.float32)  # the limit itself
    assert np.isfinite(values).all() and values[0, 0] == -1e6
    assert np.isfinite(draw({"name": "random_normal", "mean": 1e6, "stddev": 1e6}, dtype=np.float32)).all()


def test_config_errors_name_the_node_and_field_in_a_spec():
    import engine

    dense = {"id": "fc", "type": "Dense", "units": 2, "bias_initializer": {"name": "constant", "value": 1e308}}
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [4]}, dense]}
    with pytest.raises(engine.SpecError) as caught:
        engine.infer_shapes(spec)
    assert caught.value.node == "fc"
    assert str(caught.value).startswith("fc: bias_initializer: constant: value must be between -1e+06 and 1e+06")
