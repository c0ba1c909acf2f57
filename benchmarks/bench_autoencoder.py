"""The dense autoencoder template trained in LayerLab and the same design in PyTorch, the same way; then both
measured on MNIST's 10,000 test images: reconstruction error (MSE, BCE) side by side, and wall time.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_autoencoder.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_autoencoder.py --epochs 2   # quicker

The same training on both sides:

- the design of resources/examples/dense-autoencoder.json (784 -> 256 relu -> 64 relu -> 2 -> 64 relu -> 256 relu
  -> 784 sigmoid), PyTorch's ``nn.Linear`` layers starting from the LayerLab network's initial weights (copied);
- the loss: binary cross-entropy of the sigmoid's outputs against the input, mean over every value; LayerLab
  reads the sigmoid's pre-activation (fused), PyTorch's ``BCEWithLogitsLoss`` computes the same function;
- the template's recipe: Adam (lr 1e-3, betas 0.9 / 0.999, epsilon 1e-8 as LayerLab's), batch 128, its epochs,
  on MNIST's 55,000 training images (the app's split, 5,000 held back), no validation pass while training;
- the same batches in the same order: both sides read an ``engine.datasets.BatchIterator`` with the run's seed.

LayerLab trains with ``engine.training.Trainer``. The two sides take turns, an epoch each, so that the shared
host's load falls on both alike; each epoch is timed and the spread is shown.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_engine import machine_line  # noqa: E402

import engine  # noqa: E402
from engine.training import Trainer, TrainingConfig, TrainingData  # noqa: E402

TEMPLATE = ROOT / "resources" / "examples" / "dense-autoencoder.json"
RECIPE = json.loads((ROOT / "resources" / "templates.json").read_text(encoding="utf-8"))["training"][
    "dense-autoencoder"]


def torch_twin(network):
    """The same layers in PyTorch (the sigmoid left to the loss, as LayerLab's fused loss does), with the network's
    current weights: a Dense kernel (in, out) becomes a Linear weight (out, in)."""
    import torch
    from torch import nn

    state = network.state_dict()
    layers, dense = [nn.Flatten()], [n for n in network.order if network.layers[n].type_name == "Dense"]
    for node in dense:
        kernel = state[f"{node}.kernel"]
        linear = nn.Linear(*kernel.shape)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(kernel.T.copy()))
            linear.bias.copy_(torch.from_numpy(state[f"{node}.bias"]))
        layers.append(linear)
        activation = network.layers[node].get_config().get("activation") or "linear"
        if activation == "relu":
            layers.append(nn.ReLU())
        elif activation not in ("linear", "sigmoid"):  # (the last layer's sigmoid: in the loss)
            raise ValueError(f"{node}: no PyTorch twin for activation {activation!r}")
    return nn.Sequential(*layers)


def torch_epoch(model, optimizer, batches, steps):
    import torch

    loss_function = torch.nn.BCEWithLogitsLoss()
    model.train()
    for _ in range(steps):
        images, _ = batches.next_batch()
        x = torch.from_numpy(images)
        optimizer.zero_grad(set_to_none=True)
        loss = loss_function(model(x), x.reshape(len(x), -1))
        loss.backward()
        optimizer.step()


def torch_test_errors(model, images, batch_size=500):
    """(BCE, MSE, MAE) over every pixel of ``images`` (means over all values, as LayerLab's ErrorEvaluation)."""
    import torch

    model.eval()
    bce = squared = absolute = 0.0
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            x = torch.from_numpy(images[start:start + batch_size])
            target = x.reshape(len(x), -1)
            logits = model(x)
            outputs = torch.sigmoid(logits)
            bce += torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="sum").item()
            squared += ((outputs - target) ** 2).sum().item()
            absolute += (outputs - target).abs().sum().item()
    count = images.size
    return bce / count, squared / count, absolute / count


def spread(seconds):
    values = np.asarray(seconds)
    return f"{np.median(values):.1f} s [{values.min():.1f}-{values.max():.1f}]"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=RECIPE["epochs"], help="default: the template's recipe")
    parser.add_argument("--seed", type=int, default=RECIPE.get("seed", 0))
    args = parser.parse_args(argv)
    import torch

    splits = engine.datasets.prepare(engine.datasets.load("mnist"))
    train_images, test_images = splits.train_images, splits.test_images
    network = engine.build(json.loads(TEMPLATE.read_text(encoding="utf-8")), seed=args.seed)
    model = torch_twin(network)  # before any step: the same initial weights
    optimizer_config = RECIPE["optimizer"]
    batch_size = RECIPE["batch_size"]
    config = TrainingConfig(epochs=1, batch_size=batch_size, optimizer=optimizer_config, seed=args.seed,
                            snapshot_every_steps=None)
    trainer = Trainer(network, TrainingData(train_images, splits.train_labels, name="mnist"), config)
    torch_optimizer = torch.optim.Adam(model.parameters(), lr=optimizer_config["lr"], betas=(0.9, 0.999), eps=1e-8)
    torch_batches = engine.datasets.BatchIterator(train_images, splits.train_labels, batch_size, seed=args.seed)
    steps = torch_batches.batches_per_epoch

    ours, theirs = [], []
    print(f"{machine_line()}; {len(train_images):,} training images, batch {batch_size}, {steps} steps an epoch, "
          f"{args.epochs} epochs, sides in turns", flush=True)
    for epoch in range(args.epochs):
        trainer.config.epochs = epoch + 1  # the Trainer goes on from where it stopped
        started = time.perf_counter()
        final = trainer.run()
        ours.append(time.perf_counter() - started)
        if type(final).__name__ != "FinishedEvent":
            raise SystemExit(f"LayerLab's run failed: {final.message}")
        started = time.perf_counter()
        torch_epoch(model, torch_optimizer, torch_batches, steps)
        theirs.append(time.perf_counter() - started)
        print(f"epoch {epoch + 1}: LayerLab {ours[-1]:.1f} s, PyTorch {theirs[-1]:.1f} s", flush=True)

    result = engine.evaluate(network, test_images, splits.test_labels)
    bce, mse, mae = torch_test_errors(model, test_images)
    print()
    print(f"| {args.epochs} epochs, batch {batch_size}, Adam {optimizer_config['lr']:g} | test BCE | test MSE "
          f"| test MAE | training time | an epoch: median [min-max] |")
    print("|---|---:|---:|---:|---:|---|")
    print(f"| LayerLab, NumPy | {result.loss:.4f} | {result.mean_squared_error:.4f} | "
          f"{result.mean_absolute_error:.4f} | {sum(ours):.1f} s | {spread(ours)} |")
    print(f"| PyTorch {torch.__version__}, CPU | {bce:.4f} | {mse:.4f} | {mae:.4f} | {sum(theirs):.1f} s | "
          f"{spread(theirs)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
