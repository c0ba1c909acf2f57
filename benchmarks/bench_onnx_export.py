"""ONNX export of the bundled seed CNN and of the LSTM template: how long it takes, the file's size, and how
closely onnxruntime agrees.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_onnx_export.py [--repeats 10] [--images 1000]
        [--lstm-steps 200]

Prints a table a model: export time (min / median / max of the repeats: the host is shared, so the spread
matters), file size, the largest |onnxruntime - engine| over the first N MNIST test images' logits, both
accuracies, and each runtime's time for those N images in one batch (median of the repeats, interleaved).
The second model is the lstm-mnist-rows template (Reshape -> LSTM 128 -> Dense 10, ONNX's Transpose, LSTM and
Squeeze) trained --lstm-steps steps of its recipe on MNIST here first (0 skips it).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from export_bench import ROOT, seed_cnn_and_mnist_test, spread, timed  # beside this script


def trained_lstm_template(steps: int):
    """The lstm-mnist-rows template after ``steps`` steps of its recipe on MNIST's training images."""
    import numpy as np

    import engine
    from engine.training.config import TrainingConfig
    from engine.training.trainer import Trainer, TrainingData
    from resources import path

    recipe = json.loads(path("templates.json").read_text(encoding="utf-8"))["training"]["lstm-mnist-rows"]
    settings = {key: value for key, value in recipe.items() if key != "dataset"}
    config = TrainingConfig.from_dict({**settings, "epochs": 1, "max_steps": steps})
    mnist = engine.datasets.load("mnist", download=False)
    count = steps * config.batch_size
    images = np.ascontiguousarray(engine.datasets.to_float(mnist.train_images[:count]), dtype=np.float32)
    network = engine.build(json.loads(path("examples/lstm-mnist-rows.json").read_text(encoding="utf-8")), seed=0)
    Trainer(network, TrainingData(images, np.asarray(mnist.train_labels[:count]), name="mnist"), config).run()
    return network


def measure(network, images, labels, repeats: int) -> list[tuple[str, str]]:
    """The table's rows for ``network``: (figure, value)."""
    import numpy as np
    import onnxruntime

    from engine.export.onnx_export import export_onnx

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "model.onnx"
        export_times = timed(lambda: export_onnx(network, out), repeats)
        size = out.stat().st_size
        session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])

        engine_times, onnx_times = [], []
        for _ in range(repeats):  # interleaved, so a busy moment of the host hits both alike
            started = time.perf_counter()
            expected = network.predict(images)
            engine_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            actual = session.run(["output"], {"input": images})[0]
            onnx_times.append(time.perf_counter() - started)

    difference = float(np.max(np.abs(actual - expected)))
    engine_accuracy = float(np.mean(expected.argmax(axis=1) == labels))
    onnx_accuracy = float(np.mean(actual.argmax(axis=1) == labels))
    return [
        ("export time (build, full check, atomic write)", spread(export_times)),
        ("file size", f"{size:,} bytes ({size / 1e6:.1f} MB)"),
        ("max abs difference, onnxruntime vs engine logits", f"{difference:.3g}"),
        ("largest logit magnitude", f"{float(np.max(np.abs(expected))):.1f}"),
        ("accuracy, engine / onnxruntime", f"{engine_accuracy:.4f} / {onnx_accuracy:.4f}"),
        ("predictions that differ", f"{int(np.sum(expected.argmax(axis=1) != actual.argmax(axis=1)))}"),
        (f"{len(images):,} images, engine predict", spread(engine_times)),
        (f"{len(images):,} images, onnxruntime run", spread(onnx_times)),
    ]


def print_table(title: str, rows) -> None:
    print(f"{title}\n")
    print("| figure | value |")
    print("|---|---|")
    for figure, value in rows:
        print(f"| {figure} | {value} |")
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--lstm-steps", type=int, default=200)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import onnxruntime

    model_path, network, images, labels = seed_cnn_and_mnist_test()
    images, labels = images[:args.images], labels[:args.images]
    print_table(f"ONNX export of {model_path.name} ({network.num_params:,} parameters), {args.repeats} repeats, "
                f"{args.images:,} MNIST test images, onnxruntime {onnxruntime.__version__}",
                measure(network, images, labels, args.repeats))
    if args.lstm_steps > 0:
        lstm = trained_lstm_template(args.lstm_steps)
        print_table(f"ONNX export of the lstm-mnist-rows template ({lstm.num_params:,} parameters) after "
                    f"{args.lstm_steps} training steps of its recipe, same images and repeats",
                    measure(lstm, images, labels, args.repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
