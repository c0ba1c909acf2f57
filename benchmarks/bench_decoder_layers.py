"""The conv autoencoder's decoder layers, and its whole training step, beside PyTorch on the CPU.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_decoder_layers.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_decoder_layers.py --windows 20

Rows (batch 128 by default, float32, MNIST-sized shapes of resources/examples/conv-autoencoder.json):

- deconv1 / deconv2: one Conv2DTranspose 3x3, stride 2, 'same', ReLU, forward + backward with the input's
  gradient (as inside the decoder), against ``nn.ConvTranspose2d(padding=1, output_padding=1)`` + ReLU. PyTorch
  crops the other row than TensorFlow's 'same' (top instead of bottom): the same work, not the same numbers.
- autoencoder: a whole training step of the template (forward, binary cross-entropy on the logits before the
  sigmoid, backward, Adam) on real MNIST batches, against the same design in PyTorch.

The two sides' windows alternate and the ratio is the median over pairs of neighbouring windows, with its
quartiles (``bench_engine.measure_interleaved`` and ``paired_ratio``): the host is shared, so read the spread.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_engine import machine_line, measure_interleaved, mnist_batches, paired_ratio  # noqa: E402

import engine  # noqa: E402
from engine import backend  # noqa: E402

TEMPLATE = ROOT / "resources" / "examples" / "conv-autoencoder.json"
# (name, input channels x height x width, filters) of the template's two transposed convolutions
DECODER_LAYERS = (("deconv1", (8, 7, 7), 8), ("deconv2", (8, 14, 14), 16))


def _images(batch_size):
    """Endless float32 MNIST batches (the labels dropped)."""
    return ((x,) for x, _ in mnist_batches(batch_size))


def engine_layer_runner(input_shape, filters, batch_size):
    spec = {"format": "layerlab-network", "version": 1, "name": "deconv", "nodes": [
        {"id": "input", "type": "Input", "shape": list(input_shape)},
        {"id": "up", "type": "Conv2DTranspose", "filters": filters, "kernel_size": 3, "strides": 2,
         "padding": "same", "activation": "relu"}]}
    net = engine.build(spec, seed=0)
    rng = np.random.default_rng(0)
    x = net.xp.asarray(rng.standard_normal((batch_size, *input_shape), dtype=np.float32))
    dy = net.xp.asarray(rng.standard_normal((batch_size, *net.output_shape), dtype=np.float32))

    def step():
        net.forward(x, training=True)
        net.backward(dy, input_grad=True)

    return step


def torch_layer_runner(input_shape, filters, batch_size):
    import torch

    layer = torch.nn.ConvTranspose2d(input_shape[0], filters, 3, stride=2, padding=1, output_padding=1)
    x = torch.randn(batch_size, *input_shape, requires_grad=True)
    dy = torch.randn(batch_size, filters, input_shape[1] * 2, input_shape[2] * 2)

    def step():
        x.grad = None
        layer.zero_grad(set_to_none=True)
        torch.relu(layer(x)).backward(dy)

    return step


def engine_autoencoder_runner(batch_size):
    net = engine.build(json.loads(TEMPLATE.read_text()), seed=0)
    opt = engine.optimizers.get("adam", net.parameters(), lr=1e-3)
    xp = net.xp

    def step(images):
        x = xp.asarray(images)
        logits = net.forward(x, training=True, pre_activation=True)  # the sigmoid fused into the loss
        probabilities = 1 / (1 + xp.exp(-logits))
        net.backward((probabilities - x) / x.size, input_grad=False)  # d mean BCE / d logits
        opt.step()

    return step


def torch_autoencoder(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.ConvTranspose2d(8, 8, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
        nn.ConvTranspose2d(8, 16, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
        nn.Conv2d(16, 1, 3, padding=1))  # logits: the sigmoid is in the loss


def torch_autoencoder_runner(batch_size):
    import torch

    torch.manual_seed(0)
    model = torch_autoencoder(torch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(images):
        x = torch.from_numpy(images)
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.binary_cross_entropy_with_logits(model(x), x).backward()
        opt.step()

    return step


def _no_batches():
    while True:
        yield ()


def _measure(ours, theirs, batches, windows, steps, warmup=5):
    runners = []
    for step, source in ((ours, batches[0]), (theirs, batches[1])):
        for _ in range(warmup):
            step(*next(source))
        runners.append((step, source, lambda: None))
    ours_s, theirs_s = measure_interleaved(runners, windows, steps)
    median, low, high = paired_ratio(ours_s, theirs_s)
    return float(np.median(ours_s)), float(np.median(theirs_s)), median, low, high


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--windows", type=int, default=12)
    parser.add_argument("--steps", type=int, default=10, help="steps per timed window")
    args = parser.parse_args(argv)
    if backend.backend_name() != "numpy":
        raise SystemExit("this benchmark compares the NumPy engine with PyTorch on the CPU")
    print(machine_line())
    print(f"batch {args.batch_size}, {args.windows} windows of {args.steps} steps per side, in turns")
    print(f"{'row':<12} {'LayerLab ms':>12} {'PyTorch ms':>11} {'speed vs PyTorch [quartiles]':>30}")
    rows = [(name, engine_layer_runner(shape, filters, args.batch_size),
             torch_layer_runner(shape, filters, args.batch_size), (_no_batches(), _no_batches()))
            for name, shape, filters in DECODER_LAYERS]
    rows.append(("autoencoder", engine_autoencoder_runner(args.batch_size),
                 torch_autoencoder_runner(args.batch_size), (_images(args.batch_size), _images(args.batch_size))))
    for name, ours, theirs, batches in rows:
        ours_s, theirs_s, median, low, high = _measure(ours, theirs, batches, args.windows, args.steps)
        print(f"{name:<12} {ours_s * 1e3:>12.2f} {theirs_s * 1e3:>11.2f} {median:>14.2f}x [{low:.2f}-{high:.2f}]",
              flush=True)


if __name__ == "__main__":
    main()
