"""Keras code export of the bundled seed CNN: how long it takes, and how closely Keras (torch backend) agrees.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_keras_export.py [--repeats 5] [--images 1000]

Exports the model (script + .safetensors), imports the script from its path as a user would, builds the model,
loads the weights, and prints a table: export time (median, min, max of the repeats: the host is shared),
the largest |Keras - engine| over the first N MNIST test images' logits and probabilities, how many logits
differ by more than 1e-5, each side's distance from a float64 engine run, both accuracies, and each side's
time for those N images (median of the repeats, interleaved).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

from export_bench import ROOT, seed_cnn_and_mnist_test, spread, timed  # beside this script


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--images", type=int, default=1000)
    args = parser.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "torch")
    sys.path.insert(0, str(ROOT))
    import numpy as np

    import engine
    from engine.export.keras_code import export_keras

    model_path, network, images, labels = seed_cnn_and_mnist_test()
    images, labels = images[:args.images], labels[:args.images]
    exact = engine.Network(network.spec, dtype="float64")
    exact.load_state_dict(network.state_dict())

    with tempfile.TemporaryDirectory() as folder:
        script_path = Path(folder) / "seed_cnn.py"
        export_times = timed(lambda: export_keras(network, script_path), args.repeats)
        sizes = script_path.stat().st_size, script_path.with_suffix(".safetensors").stat().st_size
        started = time.perf_counter()
        spec = importlib.util.spec_from_file_location("seed_cnn", script_path)
        script = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(script)  # imports keras
        model = script.load_weights(script.build_model())
        setup = time.perf_counter() - started

    keras = script.keras
    channels_last = images.transpose(0, 2, 3, 1)
    engine_times, keras_times = [], []
    for _ in range(args.repeats):  # interleaved, so a busy moment of the host hits both alike
        started = time.perf_counter()
        expected = network.predict(images)
        engine_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        actual = np.asarray(model.predict(channels_last, batch_size=256, verbose=0))
        keras_times.append(time.perf_counter() - started)
    reference = exact.predict(images.astype(np.float64))
    head = network.output_head
    difference = np.abs(actual - expected)
    print(f"Keras code export of {model_path.name} ({network.num_params:,} parameters), {args.repeats} repeats, "
          f"{args.images:,} MNIST test images, Keras {keras.__version__} on {keras.backend.backend()}\n")
    print("| figure | value |")
    print("|---|---|")
    print(f"| export time (script + .safetensors, atomic writes) | {spread(export_times)} |")
    print(f"| script / weights size | {sizes[0]:,} / {sizes[1]:,} bytes |")
    print(f"| import script + Keras, build, load weights (once) | {setup:.2f} s |")
    print(f"| max abs difference, Keras vs engine logits | {difference.max():.3g} |")
    print(f"| logits differing by more than 1e-5 | {int((difference > 1e-5).sum())} of {difference.size:,} |")
    print(f"| largest logit magnitude | {float(np.abs(expected).max()):.1f} |")
    print(f"| max abs difference, probabilities | "
          f"{float(np.abs(head.probabilities(actual) - head.probabilities(expected)).max()):.3g} |")
    print(f"| max abs from a float64 engine run: engine / Keras | {np.abs(expected - reference).max():.3g} / "
          f"{np.abs(actual - reference).max():.3g} |")
    print(f"| accuracy, engine / Keras | {np.mean(expected.argmax(1) == labels):.4f} / "
          f"{np.mean(actual.argmax(1) == labels):.4f} |")
    print(f"| predictions that differ | {int(np.sum(expected.argmax(1) != actual.argmax(1)))} |")
    print(f"| {args.images:,} images, engine predict | {spread(engine_times)} |")
    print(f"| {args.images:,} images, Keras predict | {spread(keras_times)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
