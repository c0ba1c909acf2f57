"""The generated colour set: nine classes of shape x colour, deterministic, and colour invisible in grey."""

from __future__ import annotations

import numpy as np
import pytest

from engine.datasets import DatasetError
from engine.datasets.colour_shapes import COLOUR_SHAPES_CLASSES, make_colour_shapes


@pytest.fixture(scope="module")
def shapes():
    return make_colour_shapes(1800, 450, seed=3)


def test_classes_are_colour_then_shape():
    assert COLOUR_SHAPES_CLASSES == ("red circle", "red square", "red triangle", "green circle", "green square",
                                     "green triangle", "blue circle", "blue square", "blue triangle")


def test_arrays_have_the_promised_shapes_types_and_balanced_labels(shapes):
    train_x, train_y, test_x, test_y = shapes
    assert train_x.shape == (1800, 3, 32, 32) and test_x.shape == (450, 3, 32, 32)
    assert train_x.dtype == test_x.dtype == np.uint8
    assert train_y.dtype == test_y.dtype == np.int64
    assert np.bincount(train_y).tolist() == [200] * 9 and np.bincount(test_y).tolist() == [50] * 9
    assert train_y[:9].tolist() != list(range(9))  # shuffled, not in class order


def test_the_same_seed_gives_the_same_set_and_another_seed_another(shapes):
    again = make_colour_shapes(1800, 450, seed=3)
    for mine, theirs in zip(shapes, again, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert not np.array_equal(make_colour_shapes(1800, 0, seed=4)[0], shapes[0])


def test_the_test_set_does_not_depend_on_the_train_size(shapes):
    _, _, test_x, test_y = make_colour_shapes(10, 450, seed=3)
    np.testing.assert_array_equal(test_x, shapes[2])
    np.testing.assert_array_equal(test_y, shapes[3])


def _shape_pixels(images):
    """Each image's brightest tenth of pixels (the shape: the background is always darker), as (N, 3)."""
    grey = images.astype(np.float32).mean(axis=1).reshape(len(images), -1)
    colour = images.astype(np.float32).reshape(len(images), 3, -1)
    top = np.argsort(grey, axis=1)[:, -40:]
    return np.take_along_axis(colour, top[:, None, :], axis=2).mean(axis=2)


def test_the_shape_has_its_classes_colour(shapes):
    train_x, train_y = shapes[0], shapes[1]
    dominant = _shape_pixels(train_x).argmax(axis=1)
    np.testing.assert_array_equal(dominant, train_y // 3)  # red, green, blue: channels 0, 1, 2


def test_a_grey_view_cannot_tell_the_colours_apart(shapes):
    """The shape's grey level (mean of its channels) is no guide to its colour: near chance from it alone."""
    train_x, train_y, test_x, test_y = shapes
    colour_train, colour_test = train_y // 3, test_y // 3
    grey_train, grey_test = _shape_pixels(train_x).mean(axis=1), _shape_pixels(test_x).mean(axis=1)
    class_means = np.array([grey_train[colour_train == c].mean() for c in range(3)])
    assert np.ptp(class_means) < 0.03 * 255  # the three colours' mean grey levels within 3% of full scale
    # The best a one-number classifier can do: nearest of the three mean grey levels.
    guess = np.abs(grey_test[:, None] - class_means[None, :]).argmin(axis=1)
    assert (guess == colour_test).mean() < 0.45  # chance is 1/3
    # ...while the colour itself gives the colour every time.
    assert (_shape_pixels(test_x).argmax(axis=1) == colour_test).all()


def test_backgrounds_are_grey_with_mild_noise_and_vary(shapes):
    corners = shapes[0][:, :, :3, :3].astype(np.float32).reshape(len(shapes[0]), 3, -1)
    assert np.abs(corners.mean(axis=2)[:, 0] - corners.mean(axis=2)[:, 2]).max() < 12  # grey: channels agree
    levels = corners.mean(axis=(1, 2))
    assert levels.min() < 30 and levels.max() > 75  # dark to mid grey
    assert 2 < corners.std(axis=2).mean() < 15  # noise, but mild


def test_shapes_vary_in_size_and_place(shapes):
    train_x = shapes[0].astype(np.float32)
    background = train_x[:, :, :2, :2].mean(axis=(1, 2, 3))
    inside = train_x.mean(axis=1) > background[:, None, None] + 40
    area = inside.sum(axis=(1, 2))
    assert area.min() < 70 and area.max() > 170
    rows = np.argmax(inside.any(axis=2), axis=1)
    assert rows.min() <= 5 and rows.max() >= 12


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"num_train": -1}, "expected num_train between 0 and 1,000,000; received -1"),
    ({"num_test": 2.5}, "expected num_test between 0 and 1,000,000; received 2.5"),
    ({"seed": -3}, "expected a seed >= 0; received -3"),
])
def test_bad_arguments_are_refused_in_words(kwargs, message):
    with pytest.raises(DatasetError, match=f"colour shapes: {message}"):
        make_colour_shapes(**kwargs)
