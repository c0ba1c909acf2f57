"""What the three export benchmarks (bench_onnx_export, bench_pytorch_export, bench_keras_export) share: the
bundled seed CNN and MNIST test images, timing repeats, and one way of writing a spread of times.

Each benchmark runs as a script (`python benchmarks/bench_X_export.py`), so this file is beside it on sys.path.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED_CNN = "models/seed-cnn-mnist.llmodel"


def spread(values: list[float], scale: float = 1e3, unit: str = "ms") -> str:
    """"65.1 ms (min 51.0, max 687.2)": the median, and the range a noisy shared host gives."""
    return (f"{statistics.median(values) * scale:.1f} {unit} (min {min(values) * scale:.1f}, "
            f"max {max(values) * scale:.1f})")


def timed(work, repeats: int) -> list[float]:
    """Seconds of each of ``repeats`` calls of ``work()``."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return times


def seed_cnn_and_mnist_test():
    """(the seed CNN's path, the loaded network, all MNIST test images as float32 in [0, 1], their labels)."""
    import numpy as np

    import engine
    from resources import path

    model_path = path(SEED_CNN)
    mnist = engine.datasets.load("mnist", download=False)
    return (model_path, engine.load(model_path), engine.datasets.to_float(mnist.test_images),
            np.asarray(mnist.test_labels))
