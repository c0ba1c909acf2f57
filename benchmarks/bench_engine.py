"""Training throughput, single-image latency and memory of the engine, beside PyTorch when installed.

    python benchmarks/bench_engine.py                     # NumPy vs PyTorch CPU, every model
    python benchmarks/bench_engine.py --models seed-cnn --batch-sizes 128 --steps 40
    python benchmarks/bench_engine.py --models lstm --batch-sizes 128 --engine-cores 1 --torch-threads 1  # 1 vs 1
    LAYERLAB_BACKEND=cupy python benchmarks/bench_engine.py   # CuPy vs PyTorch CUDA (cuDNN)

A training step is forward + loss + backward + optimizer update on real MNIST batches. Throughput
is the median over timed windows of 10 steps after warm-up, so one stall of a busy machine does not
decide the figure; the engine's and PyTorch's windows alternate, so a busy spell slows both sides, and
each side steps untimed for a moment before each of its windows, until the other's threads are quiet.
The ratio is the median over pairs of neighbouring windows of one side's time over the other's, with
its quartiles in brackets: the spread says how far a single run's ratio can be trusted (``paired_ratio``).
Latency is the forward pass of one image in inference mode (median and p99), in alternating
windows of calls (see ``measure_latencies``).
"Memory growth" is the change in traced memory (tracemalloc; NumPy reports its arrays there) over
10 further steps after the timing: it should be ~0.
"""

from __future__ import annotations

import argparse
import functools
import gc
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

STEPS_PER_WINDOW = 10
# Each side runs untimed for LEAD_IN_SECONDS before each of its timed windows. After its last call each
# side's threads keep spinning for a while (OpenBLAS's ~110 ms, PyTorch's OpenMP ~10 ms, measured here)
# and take a core from the other side's window: a contest no user sees, who runs one library in a
# process. Timed straight after the switch, the MLP on BLAS's threads (engine/network.py) and PyTorch
# each ran at 1/3 to 2/3 of their speed alone. A pause instead of the lead-in is no better: after
# 150 ms idle, the engine took ~30 MLP steps to get back to full speed.
LEAD_IN_SECONDS = 0.15


@functools.cache
def mnist_train_float():
    """MNIST's training images in [0, 1] and labels, converted once for every measurement of the run."""
    data = engine.datasets.load("mnist")
    return engine.datasets.to_float(data.train_images), data.train_labels


def mnist_batches(batch_size, seed=0):
    """Random training batches (images, labels), endlessly."""
    images, labels = mnist_train_float()
    rng = np.random.default_rng(seed)
    while True:
        index = rng.integers(0, len(images), batch_size)
        yield images[index], labels[index]


def _synchronize(xp):
    if backend.backend_name(xp) == "cupy":
        xp.cuda.Device().synchronize()


def measure_interleaved(runners, windows, steps_per_window, lead_in_seconds=LEAD_IN_SECONDS):
    """Seconds per step of each runner in each window, timing their windows in turn (A, B, A, B, ...).

    Alternating keeps a busy moment of a shared machine from landing on one side of the comparison only.
    Each runner is (step, batches, sync) and has been warmed up. Before each timed window its runner
    steps untimed for ``lead_in_seconds``, while the other side's threads stop spinning (0: no lead-in,
    as before 2026-11-23).
    """
    per_step = [[] for _ in runners]
    for _ in range(windows):
        for times, (step, batches, sync) in zip(per_step, runners, strict=True):
            lead_in_ends = time.perf_counter() + lead_in_seconds
            while time.perf_counter() < lead_in_ends:
                step(*next(batches))
            sync()
            start = time.perf_counter()
            for _ in range(steps_per_window):
                step(*next(batches))
            sync()
            times.append((time.perf_counter() - start) / steps_per_window)
    return per_step


def paired_ratio(ours, theirs):
    """How many times faster we are, window by window: (median, first quartile, third quartile) of
    their seconds over ours in each pair of neighbouring windows. A pair shares the machine's mood of the
    moment, so a host that slows down for a while moves the spread, not the median."""
    ratios = sorted(t / o for o, t in zip(ours, theirs, strict=True))
    quartiles = statistics.quantiles(ratios, n=4, method="inclusive")
    return statistics.median(ratios), quartiles[0], quartiles[2]


def engine_runner(name, batch_size, warmup=5):
    """(step, batches, sync) for the engine, warmed up."""
    make_spec, optimizer_name, lr = MODELS[name]
    net = engine.build(make_spec(), seed=0)
    opt = engine.optimizers.get(optimizer_name, net.parameters(), lr=lr)
    xp = net.xp
    batches = mnist_batches(batch_size)

    def step(x, labels):
        logits = net.forward(xp.asarray(x), training=True)
        _, dlogits = engine.losses.softmax_cross_entropy(logits, labels)  # host labels: checked, then moved
        net.backward(dlogits, input_grad=False)
        opt.step()

    for _ in range(warmup):
        step(*next(batches))
    return step, batches, lambda: _synchronize(xp)


def memory_growth(step, batches):
    """Change in traced memory over 10 steps (NumPy reports its arrays to tracemalloc).

    Garbage is collected before each reading, so the figure is what stays alive: small reference cycles
    (the engine's thread hand-offs leave a few) otherwise wait for Python's cyclic collector and read as
    ~1 KiB a step that a later collection frees (measured: seed CNN, batch 50, 200 steps, +211 KiB after
    the first 50 and +216 KiB after 200, with a collection before each reading).
    """
    tracemalloc.start()  # tracing slows every allocation: measure it after the timing
    step(*next(batches))
    gc.collect()
    baseline = tracemalloc.get_traced_memory()[0]
    for _ in range(10):
        step(*next(batches))
    gc.collect()
    growth = tracemalloc.get_traced_memory()[0] - baseline
    tracemalloc.stop()
    return growth


