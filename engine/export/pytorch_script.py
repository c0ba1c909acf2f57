"""The fixed parts of an exported PyTorch script (engine/export/pytorch_code.py fills in the rest).

Each part is plain Python text, copied into the script as it is when the design needs it, so what a user reads
in the script is what is tested here. ``string.Template`` placeholders ($name) are only used in HEADER and
SETTINGS, where the design's own values go.
"""

from __future__ import annotations

IMPORTS = '''\
import argparse
import gzip
import json
import math
import os
import struct
import tarfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler
'''

INITIALIZE = '''\
# Keras's fan-scaled initializers (LayerLab uses their names): (scale, fan, distribution).
VARIANCE_SCALING = {
    "glorot_uniform": (1.0, "fan_avg", "uniform"),
    "glorot_normal": (1.0, "fan_avg", "truncated_normal"),
    "he_uniform": (2.0, "fan_in", "uniform"),
    "he_normal": (2.0, "fan_in", "truncated_normal"),
    "lecun_uniform": (1.0, "fan_in", "uniform"),
    "lecun_normal": (1.0, "fan_in", "truncated_normal"),
}
# The standard deviation of a unit normal cut at +-2: a truncated draw is scaled up by 1 / this (as Keras).
TRUNCATED_UNIT_STDDEV = 0.87962566103423978


@torch.no_grad()
def initialize(tensor, name, fan_in, fan_out, **arguments):
    """Fill tensor as LayerLab's initializer called name does (Keras's names, arguments and defaults)."""
    if name == "zeros":
        nn.init.zeros_(tensor)
    elif name == "ones":
        nn.init.ones_(tensor)
    elif name == "constant":
        nn.init.constant_(tensor, arguments.get("value", 0.0))
    elif name == "random_normal":
        nn.init.normal_(tensor, arguments.get("mean", 0.0), arguments.get("stddev", 0.05))
    elif name == "truncated_normal":  # values beyond two standard deviations are drawn again
        mean, stddev = arguments.get("mean", 0.0), arguments.get("stddev", 0.05)
        nn.init.trunc_normal_(tensor, mean, stddev, mean - 2 * stddev, mean + 2 * stddev)
    elif name == "random_uniform":
        nn.init.uniform_(tensor, arguments.get("minval", -0.05), arguments.get("maxval", 0.05))
    else:  # variance_scaling, or one of its presets
        scale, mode, distribution = VARIANCE_SCALING.get(name) or (
            arguments.get("scale", 1.0), arguments.get("mode", "fan_in"),
            arguments.get("distribution", "truncated_normal"))
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
        variance = scale / max(1.0, fan)
        if distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            nn.init.uniform_(tensor, -limit, limit)
        elif distribution == "truncated_normal":
            stddev = math.sqrt(variance) / TRUNCATED_UNIT_STDDEV
            nn.init.trunc_normal_(tensor, 0.0, stddev, -2 * stddev, 2 * stddev)
        else:
            nn.init.normal_(tensor, 0.0, math.sqrt(variance))
'''

BATCH_NORM = '''\
class BatchNormalization(nn.Module):
    """Batch normalization as LayerLab (and Keras) computes it.

    nn.BatchNorm2d(channels, momentum=1 - momentum, eps=epsilon) gives the same outputs; the one difference
    is the moving variance, which torch updates with the unbiased batch variance and LayerLab with the
    biased one (the one it normalizes with): moving = moving * momentum + batch * (1 - momentum).
    """

    def __init__(self, channels, momentum=0.99, epsilon=0.001, center=True, scale=True):
        super().__init__()
        self.momentum, self.epsilon = momentum, epsilon
        self.weight = nn.Parameter(torch.ones(channels)) if scale else None  # gamma
        self.bias = nn.Parameter(torch.zeros(channels)) if center else None  # beta
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))

    def forward(self, x):
        shape = (1, -1, 1, 1) if x.dim() == 4 else (1, -1)
        if self.training:
            dims = (0, 2, 3) if x.dim() == 4 else (0,)
            mean, var = x.mean(dims), x.var(dims, unbiased=False)
            with torch.no_grad():
                self.running_mean.mul_(self.momentum).add_((1 - self.momentum) * mean)
                self.running_var.mul_(self.momentum).add_((1 - self.momentum) * var)
        else:
            mean, var = self.running_mean, self.running_var
        y = (x - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + self.epsilon)
        if self.weight is not None:
            y = y * self.weight.reshape(shape)
        if self.bias is not None:
            y = y + self.bias.reshape(shape)
        return y
'''

