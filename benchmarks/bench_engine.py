"""Training throughput, single-image latency and memory of the engine, beside PyTorch when installed.

    python benchmarks/bench_engine.py                     # NumPy vs PyTorch CPU, every model
    python benchmarks/bench_engine.py --models seed-cnn --batch-sizes 128 --steps 40
    LAYERLAB_BACKEND=cupy python benchmarks/bench_engine.py   # CuPy vs PyTorch CUDA (cuDNN)

A training step is forward + loss + backward + optimizer update on real MNIST batches. Throughput
is the median over timed windows of steps after warm-up, so one stall of a busy machine does not
decide the figure. Latency is the forward pass of one image in inference mode (median and p99).
"Memory growth" is the change in traced memory (tracemalloc; NumPy reports its arrays there) over
10 further steps after the timing: it should be ~0.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))

from models import MODELS, torch_model, torch_optimizer  # noqa: E402

import engine  # noqa: E402
from engine import backend  # noqa: E402


@functools.cache
def mnist_train_float():
    """MNIST's training images in [0, 1] and labels, converted once for every measurement of the run."""
    data = engine.datasets.load("mnist")
    return engine.datasets.to_float(data.train_images), data.train_labels


def mnist_batches(batch_size, count, seed=0):
    images, labels = mnist_train_float()
    rng = np.random.default_rng(seed)
    for _ in range(count):
        index = rng.integers(0, len(images), batch_size)
        yield images[index], labels[index]


def _synchronize(xp):
    if backend.backend_name(xp) == "cupy":
        xp.cuda.Device().synchronize()


def measure_windows(step, batches, windows, steps_per_window, sync):
    """Median seconds per step over ``windows`` timed windows (after the caller's warm-up)."""
    per_step = []
    for _ in range(windows):
        sync()
        start = time.perf_counter()
        for _ in range(steps_per_window):
            step(*next(batches))
        sync()
        per_step.append((time.perf_counter() - start) / steps_per_window)
    return statistics.median(per_step)


def engine_training(name, batch_size, steps, warmup=5):
    make_spec, optimizer_name, lr = MODELS[name]
    net = engine.build(make_spec(), seed=0)
    opt = engine.optimizers.get(optimizer_name, net.parameters(), lr=lr)
    xp = net.xp
    windows = max(3, steps // 10)
    batches = mnist_batches(batch_size, warmup + windows * 10 + 12)

    def step(x, labels):
        logits = net.forward(xp.asarray(x), training=True)
        _, dlogits = engine.losses.softmax_cross_entropy(logits, labels)  # host labels: checked, then moved
        net.backward(dlogits, input_grad=False)
        opt.step()

    for _ in range(warmup):
        step(*next(batches))
    seconds = measure_windows(step, batches, windows, 10, lambda: _synchronize(xp))
    growth = None
    if backend.backend_name(xp) == "numpy":  # tracing slows every allocation: measure it after the timing
        tracemalloc.start()
        step(*next(batches))
        baseline = tracemalloc.get_traced_memory()[0]
        for _ in range(10):
            step(*next(batches))
        growth = tracemalloc.get_traced_memory()[0] - baseline
        tracemalloc.stop()
    return batch_size / seconds, growth


def engine_latency(name, repeats=200):
    make_spec, _, _ = MODELS[name]
    net = engine.build(make_spec(), seed=0)
    x = np.random.default_rng(0).random((1, 1, 28, 28), dtype=np.float32)
    times = []
    for i in range(repeats + 20):
        start = time.perf_counter()
        backend.to_host(net.forward(x, training=False))  # the result back on the host, as the draw panel needs
        if i >= 20:
            times.append(time.perf_counter() - start)
    times.sort()
    return statistics.median(times) * 1e3, times[int(0.99 * (len(times) - 1))] * 1e3


def torch_training(name, batch_size, steps, device, warmup=5):
    import torch

    _, optimizer_name, lr = MODELS[name]
    model = torch_model(name).to(device)
    opt = torch_optimizer(optimizer_name, model.parameters(), lr)
    windows = max(3, steps // 10)
    batches = ((torch.tensor(x, device=device), torch.tensor(y, device=device))
               for x, y in mnist_batches(batch_size, warmup + windows * 10 + 1))

    def step(x, labels):
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), labels).backward()
        opt.step()

    def sync():
        if device != "cpu":
            torch.cuda.synchronize()

    for _ in range(warmup):
        step(*next(batches))
    return batch_size / measure_windows(step, batches, windows, 10, sync)


def torch_latency(name, device, repeats=200):
    import torch

    model = torch_model(name).to(device).eval()
    x = torch.rand(1, 1, 28, 28, device=device)
    times = []
    with torch.inference_mode():
        for i in range(repeats + 20):
            start = time.perf_counter()
            model(x).cpu()
            if i >= 20:
                times.append(time.perf_counter() - start)
    times.sort()
    return statistics.median(times) * 1e3, times[int(0.99 * (len(times) - 1))] * 1e3


def torch_device():
    """'cpu', or 'cuda' when the engine runs on CuPy (compare like with like); None without torch."""
    try:
        import torch
    except ImportError:
        return None
    if backend.backend_name() == "cupy":
        return "cuda" if torch.cuda.is_available() else None
    return "cpu"


def machine_line():
    line = f"{os.cpu_count()} CPU cores, NumPy {np.__version__}"
    if backend.backend_name() == "cupy":
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(0)
        line += f", CuPy {cupy.__version__} on {props['name'].decode()}"
    try:
        import torch

        line += f", PyTorch {torch.__version__} ({torch.get_num_threads()} threads)"
    except ImportError:
        line += ", PyTorch not installed (no comparison)"
    return line


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[50, 128])
    parser.add_argument("--steps", type=int, default=60, help="timed training steps per measurement")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    args = parser.parse_args(argv)

    device = None if args.no_torch else torch_device()
    print(f"# Engine benchmark — backend {backend.backend_name()}; {machine_line()}")
    print()
    print("| model | batch | engine samples/s | PyTorch samples/s | engine / PyTorch | memory growth |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in args.models:
        for batch_size in args.batch_sizes:
            ours, growth = engine_training(name, batch_size, args.steps)
            theirs = torch_training(name, batch_size, args.steps, device) if device else None
            ratio = f"{ours / theirs:.2f}x" if theirs else "—"
            growth_text = "—" if growth is None else f"{growth / 1024:+.0f} KiB"
            theirs_text = f"{theirs:,.0f}" if theirs else "—"
            print(f"| {name} | {batch_size} | {ours:,.0f} | {theirs_text} | {ratio} | {growth_text} |", flush=True)
    print()
    print("| model | engine latency median / p99 (ms) | PyTorch latency median / p99 (ms) |")
    print("|---|---:|---:|")
    for name in args.models:
        median, p99 = engine_latency(name)
        theirs = "—" if not device else "{:.3f} / {:.3f}".format(*torch_latency(name, device))
        print(f"| {name} | {median:.3f} / {p99:.3f} | {theirs} |", flush=True)


if __name__ == "__main__":
    main()