def engine_inference(name):
    """One single-image inference of the model on the engine, its result back on the host."""
    make_spec, _, _ = MODELS[name]
    net = engine.build(make_spec(), seed=0)
    x = net.xp.asarray(np.random.default_rng(0).random((1, 1, 28, 28), dtype=np.float32))
    return lambda: backend.to_host(net.forward(x, training=False))  # on the host, as the draw panel needs


def measure_latencies(inferences, windows=10, calls_per_window=60, settling_calls=30):
    """(median, p99) milliseconds of each inference, in alternating windows of calls.

    Windows rather than call by call: each side's thread pool spins for a while after a call
    (OpenBLAS's, PyTorch's OpenMP), and calling the other side right then measures the two fighting
    over the cores. The first calls of each window, made while the other side's threads still spin,
    are not counted; a busy spell of the machine still hits both sides alike. Their effect lasts tens of
    milliseconds: measured on the development machine (seed CNN, three rounds), with 5 of 25 calls not
    counted each side read ~10% over its figure alone (engine 0.52-0.55 against 0.45-0.49 ms, PyTorch
    1.17-1.24 against 0.93-1.07); with 30 of 60, 0.50-0.51 and 1.03-1.10.
    """
    times = [[] for _ in inferences]
    for infer in inferences:  # warm-up
        for _ in range(settling_calls):
            infer()
    for _ in range(windows):
        for samples, infer in zip(times, inferences, strict=True):
            for call in range(calls_per_window):
                start = time.perf_counter()
                infer()
                if call >= settling_calls:
                    samples.append(time.perf_counter() - start)
    result = []
    for samples in times:
        samples.sort()
        result.append((statistics.median(samples) * 1e3, samples[int(0.99 * (len(samples) - 1))] * 1e3))
    return result


def torch_runner(name, batch_size, device, warmup=5):
    """(step, batches, sync) for the same model on PyTorch, warmed up."""
    import torch

    _, optimizer_name, lr = MODELS[name]
    model = torch_model(name).to(device)
    opt = torch_optimizer(optimizer_name, model.parameters(), lr)
    batches = ((torch.tensor(x, device=device), torch.tensor(y, device=device))
               for x, y in mnist_batches(batch_size))

    def step(x, labels):
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), labels).backward()
        opt.step()

    def sync():
        if device != "cpu":
            torch.cuda.synchronize()

    for _ in range(warmup):
        step(*next(batches))
    return step, batches, sync


def torch_inference(name, device):
    import torch

    model = torch_model(name).to(device).eval()
    x = torch.rand(1, 1, 28, 28, device=device)

    def infer():
        with torch.inference_mode():
            return model(x).cpu()

    return infer


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
    parser.add_argument("--lead-in", type=float, default=LEAD_IN_SECONDS,
                        help="seconds of untimed steps before each timed window (0: none, as before 2026-11-23)")
    parser.add_argument("--torch-threads", type=int, default=None,
                        help="PyTorch's intra-op threads (torch.set_num_threads; default: PyTorch's own choice)")
    parser.add_argument("--engine-cores", type=int, default=None,
                        help="the engine's cores (engine.parallel.set_core_limit; 1: one thread, BLAS included, "
                             "like for like with --torch-threads 1; default: every core)")
    args = parser.parse_args(argv)
    if args.engine_cores is not None:
        from engine import parallel

        parallel.set_core_limit(args.engine_cores)
    if args.torch_threads is not None:
        import torch

        torch.set_num_threads(args.torch_threads)

    device = None if args.no_torch else torch_device()
    print(f"# Engine benchmark — backend {backend.backend_name()}; {machine_line()}")
    print()
    print("| model | batch | engine samples/s | PyTorch samples/s | engine / PyTorch (windows' quartiles) "
          "| memory growth |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in args.models:
        for batch_size in args.batch_sizes:
            windows = max(3, args.steps // STEPS_PER_WINDOW)
            runners = [engine_runner(name, batch_size)]
            if device:
                runners.append(torch_runner(name, batch_size, device))
            window_seconds = measure_interleaved(runners, windows, STEPS_PER_WINDOW, args.lead_in)
            ours = batch_size / statistics.median(window_seconds[0])
            theirs = batch_size / statistics.median(window_seconds[1]) if device else None
            growth = memory_growth(*runners[0][:2]) if backend.backend_name() == "numpy" else None
            ratio = "{:.2f}x ({:.2f}-{:.2f})".format(*paired_ratio(*window_seconds)) if device else "—"
            growth_text = "—" if growth is None else f"{growth / 1024:+.0f} KiB"
            theirs_text = f"{theirs:,.0f}" if theirs else "—"
            print(f"| {name} | {batch_size} | {ours:,.0f} | {theirs_text} | {ratio} | {growth_text} |", flush=True)
    print()
    print("| model | engine latency median / p99 (ms) | PyTorch latency median / p99 (ms) |")
    print("|---|---:|---:|")
    for name in args.models:
        inferences = [engine_inference(name)] + ([torch_inference(name, device)] if device else [])
        latencies = measure_latencies(inferences)
        theirs = "{:.3f} / {:.3f}".format(*latencies[1]) if device else "—"
        print(f"| {name} | {latencies[0][0]:.3f} / {latencies[0][1]:.3f} | {theirs} |", flush=True)


if __name__ == "__main__":
    main()
