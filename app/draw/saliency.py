"""Why the network read a digit as it did: saliency maps over its input (NumPy and engine's public API only).

Three classic maps, all (height, width) float32 in [0, 1] with 1 at the most important pixel:

- ``sensitivity``: how much each input pixel moves the chosen class's logit (|d logit / d x|,
  Simonyan et al. 2013); sharp, at the input's own resolution, on the ink and around it.
- ``evidence``: the gradient times the input, positive part: the ink that raises the score.
- ``grad_cam``: which places the last convolution layer's feature maps, weighted by how much each
  map moves the logit, respond to (Selvaraju et al. 2017); smoother, at that layer's resolution,
  upsampled.

    network.forward(x, training=False, keep_for_backward=True, pre_activation=network.output_head.fused)
    gradient = input_gradient(network, class_index=3).reshape(28, 28)
    heat = sensitivity(gradient)  or  evidence(gradient, x.reshape(28, 28))
    tail = GradCamTail.for_network(network)                                 # None: no usable conv layer
    heat = grad_cam(tail, network.forward(x, return_all=True)[tail.layer_id][0], class_index=3, size=(28, 28))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import engine


def normalised(heat: np.ndarray) -> np.ndarray:
    """``heat`` scaled into [0, 1] by its maximum (all zeros stays all zeros; NaN and inf become 0).

    >>> normalised(np.array([0.0, 2.0, 4.0])).tolist()
    [0.0, 0.5, 1.0]
    """
    heat = np.nan_to_num(np.asarray(heat, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    heat = np.maximum(heat, 0.0)
    peak = float(heat.max(initial=0.0))
    return heat / peak if peak > 0 else heat


def class_gradient(class_index: int, outputs: int) -> np.ndarray:
    """d(score of class ``class_index``)/d(scores): the seed of back-propagation, (1, outputs).

    One score per class: a one-hot row. A single output (two classes) is the logit of class 1, so class 1's
    score is that logit and class 0's its negative.

    >>> class_gradient(2, 4).tolist(), class_gradient(0, 1).tolist()
    ([[0.0, 0.0, 1.0, 0.0]], [[-1.0]])
    """
    seed = np.zeros((1, outputs), dtype=np.float32)
    if outputs == 1:
        seed[0, 0] = 1.0 if class_index == 1 else -1.0
    else:
        seed[0, class_index] = 1.0
    return seed


def input_gradient(network: engine.Network, class_index: int) -> np.ndarray:
    """d logit / d input for the example of the last forward pass, which must have kept what backward needs
    (``keep_for_backward=True``) and, for a final softmax or sigmoid, stopped before it
    (``pre_activation=network.output_head.fused``); shaped like one example (signed, not normalised).

    The gradient of the logit rather than of the probability: near a confident answer the softmax
    saturates and its gradient vanishes everywhere, which says nothing about which pixels matter.
    """
    outputs = int(np.prod(network.output_shape))
    return np.asarray(network.backward(class_gradient(class_index, outputs)))[0]


def sensitivity(gradient: np.ndarray) -> np.ndarray:
    """|gradient|, normalised: where a change of ink would move the score most, on the ink or off it."""
    return normalised(np.abs(gradient))


def evidence(gradient: np.ndarray, image: np.ndarray) -> np.ndarray:
    """gradient x input, its positive part, normalised: the ink that raises the score, and by how much
    (zero off the ink, by construction; Shrikumar et al. 2016)."""
    return normalised(gradient * image)


@dataclass
class GradCamTail:
    """The part of a network after its last convolution layer, as a network of its own whose input is that
    layer's output: back-propagating through it gives d logit / d feature maps through the public API."""

    layer_id: str
    network: engine.Network

    @classmethod
    def for_network(cls, network: engine.Network) -> GradCamTail | None:
        """The tail after ``network``'s last Conv2D, or None when there is no Conv2D or a later node also reads
        an earlier one (a skip connection around it), so that its output alone does not decide the logits."""
        spec = network.spec
        nodes = {node["id"]: node for node in spec["nodes"]}
        convs = [node_id for node_id in network.order if nodes[node_id]["type"] == "Conv2D"]
        if not convs:
            return None
        layer_id = convs[-1]
        after = network.order[network.order.index(layer_id) + 1:]
        edges = [(source, target) for source, target in spec["edges"] if target in after]
        if not after or any(source not in after and source != layer_id for source, _ in edges):
            return None
        shape = list(network.shapes[layer_id].output_shape)
        inputs = [{"id": layer_id, "type": "Input", "shape": shape}]
        tail_spec = {"format": spec["format"], "version": spec["version"], "name": f"{network.name} after {layer_id}",
                     "nodes": inputs + [nodes[node_id] for node_id in after], "edges": [list(edge) for edge in edges]}
        tail = engine.Network(tail_spec, xp=np)
        tail.load_state_dict(tail_weights(tail, network.state_dict()))
        return cls(layer_id, tail)

    def load_weights(self, state_dict: dict) -> None:
        self.network.load_state_dict(tail_weights(self.network, state_dict))


def tail_weights(tail: engine.Network, state_dict: dict) -> dict:
    """The entries of a whole network's ``state_dict`` that belong to ``tail``'s nodes ("node.name" keys)."""
    wanted = set(tail.state_dict())
    return {name: value for name, value in state_dict.items() if name in wanted}


def grad_cam(tail: GradCamTail, feature_maps: np.ndarray, class_index: int, size: tuple[int, int]) -> np.ndarray:
    """Grad-CAM for ``feature_maps`` (the last conv layer's (C, H, W) output for one example), upsampled to
    ``size`` (height, width) and normalised: relu(sum over maps of map * mean gradient of the logit)."""
    network = tail.network
    network.forward(feature_maps[None], training=False, keep_for_backward=True,
                    pre_activation=network.output_head.fused)  # the logit's gradient, as ``input_gradient``
    gradients = np.asarray(network.backward(class_gradient(class_index, int(np.prod(network.output_shape)))))[0]
    weights = gradients.mean(axis=(1, 2))
    cam = np.tensordot(weights, feature_maps, axes=1)
    return normalised(upsample(np.maximum(cam, 0.0), size))


def upsample(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` (h, w) resized to ``size`` by bilinear interpolation between pixel centres."""
    height, width = size
    rows = _sample_positions(image.shape[0], height)
    columns = _sample_positions(image.shape[1], width)
    top, bottom, row_weight = rows
    left, right, column_weight = columns
    upper = image[top][:, left] * (1 - column_weight) + image[top][:, right] * column_weight
    lower = image[bottom][:, left] * (1 - column_weight) + image[bottom][:, right] * column_weight
    return (upper * (1 - row_weight[:, None]) + lower * row_weight[:, None]).astype(np.float32)


def _sample_positions(n_in: int, n_out: int):
    """For each output pixel: the input pixels before and after its centre, and the weight of the latter."""
    centres = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
    centres = np.clip(centres, 0, n_in - 1)
    before = np.floor(centres).astype(int)
    after = np.minimum(before + 1, n_in - 1)
    return before, after, (centres - before).astype(np.float32)
