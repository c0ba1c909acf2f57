"""How long importing a folder of 10,000 28x28 PNGs takes (the issue asks for under 10 s on 2 cores).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_image_import.py [--images 10000] [--runs 3]

Writes the first ``--images`` MNIST training digits as PNG files in one folder per class (in a temporary
folder, removed afterwards), then times ``engine.datasets.import_path`` on it ``--runs`` times: the size
and colour are found by the importer (size=None, color="auto"), as the app and ``layerlab datasets import``
do. Prints each run, the median and the spread, and how long ``save_imported`` takes to store the result.
The first run reads files the writing just left in the page cache, as every run does: this measures the
importer, not the disk.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_digits(root: Path, count: int) -> None:
    from PIL import Image

    import engine

    mnist = engine.datasets.load("mnist")
    images, labels = mnist.train_images[:count], mnist.train_labels[:count]
    for label in range(10):
        (root / str(label)).mkdir(parents=True, exist_ok=True)

    def write(index: int) -> None:
        Image.fromarray(images[index, 0]).save(root / str(int(labels[index])) / f"{index:05d}.png")

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, range(count)))


def main() -> int:
    sys.path.insert(0, str(ROOT))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    import engine

    with tempfile.TemporaryDirectory(prefix="layerlab-import-bench-") as temporary:
        folder = Path(temporary) / "digits"
        started = time.perf_counter()
        write_digits(folder, args.images)
        print(f"wrote {args.images:,} PNGs in {time.perf_counter() - started:.1f} s", flush=True)
        os.environ[engine.datasets.IMPORTED_DIR_ENV] = str(Path(temporary) / "store")

        times = []
        for run in range(1, args.runs + 1):
            started = time.perf_counter()
            dataset = engine.datasets.import_path(folder)
            times.append(time.perf_counter() - started)
            print(f"run {run}: {times[-1]:.2f} s ({args.images / times[-1]:,.0f} images/s)", flush=True)
        started = time.perf_counter()
        engine.datasets.save_imported(dataset, "bench")
        saving = time.perf_counter() - started

    median = statistics.median(times)
    print()
    print("| images | runs | median | fastest | slowest | images/s (median) | save_imported |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {args.images:,} | {args.runs} | {median:.2f} s | {min(times):.2f} s | {max(times):.2f} s | "
          f"{args.images / median:,.0f} | {saving:.2f} s |")
    print(f"\n{dataset!r}; notes: {'; '.join(dataset.notes)}")
    print(f"cores available: {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
