"""PyTorch code export: the seed CNN's forward pass against the engine's, the accuracy band from scratch, torchrun.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_pytorch_export.py [--repeats 5]
        [--images 1000] [--ddp-steps 5]

Prints three tables:
1. the bundled seed CNN exported (script + .safetensors; export time min / median / max of the repeats), its
   module loaded with the weights: the largest |torch - engine| logit on the first N MNIST test images and on
   all 10,000, both accuracies, and each side's time for the N images in one batch (interleaved repeats);
2. one epoch from scratch of two templates' recipes (softmax regression: SGD 0.5, batch 100; the MLP
   784-128-10: Adam 1e-3, batch 128), in LayerLab's Trainer and in the exported script run as a user runs it
   (a separate `python -I` process, CPU): test accuracy and seconds of each;
3. the softmax-regression script under `torchrun --standalone --nproc_per_node 2` on the CPU (gloo): the loss
   of each step and the wall time of the whole command.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from export_bench import ROOT, seed_cnn_and_mnist_test, spread, timed  # beside this script

BAND_RUNS = {
    "softmax-regression": {"dataset": "mnist", "epochs": 1, "batch_size": 100, "optimizer": {"name": "sgd", "lr": 0.5}},
    "mlp-784-128-10": {"dataset": "mnist", "epochs": 1, "batch_size": 128, "optimizer": {"name": "adam", "lr": 1e-3}},
}


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def forward_table(args, folder: Path) -> None:
    import importlib.util

    import numpy as np
    import torch
    from safetensors.torch import load_file

    from engine.export.pytorch_code import class_name_for, export_pytorch

    _, network, all_images, labels = seed_cnn_and_mnist_test()
    images = all_images[:args.images]
    export_times = timed(lambda: export_pytorch(network, folder / "seed_cnn.py"), args.repeats)
    script, weights = folder / "seed_cnn.py", folder / "seed_cnn.safetensors"
    spec = importlib.util.spec_from_file_location("seed_cnn", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = getattr(module, class_name_for(network.name))()
    model.load_state_dict(load_file(str(weights)))
    model.eval()

    engine_times, torch_times = [], []
    for _ in range(args.repeats):  # interleaved, so a busy moment of the host hits both alike
        started = time.perf_counter()
        ours = network.predict(images)
        engine_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        with torch.no_grad():
            theirs = model(torch.from_numpy(images)).numpy()
        torch_times.append(time.perf_counter() - started)
    everything_ours = network.predict(all_images)
    with torch.no_grad():
        everything_theirs = np.concatenate([model(torch.from_numpy(all_images[i:i + 1000])).numpy()
                                            for i in range(0, len(all_images), 1000)])
    difference = np.abs(everything_ours - everything_theirs)
    print(f"| export time (script + .safetensors), median of {args.repeats} | {spread(export_times)} |")
    print(f"| script / weights size | {script.stat().st_size:,} / {weights.stat().st_size:,} bytes |")
    print(f"| max abs difference, torch vs engine logits, first {args.images:,} | {np.abs(ours - theirs).max():.3g} |")
    print(f"| max abs difference, all 10,000; logits over 1e-5 | {difference.max():.3g}; "
          f"{int((difference > 1e-5).sum())} of {difference.size:,} |")
    first = labels[:args.images]
    print(f"| accuracy on the first {args.images:,}, engine / torch | {(ours.argmax(1) == first).mean():.4f} / "
          f"{(theirs.argmax(1) == first).mean():.4f} |")
    print(f"| predictions that differ, all 10,000 | "
          f"{int((everything_ours.argmax(1) != everything_theirs.argmax(1)).sum())} |")
    print(f"| {args.images:,} images: engine predict / torch, median | {statistics.median(engine_times) * 1e3:.0f} / "
          f"{statistics.median(torch_times) * 1e3:.0f} ms |")


def band_table(folder: Path) -> None:
    import engine
    from engine.export.pytorch_code import export_pytorch
    from resources import path

    splits = engine.datasets.prepare(engine.datasets.load("mnist", download=False))
    for design, training in BAND_RUNS.items():
        spec = json.loads(Path(path(f"examples/{design}.json")).read_text(encoding="utf-8"))
        network = engine.build(spec, seed=0)
        config = engine.training.TrainingConfig(**{k: v for k, v in training.items() if k != "dataset"})
        started = time.perf_counter()
        engine.training.Trainer(network, engine.training.TrainingData.from_splits(splits), config).run()
        ours = engine.evaluate(network, splits.test_images, splits.test_labels).accuracy
        engine_seconds = time.perf_counter() - started
        script, _ = export_pytorch(engine.build(spec, seed=0), folder / f"{design.replace('-', '_')}.py",
                                   training=training)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-I", str(script), "--json", "--cpu", "--save", ""],
                                capture_output=True, text=True, timeout=600, cwd=folder)
        process_seconds = time.perf_counter() - started
        final = next(line for line in json_lines(result.stdout) if "test_accuracy" in line)
        print(f"| {design} | {ours:.4f} | {engine_seconds:.1f} s | {final['test_accuracy']:.4f} | "
              f"{final['seconds']:.1f} s ({process_seconds:.1f} s with start and data) | {final['steps']} |")


def ddp_table(args, folder: Path) -> None:
    script = folder / "softmax_regression.py"
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                             str(script), "--steps", str(args.ddp_steps), "--log-every", "1", "--json", "--cpu",
                             "--save", str(folder / "ddp.safetensors"), "--save-every-rank"],
                            capture_output=True, text=True, timeout=600, cwd=folder)
    seconds = time.perf_counter() - started
    lines = json_lines(result.stdout)
    losses = [f"{line['loss']:.4f}" for line in lines if "loss" in line]
    final = next((line for line in lines if "test_accuracy" in line), {})
    from safetensors.numpy import load_file

    ranks = [load_file(str(folder / f"ddp.rank{rank}.safetensors")) for rank in (0, 1)]
    same = all((ranks[0][name] == ranks[1][name]).all() for name in ranks[0])
    print(f"| torchrun, 2 processes, gloo, batch 100 (50 each) | {args.ddp_steps} steps |")
    print(f"| loss per step (mean of both ranks) | {', '.join(losses)} |")
    print(f"| test accuracy after {final.get('steps')} steps | {final.get('test_accuracy', float('nan')):.4f} |")
    print(f"| both ranks' weights identical | {same} |")
    print(f"| wall time of the torchrun command (start, data, steps, test) | {seconds:.1f} s |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--ddp-steps", type=int, default=5)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        print("| figure | value |\n|---|---:|")
        forward_table(args, folder)
        print("\n| recipe, 1 epoch | LayerLab accuracy | LayerLab time | PyTorch accuracy | PyTorch time | steps |")
        print("|---|---:|---:|---:|---:|---:|")
        band_table(folder)
        print("\n| torchrun | value |\n|---|---|")
        ddp_table(args, folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
