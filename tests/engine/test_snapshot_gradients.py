"""Snapshots carry host copies of the gradients of the step just taken (for the dashboard's histograms)."""

import numpy as np

import engine
from engine.training import SnapshotEvent, Trainer, TrainingConfig, TrainingData
from tests.engine.specs import mlp


def test_snapshot_gradients_are_host_copies_of_the_last_step():
    rng = np.random.default_rng(0)
    images = rng.random((200, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, 200)
    snapshots = []
    net = engine.build(mlp(hidden=8))
    config = TrainingConfig(epochs=1, batch_size=50, snapshot_every_steps=2)
    Trainer(net, TrainingData(images, labels), config,
            callback=lambda e: snapshots.append(e) if isinstance(e, SnapshotEvent) else None).run()
    assert [s.step for s in snapshots] == [2, 4]
    first, last = snapshots[0].gradients, snapshots[-1].gradients
    assert set(first) == set(net.parameters())
    assert all(isinstance(g, np.ndarray) and g.shape == snapshots[0].weights[name].shape for name, g in first.items())
    assert np.abs(first["hidden.kernel"]).sum() > 0
    assert not np.array_equal(first["hidden.kernel"], last["hidden.kernel"])  # copies, not live views
    np.testing.assert_array_equal(last["hidden.kernel"], engine.backend.to_host(net.parameters()["hidden.kernel"].grad))
