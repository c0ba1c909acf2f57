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
    elif name == "orthogonal":  # a recurrent kernel; torch's layout is Keras's transposed: orthogonal alike
        nn.init.orthogonal_(tensor, gain=arguments.get("gain", 1.0))
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
    """Train, validation and test tensors: images (N, *INPUT_SHAPE) float32, labels LABEL_TYPE (int64 classes,
    or a regression's float32 targets). Validation is the last examples of the training set, in order, as
    LayerLab takes it."""
    if folder is None:
        raise SystemExit(DATA_HELP)
    train_x, train_y, test_x, test_y = read_data(folder)
    if len(INPUT_SHAPE) == 3 and train_x.ndim == 3:  # (N, H, W) greyscale: one channel
        train_x, test_x = train_x[:, None], test_x[:, None]
    count = validation_count(len(train_y), VALIDATION)
    keep = len(train_y) - count
    arrays = (train_x[:keep], train_y[:keep], train_x[keep:], train_y[keep:], test_x, test_y)
    tensors = [torch.from_numpy(scaled(a) if i % 2 == 0 else a.astype(LABEL_TYPE)) for i, a in enumerate(arrays)]
    return {"train": tensors[0:2], "validation": tensors[2:4], "test": tensors[4:6]}
'''