AVG_POOL = '''\
def average_pool_padded(x, kernel_size, stride, padding):
    """Average pooling of x padded (left, right, top, bottom) with zeros, each window divided by how many real
    (unpadded) inputs it covers, as LayerLab and TensorFlow do; torch pads a pool only evenly."""
    total = F.avg_pool2d(F.pad(x, padding), kernel_size, stride, divisor_override=1)
    count = F.avg_pool2d(F.pad(torch.ones_like(x[:1, :1]), padding), kernel_size, stride, divisor_override=1)
    return total / count
'''

IDX_DATA = '''\
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """One IDX file (the MNIST format, gzipped or not) as a NumPy array."""
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\\x1f\\x8b"
    with (gzip.open if gzipped else open)(path, "rb") as stream:
        data = stream.read()
    zero, code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or code not in IDX_TYPES:
        raise SystemExit(f"{path}: not an IDX file")
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    array = np.frombuffer(data, dtype=IDX_TYPES[code], offset=4 + 4 * ndim)
    if array.size != math.prod(shape):
        raise SystemExit(f"{path}: holds {array.size} values; its header says {math.prod(shape)}")
    return array.reshape(shape).astype(np.dtype(IDX_TYPES[code]).newbyteorder("="))


def find_file(folder, prefixes):
    for prefix in prefixes:
        for path in sorted(Path(folder).glob(prefix + "*")):
            if path.is_file():
                return path
    raise SystemExit(f"{folder}: no {prefixes[0]}... file; expected the data set's four IDX files "
                     f"(train-images, train-labels, and t10k- or test- images and labels), gzipped or not")


def read_data(folder):
    """(train images, train labels, test images, test labels) from the four IDX files in folder."""
    roles = (("train-images",), ("train-labels",), ("t10k-images", "test-images"), ("t10k-labels", "test-labels"))
    return [read_idx(find_file(folder, prefixes)) for prefixes in roles]
'''

CIFAR_DATA = '''\
CIFAR_ARCHIVE = "cifar-10-binary.tar.gz"
CIFAR_TRAIN = [f"cifar-10-batches-bin/data_batch_{i}.bin" for i in range(1, 6)]
CIFAR_TEST = "cifar-10-batches-bin/test_batch.bin"


def read_data(folder):
    """(train images, train labels, test images, test labels) from CIFAR-10's binary archive in folder:
    records of one label byte and 3,072 pixel bytes (the red, green and blue planes, channel-first)."""
    batches = {}
    with tarfile.open(Path(folder) / CIFAR_ARCHIVE, "r:gz") as archive:
        for name in [*CIFAR_TRAIN, CIFAR_TEST]:
            table = np.frombuffer(archive.extractfile(name).read(), dtype=np.uint8).reshape(-1, 3073)
            batches[name] = table[:, 1:].reshape(-1, 3, 32, 32), table[:, 0].astype(np.int64)
    train_images = np.concatenate([batches[name][0] for name in CIFAR_TRAIN])
    train_labels = np.concatenate([batches[name][1] for name in CIFAR_TRAIN])
    return [train_images, train_labels, *batches[CIFAR_TEST]]
'''

