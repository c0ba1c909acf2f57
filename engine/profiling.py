"""Where the time of a training step goes, node by node (for the GUI's profile view and for us).

    for row in engine.profile_step(net, images, labels):
        print(row.id, row.type, row.forward_ms, row.backward_ms)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NodeTiming:
    id: str
    type: str
    forward_ms: float
    backward_ms: float

    @property
    def total_ms(self) -> float:
        return self.forward_ms + self.backward_ms


def profile_step(network, images, labels, repeats: int = 3) -> list[NodeTiming]:
    """Mean per-node forward and backward milliseconds of a training step (after one warm-up step).

    Only timings are kept: the parameters' gradients are overwritten but no update is applied.
    """
    forward, backward = {}, {}
    head = network.output_head

    def one_step(record: bool):
        scores = network.forward(images, training=True, timings=forward if record else None,
                                 pre_activation=head.fused)
        _, dscores = head.loss(scores, head.targets(images, labels))  # an autoencoder's target: its input
        network.backward(dscores, input_grad=False, timings=backward if record else None)

    one_step(record=False)
    for _ in range(repeats):
        one_step(record=True)
    return [NodeTiming(node_id, network.layers[node_id].type_name, 1e3 * forward.get(node_id, 0.0) / repeats,
                       1e3 * backward.get(node_id, 0.0) / repeats) for node_id in network.order]
