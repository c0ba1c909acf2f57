"""Toy 2-D classification sets, generated as in TensorFlow Playground, for decision-boundary views; and one
regression set, "sine", for networks that output values (trained with mean_squared_error).

    data = make_toy("spiral", n=400, noise=0.1, seed=0)
    data.points      # float32 (400, 2), roughly within [-6, 6]
    data.labels      # int64 (400,), 0 or 1 (Playground's -1 / +1)

    data = make_toy("sine", n=400, noise=0.1, seed=0)
    data.points      # float32 (400, 1), x in [-3, 3]
    data.labels      # float32 (400, 1), sin(x) plus noise; data.num_classes == 0, data.target_width == 1

``noise`` follows Playground's slider: 0 (clean) to 0.5 (very noisy). Points come shuffled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.datasets.errors import DatasetError


@dataclass(frozen=True)
class ToyData:
    name: str
    points: np.ndarray  # float32 (N, 2); (N, 1) for "sine"
    labels: np.ndarray  # int64 (N,) classes; float32 (N, 1) target values for "sine"
    class_names: tuple[str, ...]  # empty for a regression set

    @property
    def num_classes(self) -> int:
        """How many classes; 0 for a regression set, whose labels are values."""
        return len(self.class_names)

    @property
    def target_width(self) -> int | None:
        """How many target values each example has (a regression set); None for classes."""
        return int(self.labels.shape[1]) if self.labels.ndim == 2 else None


def spiral(n: int = 200, noise: float = 0.0, seed: int = 0, classes: int = 2) -> ToyData:
    """Interleaved spiral arms, one per class, each turning 1.75 times out to radius 5."""
    rng = _check(n, noise, seed)
    parts = []
    for label, count in enumerate(_per_class(n, classes)):
        i = np.arange(count) / max(count, 1)
        radius = i * 5
        turn = 1.75 * i * 2 * np.pi + 2 * np.pi * label / classes
        xy = np.stack([radius * np.sin(turn), radius * np.cos(turn)], axis=1)
        parts.append((xy + rng.uniform(-1, 1, size=(count, 2)) * noise, label))
    return _finish("spiral", parts, rng, tuple(f"arm {k}" for k in range(classes)))


def xor(n: int = 200, noise: float = 0.0, seed: int = 0) -> ToyData:
    """Points in [-5, 5]^2 (kept 0.3 off the axes); class 1 where x*y >= 0 after noise."""
    rng = _check(n, noise, seed)
    xy = rng.uniform(-5, 5, size=(n, 2))
    xy += np.where(xy > 0, 0.3, -0.3)
    noisy = xy + rng.uniform(-5, 5, size=(n, 2)) * noise
    labels = (noisy[:, 0] * noisy[:, 1] >= 0).astype(np.int64)
    return _shuffled("xor", xy, labels, rng, ("negative", "positive"))


def circles(n: int = 200, noise: float = 0.0, seed: int = 0) -> ToyData:
    """A disc (radius < 2.5) inside a ring (3.5 to 5); labels by distance after noise, as in Playground."""
    rng = _check(n, noise, seed)
    radius = 5.0
    inner = n // 2
    outer = n - inner
    r = np.concatenate([rng.uniform(0, radius * 0.5, inner), rng.uniform(radius * 0.7, radius, outer)])
    angle = rng.uniform(0, 2 * np.pi, inner + outer)
    xy = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
    noisy = xy + rng.uniform(-radius, radius, size=xy.shape) * noise
    labels = (np.hypot(noisy[:, 0], noisy[:, 1]) < radius * 0.5).astype(np.int64)  # 1 = inside
    return _shuffled("circles", xy, labels, rng, ("outside", "inside"))


def gaussian_clusters(n: int = 200, noise: float = 0.0, seed: int = 0, classes: int = 2) -> ToyData:
    """Gaussian blobs; two classes sit at (2, 2) and (-2, -2) as in Playground, more on a circle of radius 3.

    The variance grows with noise from 0.5 (noise 0) to 4 (noise 0.5), as in Playground.
    """
    rng = _check(n, noise, seed)
    variance = 0.5 + 3.5 * min(noise, 0.5) / 0.5
    if classes == 2:
        centres = np.array([[-2.0, -2.0], [2.0, 2.0]])
    else:
        angle = 2 * np.pi * np.arange(classes) / classes
        centres = 3 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    parts = [(rng.normal(centres[k], np.sqrt(variance), size=(count, 2)), k)
             for k, count in enumerate(_per_class(n, classes))]
    return _finish("gaussian", parts, rng, tuple(f"cluster {k}" for k in range(classes)))


def sine(n: int = 200, noise: float = 0.0, seed: int = 0) -> ToyData:
    """Regression: x uniform in [-3, 3] (one feature), target sin(x) plus Gaussian noise of standard deviation
    ``noise``; labels float32 (N, 1). No classes."""
    rng = _check(n, noise, seed)
    x = rng.uniform(-3, 3, size=(n, 1))
    y = np.sin(x) + rng.normal(0.0, 1.0, size=(n, 1)) * noise
    return ToyData("sine", x.astype(np.float32), y.astype(np.float32), ())


TOY_DATASETS = {"spiral": spiral, "xor": xor, "circles": circles, "gaussian": gaussian_clusters, "sine": sine}
# The toy sets whose labels are values, not classes (trained with mean_squared_error).
REGRESSION_TOY_DATASETS = ("sine",)


def make_toy(name: str, n: int = 200, noise: float = 0.0, seed: int = 0, **options) -> ToyData:
    """Generate the toy set called ``name`` (one of TOY_DATASETS)."""
    if name not in TOY_DATASETS:
        raise DatasetError(f"unknown toy dataset {name!r}; expected one of {', '.join(TOY_DATASETS)}")
    return TOY_DATASETS[name](n, noise, seed, **options)


def _check(n, noise, seed) -> np.random.Generator:
    if int(n) != n or n < 2:
        raise DatasetError(f"toy dataset: expected a whole number of points n >= 2; received n={n}")
    if not 0 <= noise <= 1:
        raise DatasetError(f"toy dataset: expected 0 <= noise <= 1 (Playground uses up to 0.5); received noise={noise}")
    return np.random.default_rng(seed)


def _per_class(n: int, classes: int) -> list[int]:
    if int(classes) != classes or not 2 <= classes <= n:
        raise DatasetError(f"toy dataset: expected 2 <= classes <= n; received classes={classes}")
    return [n // classes + (1 if k < n % classes else 0) for k in range(classes)]


def _finish(name, parts, rng, class_names) -> ToyData:
    xy = np.concatenate([points for points, _ in parts])
    labels = np.concatenate([np.full(len(points), label, dtype=np.int64) for points, label in parts])
    return _shuffled(name, xy, labels, rng, class_names)


def _shuffled(name, xy, labels, rng, class_names) -> ToyData:
    order = rng.permutation(len(labels))
    return ToyData(name, xy[order].astype(np.float32), labels[order], class_names)
