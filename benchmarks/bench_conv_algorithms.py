"""The two CPU algorithms of a stride-1 convolution side by side, and which one 'auto' takes.

    python benchmarks/bench_conv_algorithms.py            # the shapes the cost model was fitted to
    python benchmarks/bench_conv_algorithms.py --repeats 9

For each shape: forward + backward (dx and dkernel) in float32 through the column path (im2col + GEMM)
and through the Fourier path (``engine.ops.conv_fourier``), the fastest of ``--repeats`` timings each,
with buffers reused from step to step as in training. The two are timed alternately, so a busy spell of
the machine slows both. "Fourier / columns" below 1 means the Fourier path is faster; 'auto' should
take it only there (``fourier_pays``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from engine.ops import conv as conv_ops  # noqa: E402
from engine.ops.conv_fourier import fourier_pays  # noqa: E402
from engine.ops.layout import empty_chwn  # noqa: E402
from engine.ops.padding import conv_geometry, normalize_padding  # noqa: E402
from engine.ops.workspace import Workspace  # noqa: E402
from engine.parallel import engine_threads  # noqa: E402

# (name, batch, in channels, filters, image size, kernel size, padding)
SHAPES = [
    ("seed CNN conv2", 128, 32, 64, 14, 5, "same"),
    ("seed CNN conv2", 16, 32, 64, 14, 5, "same"),
    ("seed CNN conv2", 8, 32, 64, 14, 5, "same"),
    ("seed CNN conv2", 4, 32, 64, 14, 5, "same"),
    ("seed CNN conv2", 1, 32, 64, 14, 5, "same"),
    ("seed CNN conv1", 128, 1, 32, 28, 5, "same"),
    ("LeNet-5 c1", 128, 1, 6, 28, 5, "same"),
    ("LeNet-5 c3", 128, 6, 16, 14, 5, "valid"),
    ("LeNet-5 c3", 32, 6, 16, 14, 5, "valid"),
    ("Keras example conv2", 128, 32, 64, 26, 3, "valid"),
    ("", 128, 16, 16, 14, 3, "same"),
    ("", 128, 8, 16, 28, 3, "same"),
    ("", 64, 16, 32, 28, 3, "same"),
    ("CIFAR-sized", 128, 3, 32, 32, 5, "same"),
    ("CIFAR-sized", 128, 64, 64, 32, 3, "same"),
]


def time_both(batch, channels, filters, size, kernel_size, padding, repeats):
    """Fastest forward + backward milliseconds of each algorithm, and whether 'auto' takes Fourier."""
    rng = np.random.default_rng(0)
    x = empty_chwn(np, (batch, channels, size, size), np.float32)
    x[...] = rng.random(x.shape, dtype=np.float32)
    kernel = (0.1 * rng.standard_normal((filters, channels, kernel_size, kernel_size))).astype(np.float32)
    out_h, out_w, pads = conv_geometry(size, size, (kernel_size, kernel_size), (1, 1), normalize_padding(padding))
    dy = empty_chwn(np, (batch, filters, out_h, out_w), np.float32)
    dy[...] = rng.standard_normal(dy.shape).astype(np.float32)
    dkernel = np.empty_like(kernel)
    steps = {}
    for algorithm in ("columns", "fourier"):
        workspace = Workspace()

        def step(algorithm=algorithm, workspace=workspace):
            _, cache = conv_ops.conv2d_forward(x, kernel, None, 1, padding, workspace=workspace, algorithm=algorithm)
            conv_ops.conv2d_backward(dy, cache, True, dkernel)

        steps[algorithm] = step
    best = {algorithm: float("inf") for algorithm in steps}
    with engine_threads():  # as inside a network's training pass
        for step in steps.values():
            step()  # warm-up: buffers, cached DFT matrices
        for _ in range(repeats):
            for algorithm, step in steps.items():
                start = time.perf_counter()
                step()
                best[algorithm] = min(best[algorithm], 1e3 * (time.perf_counter() - start))
    auto = fourier_pays(np, x.shape, kernel.shape, (1, 1), pads, (out_h, out_w))
    return best["columns"], best["fourier"], auto


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timings of each algorithm per shape")
    args = parser.parse_args(argv)
    print("| shape | batch | columns (ms) | Fourier (ms) | Fourier / columns | auto takes |")
    print("|---|---:|---:|---:|---:|---|")
    for name, batch, channels, filters, size, kernel_size, padding in SHAPES:
        columns, fourier, auto = time_both(batch, channels, filters, size, kernel_size, padding, args.repeats)
        label = f"{channels} -> {filters} channels, {size}x{size}, {kernel_size}x{kernel_size} {padding}"
        label = f"{name}: {label}" if name else label
        print(f"| {label} | {batch} | {columns:.1f} | {fourier:.1f} | {fourier / columns:.2f} | "
              f"{'Fourier' if auto else 'columns'} |", flush=True)


if __name__ == "__main__":
    main()
