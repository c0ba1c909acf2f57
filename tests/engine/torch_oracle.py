"""Runs a LayerLab network in PyTorch, with the same weights, as an independent reference.

Each node of the spec is mapped onto ``torch.nn.functional``; the weights are the engine's own
parameter arrays, so any difference is a difference in the math.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from engine import backend


def _same_pads(size, kernel, stride):
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _pad_for(config, x, kernel, strides):
    """Explicit (left, right, top, bottom) pads for F.pad, following the spec's padding rule."""
    padding = config["padding"]
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        top, bottom = _same_pads(x.shape[2], kernel[0], strides[0])
        left, right = _same_pads(x.shape[3], kernel[1], strides[1])
        return (left, right, top, bottom)
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    return (pw, pw, ph, ph)


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


ACTIVATIONS = {
    None: lambda t: t, "linear": lambda t: t, "relu": F.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
    "leaky_relu": lambda t: F.leaky_relu(t, 0.2), "elu": F.elu, "gelu": F.gelu,
    "softmax": lambda t: torch.softmax(t, dim=1),
}


def torch_parameters(net):
    """{name: leaf tensor requiring grad} holding copies of the engine's parameters."""
    return {name: torch.tensor(backend.to_host(p.value), requires_grad=True) for name, p in net.parameters().items()}


def torch_forward(net, x, params, training=True):
    """The network's output in PyTorch (dropout is not modelled: use rate 0 or inference)."""
    outputs = {}
    for node_id in net.order:
        config = net.layers[node_id].get_config()
        kind = config["type"]
        inputs = [outputs[s] for s in net.graph.inputs[node_id]] or [x]
        h = inputs[0]
        p = {k.split(".", 1)[1]: v for k, v in params.items() if k.split(".", 1)[0] == node_id}
        if kind == "Input" or kind == "Dropout":
            out = h
        elif kind == "Dense":
            out = h @ p["kernel"] + (p["bias"] if "bias" in p else 0)
            out = ACTIVATIONS[config["activation"]](out)
        elif kind == "Conv2D":
            kernel, strides = _pair(config["kernel_size"]), _pair(config["strides"])
            padded = F.pad(h, _pad_for(config, h, kernel, strides))
            out = ACTIVATIONS[config["activation"]](F.conv2d(padded, p["kernel"], p.get("bias"), stride=strides))
        elif kind in ("MaxPooling2D", "AveragePooling2D"):
            pool = _pair(config["pool_size"])
            strides = pool if config["strides"] is None else _pair(config["strides"])
            pads = _pad_for(config, h, pool, strides)
            if kind == "MaxPooling2D":
                out = F.max_pool2d(F.pad(h, pads, value=-math.inf), pool, strides)
            else:
                ones = F.pad(torch.ones_like(h[:1, :1]), pads)
                out = F.avg_pool2d(F.pad(h, pads), pool, strides) / F.avg_pool2d(ones, pool, strides)
        elif kind == "Flatten":
            out = h.reshape(h.shape[0], -1)
        elif kind == "Activation":
            out = ACTIVATIONS[config["activation"]](h)
        elif kind == "BatchNormalization":
            out = F.batch_norm(h, None, None, p.get("gamma"), p.get("beta"), training=True, eps=config["epsilon"])
        elif kind == "Add":
            out = sum(inputs[1:], inputs[0])
        elif kind == "Concatenate":
            out = torch.cat(inputs, dim=config["axis"] if config["axis"] > 0 else config["axis"])
        else:
            raise NotImplementedError(kind)
        outputs[node_id] = out
    return outputs[net.output_id]


def to_numpy(tensor):
    return tensor.detach().numpy() if isinstance(tensor, torch.Tensor) else np.asarray(tensor)
