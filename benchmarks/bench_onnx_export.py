"""ONNX export of the bundled seed CNN: how long it takes, the file's size, and how closely onnxruntime agrees.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_onnx_export.py [--repeats 10] [--images 1000]

Prints a table: export time (min / median / max of the repeats: the host is shared, so the spread matters),
file size, the largest |onnxruntime - engine| over the first N MNIST test images' logits, both accuracies,
and each runtime's time for those N images in one batch (median of the repeats, interleaved).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from export_bench import ROOT, seed_cnn_and_mnist_test, spread, timed  # beside this script


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--images", type=int, default=1000)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import numpy as np
    import onnxruntime

    from engine.export.onnx_export import export_onnx

    model_path, network, images, labels = seed_cnn_and_mnist_test()
    images, labels = images[:args.images], labels[:args.images]

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "seed-cnn.onnx"
        export_times = timed(lambda: export_onnx(network, out), args.repeats)
        size = out.stat().st_size
        session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])

        engine_times, onnx_times = [], []
        for _ in range(args.repeats):  # interleaved, so a busy moment of the host hits both alike
            started = time.perf_counter()
            expected = network.predict(images)
            engine_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            actual = session.run(["output"], {"input": images})[0]
            onnx_times.append(time.perf_counter() - started)

    difference = float(np.max(np.abs(actual - expected)))
    engine_accuracy = float(np.mean(expected.argmax(axis=1) == labels))
    onnx_accuracy = float(np.mean(actual.argmax(axis=1) == labels))
    print(f"ONNX export of {model_path.name} ({network.num_params:,} parameters), {args.repeats} repeats, "
          f"{args.images:,} MNIST test images, onnxruntime {onnxruntime.__version__}\n")
    print("| figure | value |")
    print("|---|---|")
    print(f"| export time (build, full check, atomic write) | {spread(export_times)} |")
    print(f"| file size | {size:,} bytes ({size / 1e6:.1f} MB) |")
    print(f"| max abs difference, onnxruntime vs engine logits | {difference:.3g} |")
    print(f"| largest logit magnitude | {float(np.max(np.abs(expected))):.1f} |")
    print(f"| accuracy, engine / onnxruntime | {engine_accuracy:.4f} / {onnx_accuracy:.4f} |")
    print(f"| predictions that differ | {int(np.sum(expected.argmax(axis=1) != actual.argmax(axis=1)))} |")
    print(f"| {args.images:,} images, engine predict | {spread(engine_times)} |")
    print(f"| {args.images:,} images, onnxruntime run | {spread(onnx_times)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
