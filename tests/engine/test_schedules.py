"""Schedules at chosen steps against their closed forms, as Keras documents them."""

import math

import pytest

from engine import schedules


def values(schedule, steps):
    return [schedule(step) for step in steps]


def test_constant_from_a_number():
    schedule = schedules.get(0.01)
    assert isinstance(schedule, schedules.Constant)
    assert values(schedule, [0, 10, 10**6]) == [0.01, 0.01, 0.01]
    assert schedule.get_config() == {"name": "constant", "learning_rate": 0.01}


def test_step_decay_multiplies_by_factor_every_step_size():
    schedule = schedules.get({"name": "step", "initial_learning_rate": 0.1, "step_size": 10, "factor": 0.5})
    assert values(schedule, [0, 9, 10, 19, 20, 35]) == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.0125])


@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_decay(staircase):
    # Keras: initial_learning_rate * decay_rate ^ (step / decay_steps), the exponent floored with staircase
    schedule = schedules.get({"name": "exponential", "initial_learning_rate": 0.01, "decay_steps": 1000,
                              "decay_rate": 0.96, "staircase": staircase})
    for step in (0, 1, 500, 1000, 1500, 10_000):
        exponent = step // 1000 if staircase else step / 1000
        assert schedule(step) == pytest.approx(0.01 * 0.96**exponent, rel=1e-12)
    assert schedule(1000) == pytest.approx(0.0096)


@pytest.mark.parametrize("staircase", [False, True])
def test_inverse_time_decay(staircase):
    # Keras: initial_learning_rate / (1 + decay_rate * step / decay_steps), the ratio floored with staircase
    schedule = schedules.get({"name": "inverse_time", "initial_learning_rate": 0.1, "decay_steps": 1.0,
                              "decay_rate": 0.5, "staircase": staircase})
    assert values(schedule, [0, 1, 2, 4]) == pytest.approx([0.1, 0.1 / 1.5, 0.05, 0.1 / 3])
    half_steps = schedules.InverseTimeDecay(0.1, 2, 0.5, staircase=staircase)
    assert half_steps(3) == pytest.approx(0.1 / (1 + 0.5 * (1 if staircase else 1.5)))


def test_cosine_decay_to_alpha_times_the_rate():
    schedule = schedules.get({"name": "cosine", "initial_learning_rate": 0.1, "decay_steps": 100, "alpha": 0.1})

    def keras(step):  # keras.optimizers.schedules.CosineDecay's documented decayed_learning_rate
        step = min(step, 100)
        cosine_decay = 0.5 * (1 + math.cos(math.pi * step / 100))
        return 0.1 * ((1 - 0.1) * cosine_decay + 0.1)

    for step in (0, 1, 25, 50, 99, 100, 1000):
        assert schedule(step) == pytest.approx(keras(step), rel=1e-12)
    assert schedule(50) == pytest.approx(0.1 * (0.9 * 0.5 + 0.1))
    assert schedule(10**6) == pytest.approx(0.01)


def test_cosine_decay_with_warmup():
    schedule = schedules.CosineDecay(0.0, decay_steps=100, warmup_target=0.1, warmup_steps=10)
    assert values(schedule, [0, 5, 10]) == pytest.approx([0.0, 0.05, 0.1])  # linear climb to the target
    assert schedule(60) == pytest.approx(0.05)  # halfway down the cosine
    assert schedule(110) == pytest.approx(0.0) and schedule(500) == pytest.approx(0.0)


def test_scaled_multiplies_every_rate():
    schedule = schedules.CosineDecay(0.01, decay_steps=100, warmup_target=0.1, warmup_steps=10, alpha=0.2)
    doubled = schedule.scaled(2.0)
    for step in (0, 5, 10, 60, 200):
        assert doubled(step) == pytest.approx(2 * schedule(step))
    assert schedules.get(0.5).scaled(0.5)(7) == 0.25


@pytest.mark.parametrize("config", [
    {"name": "step", "initial_learning_rate": 0.1, "step_size": 3, "factor": 0.5},
    {"name": "exponential", "initial_learning_rate": 0.1, "decay_steps": 10.0, "decay_rate": 0.9, "staircase": True},
    {"name": "inverse_time", "initial_learning_rate": 0.1, "decay_steps": 10.0, "decay_rate": 0.5,
     "staircase": False},
    {"name": "cosine", "initial_learning_rate": 0.0, "decay_steps": 10.0, "alpha": 0.0, "warmup_target": 0.1,
     "warmup_steps": 5},
])
def test_config_round_trip(config):
    schedule = schedules.get(config)
    assert schedule.get_config() == config
    assert schedules.get(schedule.get_config())(7) == schedule(7)


@pytest.mark.parametrize(("config", "message"), [
    ({"name": "cosin", "initial_learning_rate": 0.1, "decay_steps": 10},
     "unknown learning-rate schedule 'cosin'; expected one of: constant, step, exponential, inverse_time, cosine. "
     "Did you mean 'cosine'?"),
    ({"name": "exponential", "initial_learning_rate": 0.1, "decay_steps": 10},
     "schedule 'exponential': missing argument"),
    ({"name": "exponential", "initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.9, "gamma": 2},
     "unexpected argument"),
    ({"name": "exponential", "initial_learning_rate": 0.1, "decay_steps": 0, "decay_rate": 0.9},
     "exponential: decay_steps must be > 0. Received: decay_steps=0"),
    ({"name": "step", "initial_learning_rate": 0.1, "step_size": 2.5},
     "step: step_size must be a positive integer. Received: step_size=2.5"),
    ({"name": "cosine", "initial_learning_rate": 0.1, "decay_steps": 10, "warmup_steps": 5},
     "warmup_steps needs warmup_target"),
    ({"name": "cosine", "initial_learning_rate": 0.1, "decay_steps": 10, "alpha": 2},
     "alpha .* must be in"),
    (-0.1, "constant: learning_rate must be > 0. Received: learning_rate=-0.1"),
    ("fast", "a learning rate must be a positive number or a schedule config"),
])
def test_bad_configs_say_what_was_expected(config, message):
    with pytest.raises(ValueError, match=message):
        schedules.get(config)