SPLITS = '''\
def scaled(images):
    """uint8 pixels as float32 in [0, 1] (a division, so 255 is exactly 1, as in LayerLab); others as they are."""
    if images.dtype == np.uint8:
        return np.divide(images, np.float32(255), dtype=np.float32)
    return images.astype(np.float32)


def validation_count(num_train, validation):
    """LayerLab's rule: a count, a fraction, or by default min(5,000, a tenth of the training set)."""
    if validation is None:
        return min(5000, num_train // 10)
    if isinstance(validation, float) and 0 < validation < 1:
        return int(round(num_train * validation))
    return int(validation)


def load_splits(folder):
    """Train, validation and test tensors: images (N, *INPUT_SHAPE) float32, labels int64. Validation is the
    last examples of the training set, in order, as LayerLab takes it."""
    if folder is None:
        raise SystemExit(DATA_HELP)
    train_x, train_y, test_x, test_y = read_data(folder)
    if len(INPUT_SHAPE) == 3 and train_x.ndim == 3:  # (N, H, W) greyscale: one channel
        train_x, test_x = train_x[:, None], test_x[:, None]
    count = validation_count(len(train_y), VALIDATION)
    keep = len(train_y) - count
    arrays = (train_x[:keep], train_y[:keep], train_x[keep:], train_y[keep:], test_x, test_y)
    tensors = [torch.from_numpy(scaled(a) if i % 2 == 0 else a.astype(np.int64)) for i, a in enumerate(arrays)]
    return {"train": tensors[0:2], "validation": tensors[2:4], "test": tensors[4:6]}
'''

