"""Toy 2-D sets: shapes, dtypes, labels, seeds, and the geometry that defines each one."""

import numpy as np
import pytest

from engine.datasets import (
    REGRESSION_TOY_DATASETS,
    TOY_DATASETS,
    DatasetError,
    circles,
    gaussian_clusters,
    make_toy,
    spiral,
    xor,
)

CLASS_TOY_DATASETS = sorted(set(TOY_DATASETS) - set(REGRESSION_TOY_DATASETS))


@pytest.mark.parametrize("name", CLASS_TOY_DATASETS)
@pytest.mark.parametrize("n", [2, 101, 400])
def test_every_toy_set_of_classes_has_n_float32_points_and_binary_labels(name, n):
    data = make_toy(name, n=n, noise=0.2, seed=3)
    assert data.points.shape == (n, 2) and data.points.dtype == np.float32
    assert data.labels.shape == (n,) and data.labels.dtype == np.int64
    assert set(np.unique(data.labels)) <= {0, 1} and data.num_classes == 2
    assert np.isfinite(data.points).all() and np.abs(data.points).max() < 20


@pytest.mark.parametrize("n", [2, 101, 400])
def test_the_regression_toy_set_has_n_points_of_one_feature_and_one_float_target(n):
    data = make_toy("sine", n=n, noise=0.2, seed=3)
    assert data.points.shape == (n, 1) and data.points.dtype == np.float32
    assert data.labels.shape == (n, 1) and data.labels.dtype == np.float32
    assert np.isfinite(data.points).all() and np.isfinite(data.labels).all()


@pytest.mark.parametrize("name", sorted(TOY_DATASETS))
def test_the_seed_decides_everything(name):
    a, b, c = make_toy(name, 200, 0.1, seed=1), make_toy(name, 200, 0.1, seed=1), make_toy(name, 200, 0.1, seed=2)
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert not np.array_equal(a.points, c.points)


def test_clean_sets_follow_their_rules():
    points, labels = xor(500, noise=0.0, seed=0).points, xor(500, noise=0.0, seed=0).labels
    np.testing.assert_array_equal(labels, (points[:, 0] * points[:, 1] >= 0).astype(np.int64))
    assert np.abs(points).min() >= 0.3  # kept off the axes

    ring = circles(500, noise=0.0, seed=0)
    radius = np.hypot(ring.points[:, 0], ring.points[:, 1])
    assert (radius[ring.labels == 1] < 2.5).all() and (radius[ring.labels == 0] >= 3.5).all()
    assert np.bincount(ring.labels).tolist() == [250, 250]

    arms = spiral(300, noise=0.0, seed=0, classes=3)
    assert np.bincount(arms.labels).tolist() == [100, 100, 100] and arms.num_classes == 3
    assert np.hypot(arms.points[:, 0], arms.points[:, 1]).max() <= 5.0


def test_gaussian_clusters_sit_at_playground_centres_and_spread_with_noise():
    tight = gaussian_clusters(2000, noise=0.0, seed=0)
    for label, centre in ((1, [2, 2]), (0, [-2, -2])):
        np.testing.assert_allclose(tight.points[tight.labels == label].mean(axis=0), centre, atol=0.1)
    loose = gaussian_clusters(2000, noise=0.5, seed=0)
    assert loose.points.std() > tight.points.std()
    assert gaussian_clusters(90, seed=0, classes=3).num_classes == 3


def test_bad_parameters_are_named():
    with pytest.raises(DatasetError, match="unknown toy dataset 'moons'; expected one of spiral"):
        make_toy("moons")
    with pytest.raises(DatasetError, match="received noise=2"):
        spiral(noise=2)
    with pytest.raises(DatasetError, match="received n=1"):
        xor(n=1)
