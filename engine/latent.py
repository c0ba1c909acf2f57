"""The latent plane of an autoencoder: the narrowest node every path passes through, codes in and out of it.

    node = latent.find_bottleneck(net)              # e.g. "code", the Dense 2 of the dense autoencoder
    codes = latent.encode(net, test_images, node)   # (N, 2) host array: a scatter coloured by digit
    images = latent.decode(net, codes[:1], node)    # (1, 1, 28, 28): what that point of the plane looks like

``decode`` runs only the nodes after the bottleneck (``Network.forward_from``) and shows the output as people
see it: a final sigmoid applied, as ``predict`` returns it.
"""

from __future__ import annotations

import numpy as np

from engine import backend


def find_bottleneck(network) -> str | None:
    """The node with the fewest output values that every path from the input to the output passes through,
    other than the Input and the output themselves (the first in run order on a tie); None when no node is
    on every path (or the network is only an input and an output)."""
    candidates = [node for node in network.order
                  if node not in (network.input_id, network.output_id) and _on_every_path(network, node)]
    if not candidates:
        return None
    return min(candidates, key=lambda node: (network.shapes[node].output_size, network.order.index(node)))


def _on_every_path(network, node_id: str) -> bool:
    """Whether removing ``node_id`` disconnects the output from the input."""
    graph = network.graph
    seen, waiting = {network.input_id}, [network.input_id]
    while waiting:
        for consumer in graph.consumers[waiting.pop()]:
            if consumer != node_id and consumer not in seen:
                seen.add(consumer)
                waiting.append(consumer)
    return network.output_id not in seen


def encode(network, images, node_id: str, batch_size: int = 500) -> np.ndarray:
    """(N, size) host float32: the output of ``node_id`` for each image, in inference mode, flattened."""
    if node_id not in network.layers:
        raise ValueError(f"{network.name}: there is no node {node_id!r}")
    size = network.shapes[node_id].output_size
    codes = np.empty((len(images), size), dtype=np.float32)
    for start in range(0, len(images), batch_size):
        outputs = network.forward(images[start:start + batch_size], training=False, return_all=True)
        codes[start:start + batch_size] = backend.to_host(outputs[node_id]).reshape(-1, size)
    return codes


def decode(network, codes, node_id: str) -> np.ndarray:
    """(N, *output_shape) host array: the network's output (its activation applied) when ``node_id``'s output is
    ``codes`` (N, size) or (N, *that node's shape); a ValueError names the node when the design has a path
    around it (``Network.forward_from``)."""
    if node_id not in network.layers:
        raise ValueError(f"{network.name}: there is no node {node_id!r}")
    shape, size = tuple(network.shapes[node_id].output_shape), network.shapes[node_id].output_size
    codes = np.asarray(codes, dtype=network.dtype)
    flat = codes.ndim == 2 and codes.shape[1] == size
    if not flat and tuple(codes.shape[1:]) != shape:
        raise ValueError(f"{node_id}: codes must be N x {size} values; received shape {tuple(codes.shape)}")
    return backend.to_host(network.forward_from(node_id, codes.reshape(len(codes), *shape)))
