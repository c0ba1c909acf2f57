"""`layerlab train --tensorboard DIR`: event files beside the --metrics JSON lines (scalars at every step, histograms,
the graph), where they are said at the end; a missing tensorboardX is one line naming the extra, before any work."""

from __future__ import annotations

import json
import sys

import pytest

import engine

pytest.importorskip("tensorboardX")

from tests.app.test_cli_train import run  # noqa: E402
from tests.engine.export import tensorboard_events as tb  # noqa: E402


def test_tensorboard_logs_beside_the_metrics(tmp_path, capsys, softmax_spec):
    logs, metrics, model = tmp_path / "tb logs", tmp_path / "metrics.jsonl", tmp_path / "model.llmodel"
    code, out, err = run(["train", softmax_spec, "--optimizer", "sgd", "--lr", "0.5", "--batch-size", "100",
                          "--max-steps", "30", "-o", str(model), "--metrics", str(metrics), "--tensorboard", str(logs),
                          "--quiet"], capsys)
    assert code == 0, err
    (run_dir,) = logs.iterdir()  # one new run folder
    assert f"TensorBoard logs in {run_dir}; to see them: tensorboard --logdir '{logs}'" in out
    assert [json.loads(line)["event"] for line in metrics.read_text().splitlines()][-1] == "test"  # still written

    events = tb.read_run(run_dir)
    scalars = tb.scalars(events)
    assert [step for step, _ in scalars["train/loss"]] == list(range(1, 31))
    losses = [value for _, value in scalars["train/loss"]]
    assert sum(losses[-5:]) < sum(losses[:5])
    network = engine.load(model)
    histograms = tb.histograms(events)
    assert set(histograms) == {f"weights/{name}" for name in network.state_dict()} | \
        {f"gradients/{name}" for name in network.parameters()}
    assert {step for series in histograms.values() for step, _ in series} == {30}  # the finish
    graph = tb.graph(events)
    assert [(node.name, node.op, list(node.input)) for node in graph.node] == \
        [(node_id, network.shapes[node_id].type, network.graph.inputs[node_id]) for node_id in network.order]
    settings = json.loads(tb.texts(events)["run/settings/text_summary"][0][1])
    assert settings["dataset"] == "mnist" and settings["batch_size"] == 100 and settings["max_steps"] == 30


def test_a_missing_tensorboardx_is_one_line_naming_the_extra(tmp_path, capsys, monkeypatch, softmax_spec):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # as if not installed
    model = tmp_path / "model.llmodel"
    code, out, err = run(["train", softmax_spec, "--max-steps", "5", "-o", str(model), "--tensorboard",
                          str(tmp_path / "logs"), "--quiet"], capsys)
    assert code == 2
    assert err == ("layerlab train: --tensorboard: TensorBoard logging needs the tensorboardX package, part of "
                   "LayerLab's 'export' extra: pip install 'layerlab[export]'\n")
    assert not model.exists() and not (tmp_path / "logs").exists()  # refused before any work


def test_a_tensorboard_folder_that_is_a_file_is_refused_first(tmp_path, capsys, softmax_spec):
    taken = tmp_path / "taken"
    taken.write_text("not a folder")
    code, _, err = run(["train", softmax_spec, "--max-steps", "5", "-o", str(tmp_path / "m.llmodel"),
                        "--tensorboard", str(taken), "--quiet"], capsys)
    assert code == 1
    assert err.strip() == f"layerlab train: cannot write --tensorboard {taken}: it is a file, not a folder"
    assert not (tmp_path / "m.llmodel").exists()
