"""engine.export.tensorboard_log: a real (short) training run with the logger as the Trainer's callback, read back
from the event files with tensorboardX's own protos: scalars at the trainer's global steps, a histogram of every
weight and gradient, the design as the graph, the design and settings as text; files only under log_dir."""

from __future__ import annotations

import json
import re
import sys

import numpy as np
import pytest

pytest.importorskip("tensorboardX")

import engine  # noqa: E402
from engine.export.extras import MissingExtraError  # noqa: E402
from engine.export.tensorboard_log import TensorBoardLogger, tensorboard_available  # noqa: E402
from tests.engine.export import tensorboard_events as tb  # noqa: E402
from tests.engine.export.conftest import dag_spec  # noqa: E402

TRAIN, VALIDATION, BATCH, EPOCHS = 500, 200, 50, 3
STEPS_PER_EPOCH = TRAIN // BATCH


def train(network, logger, mnist_test_subset, **config):
    images, labels = mnist_test_subset
    data = engine.training.TrainingData(images[:TRAIN], labels[:TRAIN], images[TRAIN:TRAIN + VALIDATION],
                                        labels[TRAIN:TRAIN + VALIDATION])
    settings = {"epochs": EPOCHS, "batch_size": BATCH, "optimizer": {"name": "adam", "lr": 3e-3},
                "snapshot_every_steps": None, **config}
    return engine.training.Trainer(network, data, engine.training.TrainingConfig(**settings), callback=logger).run()


@pytest.fixture(scope="module")
def logged_run(tmp_path_factory, mnist_test_subset):
    """A 3-epoch run of the branching export design on 500 MNIST images, logged under a fresh folder."""
    log_dir = tmp_path_factory.mktemp("tensorboard")
    network = engine.build(dag_spec(), seed=3)
    logger = TensorBoardLogger(log_dir, network, settings={"dataset": "mnist", "batch_size": BATCH})
    final = train(network, logger, mnist_test_subset)
    return log_dir, logger, network, final, tb.read_run(logger.run_dir)


def test_step_and_epoch_scalars_at_the_trainers_global_steps(logged_run):
    _, logger, _, final, events = logged_run
    assert final.reason == "completed" and logger.closed
    found = tb.scalars(events)
    steps = list(range(1, EPOCHS * STEPS_PER_EPOCH + 1))
    for tag in ("train/loss", "train/accuracy", "train/learning_rate"):
        assert [step for step, _ in found[tag]] == steps, tag
    epoch_ends = [STEPS_PER_EPOCH * (epoch + 1) for epoch in range(EPOCHS)]
    for tag in ("epoch/train_loss", "epoch/train_accuracy", "epoch/val_loss", "epoch/val_accuracy", "epoch/seconds"):
        assert [step for step, _ in found[tag]] == epoch_ends, tag
    losses = [value for _, value in found["train/loss"]]
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 0.3  # it learnt, and the log shows it
    epoch_losses = [value for _, value in found["epoch/train_loss"]]
    assert epoch_losses == sorted(epoch_losses, reverse=True)
    assert all(value == pytest.approx(3e-3) for _, value in found["train/learning_rate"])
    assert all(0 < value < 60 for _, value in found["epoch/seconds"])
    assert all(0 <= value <= 1 for _, value in found["epoch/val_accuracy"])


def test_a_histogram_of_every_weight_and_gradient(logged_run):
    _, _, network, _, events = logged_run
    found = tb.histograms(events)
    weights = {f"weights/{name}" for name in network.state_dict()}  # BatchNorm's moving statistics included
    gradients = {f"gradients/{name}" for name in network.parameters()}
    assert set(found) == weights | gradients
    last_step = EPOCHS * STEPS_PER_EPOCH
    kernel = network.state_dict()["hidden.kernel"]
    step, histogram = found["weights/hidden.kernel"][-1]
    assert step == last_step and histogram.num == kernel.size
    assert histogram.min == pytest.approx(kernel.min()) and histogram.max == pytest.approx(kernel.max())
    assert [step for step, _ in found["gradients/output.kernel"]] == [STEPS_PER_EPOCH * (e + 1) for e in range(EPOCHS)]


def test_the_graph_is_the_design(logged_run):
    _, _, network, _, events = logged_run
    graph = tb.graph(events)
    spec = dag_spec()
    expected_inputs = {node["id"]: [source for source, target in spec["edges"] if target == node["id"]]
                       for node in spec["nodes"]}
    assert {node.name: list(node.input) for node in graph.node} == expected_inputs
    assert {node.name: node.op for node in graph.node} == {node["id"]: node["type"] for node in spec["nodes"]}
    nodes = {node.name: node for node in graph.node}
    conv = nodes["conv_b"].attr
    assert conv["filters"].s == b"4" and conv["kernel_size"].s == b"5" and conv["use_bias"].s == b"false"
    assert conv["params"].i == network.shapes["conv_b"].params
    shape = nodes["join"].attr["_output_shapes"].list.shape[0]
    assert [dim.size for dim in shape.dim] == [-1, 7, 28, 28]


def test_the_design_and_settings_as_text(logged_run):
    _, _, network, final, events = logged_run
    found = tb.texts(events)
    assert json.loads(found["design/text_summary"][0][1]) == network.spec
    assert json.loads(found["run/settings/text_summary"][0][1]) == {"dataset": "mnist", "batch_size": BATCH}
    assert found["run/end/text_summary"] == [(final.step, final.message)]


def test_files_only_in_a_dated_folder_under_log_dir(logged_run):
    log_dir, logger, _, _, _ = logged_run
    assert logger.run_dir.parent == log_dir
    assert re.fullmatch(r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d", logger.run_dir.name)
    written = [path for path in log_dir.rglob("*") if path.is_file()]
    assert written and all(path.parent == logger.run_dir and path.name.startswith("events.out.tfevents.")
                           for path in written)


def test_a_run_name_is_one_safe_folder_and_never_reused(tmp_path):
    first = TensorBoardLogger(tmp_path / "logs", run_name="../run 1: seed-cnn, adam lr=0.001")
    second = TensorBoardLogger(tmp_path / "logs", run_name="../run 1: seed-cnn, adam lr=0.001")
    first.close(), second.close()
    assert first.run_dir == tmp_path / "logs" / "run 1 seed-cnn, adam lr=0.001"
    assert second.run_dir == tmp_path / "logs" / "run 1 seed-cnn, adam lr=0.001-2"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["logs"]


def test_without_a_network_snapshots_give_the_histograms(tmp_path, mnist_test_subset):
    network = engine.build(dag_spec(), seed=4)
    logger = TensorBoardLogger(tmp_path, histogram_interval_s=0.0)  # no design: no graph, no epoch-end histograms
    train(network, logger, mnist_test_subset, epochs=1, snapshot_every_steps=4)
    events = tb.read_run(logger.run_dir)
    assert tb.graph(events) is None
    assert [step for step, _ in tb.histograms(events)["weights/conv_a.kernel"]] == [4, 8]
    assert [step for step, _ in tb.scalars(events)["epoch/train_loss"]] == [STEPS_PER_EPOCH]


def test_a_missing_tensorboardx_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # as if not installed
    assert not tensorboard_available()
    with pytest.raises(MissingExtraError) as raised:
        TensorBoardLogger(tmp_path / "logs")
    assert str(raised.value) == ("TensorBoard logging needs the tensorboardX package, part of LayerLab's 'export' "
                                 "extra: pip install 'layerlab[export]'")
    assert not (tmp_path / "logs").exists()
