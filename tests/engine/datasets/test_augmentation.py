"""Augmentation's flips and noise, its config (what projects and model files record) and exact resume with them."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import engine
from engine.datasets import Augmentation, BatchIterator, DatasetError
from engine.training import Trainer, TrainingConfig, TrainingData
from tests.engine.specs import mlp


def _images(n=64, channels=3, size=8, seed=0):
    """Images in which no row and no column is a mirror of itself, so a flip always shows."""
    return np.random.default_rng(seed).uniform(size=(n, channels, size, size)).astype(np.float32)


def test_horizontal_flip_mirrors_about_half_the_images_left_to_right_exactly():
    x = _images(200)
    out = Augmentation(max_shift=0, max_rotation=0, flip_horizontal=True)(x, np.random.default_rng(5))
    same = np.array([np.array_equal(o, i) for o, i in zip(out, x, strict=True)])
    mirrored = np.array([np.array_equal(o, i[:, :, ::-1]) for o, i in zip(out, x, strict=True)])
    assert (same ^ mirrored).all()  # every image is exactly itself or exactly its mirror
    assert 70 < mirrored.sum() < 130
    np.testing.assert_array_equal(out, Augmentation(0, 0, flip_horizontal=True)(x, np.random.default_rng(5)))


def test_vertical_flip_mirrors_about_half_the_images_upside_down_exactly():
    x = _images(200)
    out = Augmentation(max_shift=0, max_rotation=0, flip_vertical=True)(x, np.random.default_rng(6))
    same = np.array([np.array_equal(o, i) for o, i in zip(out, x, strict=True)])
    flipped = np.array([np.array_equal(o, i[:, ::-1, :]) for o, i in zip(out, x, strict=True)])
    assert (same ^ flipped).all()
    assert 70 < flipped.sum() < 130


def test_both_flips_give_all_four_orientations():
    x = _images(200)
    out = Augmentation(0, 0, flip_horizontal=True, flip_vertical=True)(x, np.random.default_rng(7))
    kinds = []
    for o, i in zip(out, x, strict=True):
        options = [i, i[:, :, ::-1], i[:, ::-1, :], i[:, ::-1, ::-1]]
        (kind,) = [k for k, option in enumerate(options) if np.array_equal(o, option)]
        kinds.append(kind)
    assert sorted(set(kinds)) == [0, 1, 2, 3]


def test_nothing_switched_on_gives_a_copy_of_the_input():
    x = _images(4)
    augment = Augmentation.from_config({})
    assert augment.is_identity
    out = augment(x, np.random.default_rng(0))
    np.testing.assert_array_equal(out, x)
    assert out is not x and not np.shares_memory(out, x)


def test_noise_has_the_asked_standard_deviation():
    x = np.full((256, 3, 16, 16), 0.5, np.float32)
    out = Augmentation(0, 0, noise=0.1)(x, np.random.default_rng(1))
    noise = out - x
    assert abs(noise.std() - 0.1) < 0.002 and abs(noise.mean()) < 0.002
    assert out.dtype == np.float32


def test_flips_and_noise_come_after_the_same_shifts_and_rotations_as_before():
    """The geometric part draws first and the same, whatever else is on: old runs resume the same."""
    x = _images(128, channels=1, size=28)
    geometric = Augmentation(max_shift=2, max_rotation=10)(x, np.random.default_rng(3))
    noisy = Augmentation(max_shift=2, max_rotation=10, noise=0.05)(x, np.random.default_rng(3))
    assert abs((noisy - geometric).std() - 0.05) < 0.002
    flipped = Augmentation(max_shift=2, max_rotation=10, flip_horizontal=True)(x, np.random.default_rng(3))
    for f, g in zip(flipped, geometric, strict=True):
        assert np.array_equal(f, g) or np.array_equal(f, g[:, :, ::-1])


@pytest.mark.parametrize("config", [
    {"shift": 2, "rotation": 10.0, "flip_horizontal": False, "flip_vertical": False, "noise": 0.0},
    {"shift": 0, "rotation": 0.0, "flip_horizontal": True, "flip_vertical": True, "noise": 0.25},
    {"shift": 64, "rotation": 180.0, "flip_horizontal": False, "flip_vertical": True, "noise": 1.0},
])
def test_config_round_trips(config):
    augment = Augmentation.from_config(config)
    assert augment.get_config() == config
    assert Augmentation.from_config(json.loads(json.dumps(augment.get_config()))) == augment


def test_a_missing_key_is_off():
    assert Augmentation.from_config({"noise": 0.1}).get_config() == {
        "shift": 0, "rotation": 0.0, "flip_horizontal": False, "flip_vertical": False, "noise": 0.1}
    assert Augmentation.from_config({"rotation": 5}).max_rotation == 5.0


@pytest.mark.parametrize(("config", "message"), [
    ({"shift": -1}, "augment: shift must be a whole number of pixels from 0 to 64; received shift=-1"),
    ({"shift": 2.5}, "augment: shift must be a whole number of pixels from 0 to 64; received shift=2.5"),
    ({"shift": True}, "augment: shift must be a whole number of pixels from 0 to 64; received shift=True"),
    ({"shift": 65}, "augment: shift must be a whole number of pixels from 0 to 64; received shift=65"),
    ({"rotation": 200}, "augment: rotation must be a number of degrees from 0 to 180; received rotation=200"),
    ({"rotation": "10"}, "augment: rotation must be a number of degrees from 0 to 180; received rotation='10'"),
    ({"flip_horizontal": 1}, "augment: flip_horizontal must be true or false; received flip_horizontal=1"),
    ({"flip_vertical": "yes"}, "augment: flip_vertical must be true or false; received flip_vertical='yes'"),
    ({"noise": 1.5}, "augment: noise must be a number from 0 to 1; received noise=1.5"),
    ({"noise": math.nan}, "augment: noise must be a number from 0 to 1; received noise=nan"),
    ({"noise": -0.1}, "augment: noise must be a number from 0 to 1; received noise=-0.1"),
    ({"blur": 1}, "augment: unknown setting 'blur'; expected any of shift, rotation, flip_horizontal, flip_vertical"),
])
def test_bad_configs_are_refused_naming_the_key(config, message):
    with pytest.raises(DatasetError, match=f"^{message}") as caught:
        Augmentation.from_config(config)
    assert "Error" not in str(caught.value)
    with pytest.raises(ValueError, match=f"^{message}"):
        TrainingConfig(augment=config)


def test_training_config_augment_true_keeps_its_old_meaning_and_false_is_none():
    assert TrainingConfig(augment=True).augmentation() == Augmentation(max_shift=2, max_rotation=10.0)
    assert TrainingConfig().augmentation() is None and TrainingConfig(augment=False).augmentation() is None
    # What older projects and model files hold still loads, and writes back as it was.
    old = TrainingConfig(epochs=3).to_dict() | {"augment": True}
    assert TrainingConfig.from_dict(old).to_dict()["augment"] is True


def test_training_config_keeps_a_whole_augment_dict_and_round_trips():
    config = TrainingConfig(augment={"flip_horizontal": True, "noise": 0.05})
    assert config.augment == {"shift": 0, "rotation": 0.0, "flip_horizontal": True, "flip_vertical": False,
                              "noise": 0.05}
    assert config.augmentation() == Augmentation(0, 0.0, flip_horizontal=True, noise=0.05)
    again = TrainingConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config and again.augmentation() == config.augmentation()
    assert TrainingConfig(augment={"shift": 0, "noise": 0}).augment is False  # nothing on: off


def test_training_config_refuses_other_types():
    with pytest.raises(DatasetError, match="augment: expected an object with any of shift, rotation"):
        Augmentation.from_config([1, 2])
    with pytest.raises(ValueError, match="augment must be true, false or an object of augmentation settings; "
                                         "received augment='yes'"):
        TrainingConfig(augment="yes")


@pytest.mark.parametrize("stop_after", [3, 10, 14])
def test_batches_resume_exactly_with_flips_and_noise(stop_after):
    x, y = _images(100, channels=1, size=12), np.arange(100) % 10
    augment = Augmentation(max_shift=1, max_rotation=5, flip_horizontal=True, flip_vertical=True, noise=0.1)
    straight = BatchIterator(x, y, 10, seed=4, augment=augment)
    reference = [straight.next_batch() for _ in range(20)]
    interrupted = BatchIterator(x, y, 10, seed=4, augment=augment)
    for _ in range(stop_after):
        interrupted.next_batch()
    resumed = BatchIterator.from_state(x, y, json.loads(json.dumps(interrupted.state())), augment=augment)
    for (xa, ya), (xb, yb) in zip(reference[stop_after:], [resumed.next_batch() for _ in range(20 - stop_after)],
                                  strict=True):
        np.testing.assert_array_equal(ya, yb)
        np.testing.assert_array_equal(xa, xb)


@pytest.fixture(scope="module")
def small_mnist():
    splits = engine.datasets.prepare(engine.datasets.load("mnist"))
    return TrainingData(splits.train_images[:600], splits.train_labels[:600], splits.val_images[:200],
                        splits.val_labels[:200], "mnist")


def test_a_run_with_flips_and_noise_resumes_from_its_checkpoint_exactly(small_mnist, tmp_path):
    augment = {"shift": 1, "rotation": 5.0, "flip_horizontal": True, "flip_vertical": True, "noise": 0.1}
    config = TrainingConfig(epochs=2, batch_size=64, seed=3, augment=augment)
    straight = engine.build(mlp(hidden=16), seed=1)
    Trainer(straight, small_mnist, config).run()

    first_half = engine.build(mlp(hidden=16), seed=1)
    interrupted = Trainer(first_half, small_mnist, TrainingConfig(**{**config.to_dict(), "max_steps": 7}))
    assert interrupted.run().reason == "max_steps"
    interrupted.save_checkpoint(tmp_path / "half.llmodel")
    resumed = Trainer.from_checkpoint(tmp_path / "half.llmodel", small_mnist, config_overrides={"max_steps": None})
    assert resumed.config.augment == augment  # kept in the model file's training settings
    assert resumed.run().reason == "completed"
    for name, value in straight.state_dict().items():
        np.testing.assert_array_equal(resumed.network.state_dict()[name], value, err_msg=name)

    # ...and the trainer did use it: without augmentation the same run ends elsewhere.
    plain = engine.build(mlp(hidden=16), seed=1)
    Trainer(plain, small_mnist, TrainingConfig(**{**config.to_dict(), "augment": False})).run()
    assert not np.array_equal(plain.state_dict()["hidden.kernel"], straight.state_dict()["hidden.kernel"])
