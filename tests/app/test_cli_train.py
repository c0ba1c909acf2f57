"""`layerlab train`: trains a network file, writes model and metrics, resumes exactly, refuses bad input clearly."""

import json

import numpy as np
import pytest

import engine
import resources
from app import cli


def run(args, capsys):
    code = cli.main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def softmax_spec():
    return str(resources.examples()["softmax-regression"])


def test_train_writes_a_model_and_metrics(tmp_path, capsys, softmax_spec):
    model, metrics = tmp_path / "model.llmodel", tmp_path / "metrics.jsonl"
    code, out, err = run(["train", softmax_spec, "--optimizer", "sgd", "--lr", "0.5", "--batch-size", "100",
                          "--max-steps", "60", "--output", str(model), "--metrics", str(metrics), "--quiet"], capsys)
    assert code == 0, err
    assert "reached 60 steps" in out and "test accuracy 0." in out
    checkpoint = engine.load_checkpoint(model)
    assert checkpoint.metadata["dataset"] == "mnist" and checkpoint.metadata["trainer"]["step"] == 60
    assert checkpoint.metadata["test_accuracy"] > 0.8
    records = [json.loads(line) for line in metrics.read_text().splitlines()]
    assert [r["step"] for r in records if r["event"] == "step"] == [10, 20, 30, 40, 50, 60]
    assert records[-2]["event"] == "finished" and records[-1]["event"] == "test"


def test_resume_continues_the_saved_run(tmp_path, capsys, softmax_spec):
    common = ["--optimizer", "adam", "--lr", "0.001", "--batch-size", "100", "--quiet"]
    straight, half, resumed = tmp_path / "straight.llmodel", tmp_path / "half.llmodel", tmp_path / "resumed.llmodel"
    assert run(["train", softmax_spec, *common, "--max-steps", "40", "-o", str(straight)], capsys)[0] == 0
    assert run(["train", softmax_spec, *common, "--max-steps", "20", "-o", str(half)], capsys)[0] == 0
    code, out, err = run(["train", "--resume", str(half), "--max-steps", "40", "--quiet", "-o", str(resumed)], capsys)
    assert code == 0, err
    for name, value in engine.load(straight).state_dict().items():
        np.testing.assert_array_equal(engine.load(resumed).state_dict()[name], value, err_msg=name)


def test_bad_inputs_are_one_line_errors(tmp_path, capsys, softmax_spec):
    code, _, err = run(["train", str(resources.examples()["toy-mlp"]), "--max-steps", "1", "-o",
                        str(tmp_path / "m.llmodel")], capsys)
    assert code == 1 and "takes 2 inputs but mnist images are 1x28x28" in err

    broken = tmp_path / "broken.json"
    broken.write_text('{"nodes": [')
    code, _, err = run(["train", str(broken)], capsys)
    assert code == 1 and "broken.json: not valid JSON" in err and "Traceback" not in err

    code, _, err = run(["train", softmax_spec, "--optimizer", "adamm", "--max-steps", "1", "-o",
                        str(tmp_path / "m.llmodel")], capsys)
    assert code == 2 and "unknown optimizer 'adamm'" in err

    code, _, err = run(["train", "--resume", str(tmp_path / "absent.llmodel")], capsys)
    assert code == 1 and "absent.llmodel: no such file" in err

    code, _, err = run(["train", softmax_spec, "--dataset", "nope"], capsys)
    assert code == 1 and "nope" in err