LOOP = '''\
def start_processes(force_cpu):
    """(rank, world size, device). Started by torchrun (RANK, WORLD_SIZE and LOCAL_RANK set), join the
    others: NCCL on GPUs, gloo on CPUs; else one process on the first GPU, or the CPU."""
    use_cuda = torch.cuda.is_available() and not force_cpu
    if not all(name in os.environ for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK")):
        return 0, 1, torch.device("cuda" if use_cuda else "cpu")
    device = torch.device("cpu")
    if use_cuda:
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
        torch.cuda.set_device(device)
    dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return dist.get_rank(), dist.get_world_size(), device


def batches(images, labels, batch_size, sampler):
    """The epoch's mini-batches, in the sampler's order."""
    order = torch.tensor(list(sampler), dtype=torch.int64)
    for start in range(0, len(order), batch_size):
        index = order[start:start + batch_size]
        yield images[index], labels[index]


@torch.no_grad()
def evaluate(model, images, labels, device, batch_size=500):
    """(mean loss, accuracy) in inference mode."""
    model.eval()
    total_loss, correct = 0.0, 0
    for start in range(0, len(labels), batch_size):
        x, y = images[start:start + batch_size].to(device), labels[start:start + batch_size].to(device)
        scores = model(x, return_logits=True)
        total_loss += float(loss_function(scores, y)) * len(y)
        correct += int((predictions(scores) == y).sum())
    return total_loss / len(labels), correct / len(labels)


def report(args, text, **values):
    """One line: words, or with --json one JSON object."""
    print(json.dumps(values) if args.json else text, flush=True)


def save_weights(model, path):
    """The weights as .safetensors, written whole or not at all (a temporary file, then a rename)."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    save_file({name: value.detach().cpu().contiguous() for name, value in model.state_dict().items()},
              str(temporary))
    os.replace(temporary, path)


def train(args, rank, world_size, device):
    splits = load_splits(args.data)
    torch.manual_seed(args.seed)  # the same initial weights in every process
    model = MODEL_CLASS().to(device)
    if args.weights:
        model.load_state_dict(load_file(args.weights, device=str(device)))
    trained = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None) \\
        if world_size > 1 else model
    torch.manual_seed(args.seed + rank)  # each process its own dropout masks
    optimizer = make_optimizer(model)
    train_x, train_y = splits["train"]
    # The batch is shared out among the processes, so it, and the learning rate with it, mean what they did
    # on one machine (DDP averages the gradients of the processes).
    batch_size = max(1, math.ceil(args.batch_size / world_size))
    if world_size > 1:
        sampler = DistributedSampler(range(len(train_y)), world_size, rank, shuffle=True, seed=args.seed)
    else:
        sampler = torch.randperm(len(train_y), generator=torch.Generator().manual_seed(args.seed)).tolist()
    step, started = 0, time.perf_counter()
    best_accuracy, best_state, epochs_without_improvement = None, None, 0
    for epoch in range(args.epochs):
        if world_size > 1:
            sampler.set_epoch(epoch)
        elif epoch:
            sampler = torch.randperm(len(train_y), generator=torch.Generator().manual_seed(args.seed + epoch)).tolist()
        trained.train()
        for images, labels in batches(train_x, train_y, batch_size, sampler):
            if args.steps is not None and step >= args.steps:
                break
            images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
            rate = learning_rate(step)
            for group in optimizer.param_groups:
                group["lr"] = rate
            scores = trained(images, return_logits=True)
            loss = loss_function(scores, labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            clip_gradients(model)
            optimizer.step()
            step += 1
            if step == 1 or step % args.log_every == 0:
                values = torch.stack([loss.detach(), (predictions(scores) == labels).float().mean()])
                if world_size > 1:  # the mean over the processes: the whole batch's
                    dist.all_reduce(values)
                    values /= world_size
                if rank == 0:
                    loss_value, accuracy = values.tolist()
                    report(args, f"epoch {epoch + 1} step {step}: loss {loss_value:.4f}, accuracy {accuracy:.4f}, "
                                 f"learning rate {rate:.6g}", step=step, epoch=epoch + 1, loss=loss_value,
                           accuracy=accuracy, learning_rate=rate)
        if len(splits["validation"][1]):
            val_loss, val_accuracy = evaluate(model, *splits["validation"], device)
            if rank == 0:
                report(args, f"epoch {epoch + 1}: validation loss {val_loss:.4f}, accuracy {val_accuracy:.4f}",
                       epoch=epoch + 1, validation_loss=val_loss, validation_accuracy=val_accuracy)
            if EARLY_STOPPING_PATIENCE is not None:  # every process sees the same weights, so decides alike
                if best_accuracy is None or val_accuracy > best_accuracy:
                    best_accuracy, epochs_without_improvement = val_accuracy, 0
                    best_state = {name: value.detach().clone() for name, value in model.state_dict().items()}
                else:
                    epochs_without_improvement += 1
                if epochs_without_improvement >= EARLY_STOPPING_PATIENCE:
                    model.load_state_dict(best_state)
                    break
        if args.steps is not None and step >= args.steps:
            break
    seconds = time.perf_counter() - started
    if rank == 0:
        test_loss, test_accuracy = evaluate(model, *splits["test"], device)
        report(args, f"test loss {test_loss:.4f}, accuracy {test_accuracy:.4f} after {step} steps, {seconds:.1f} s",
               steps=step, test_loss=test_loss, test_accuracy=test_accuracy, seconds=seconds)
    if args.save_every_rank:
        save_weights(model, Path(args.save).with_suffix(f".rank{rank}.safetensors"))
    if rank == 0 and args.save:
        save_weights(model, args.save)
        report(args, f"saved the trained weights in {args.save}", saved=str(args.save))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\\n\\n")[0])
    parser.add_argument("--data", default=DATA_FOLDER, help=f"the data set's folder (default: {DATA_FOLDER})")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help=f"default {EPOCHS}; 0 only evaluates")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                        help=f"examples per step, shared out among the processes (default {BATCH_SIZE})")
    parser.add_argument("--steps", type=int, default=MAX_STEPS, help="stop after this many steps")
    parser.add_argument("--seed", type=int, default=SEED, help=f"default {SEED}")
    parser.add_argument("--weights", help="start from these weights (.safetensors) instead of from scratch")
    parser.add_argument("--save", default=str(Path(__file__).with_name(TRAINED_WEIGHTS)),
                        help="where the trained weights go (default: %(default)s)")
    parser.add_argument("--save-every-rank", action="store_true",
                        help="every process also saves its own weights, as SAVE.rankN.safetensors")
    parser.add_argument("--log-every", type=int, default=100, help="report every this many steps")
    parser.add_argument("--json", action="store_true", help="report as one JSON object per line")
    parser.add_argument("--cpu", action="store_true", help="train on the CPU even where there is a GPU")
    args = parser.parse_args()
    rank, world_size, device = start_processes(args.cpu)
    try:
        train(args, rank, world_size, device)
    finally:
        if world_size > 1:
            dist.destroy_process_group()


if __name__ == "__main__":
    main()
'''
