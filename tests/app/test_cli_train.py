"""`layerlab train`: trains a network or project file, writes model and metrics, resumes exactly, refuses bad
input clearly; a project's settings apply unless a flag overrides them."""

import json
import re

import numpy as np
import pytest

import engine
import resources
from app import cli
from app.commands import train
from app.dashboard import run_data
from app.document.project_file import write_project


def run(args, capsys):
    code = cli.main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


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
    assert code == 1 and "input: the network reads 2 values per example" in err and "1x28x28 images" in err

    broken = tmp_path / "broken.json"
    broken.write_text('{"nodes": [')
    code, _, err = run(["train", str(broken)], capsys)
    assert code == 1 and "broken.json: is not valid JSON" in err and "Traceback" not in err

    code, _, err = run(["train", softmax_spec, "--optimizer", "adamm", "--max-steps", "1", "-o",
                        str(tmp_path / "m.llmodel")], capsys)
    assert code == 2 and "unknown optimizer 'adamm'" in err

    code, _, err = run(["train", "--resume", str(tmp_path / "absent.llmodel")], capsys)
    assert code == 1 and "absent.llmodel: no such file" in err

    code, _, err = run(["train", softmax_spec, "--dataset", "nope"], capsys)
    assert code == 1 and "nope" in err


# What the app's training panel writes into a project (TrainingSettings.project_settings), and a key from
# a later LayerLab that this one does not know.
APP_SETTINGS = {"dataset": "mnist", "epochs": 3, "batch_size": 100, "optimizer": {"name": "sgd", "lr": 0.5},
                "seed": 3, "l2": 0.0001, "early_stopping_patience": 2, "from_a_later_version": {"x": 1}}


def write_app_project(path, example="softmax-regression", **training):
    spec = json.loads(resources.examples()[example].read_text(encoding="utf-8"))
    layout = {node["id"]: (0.0, 90.0 * index) for index, node in enumerate(spec["nodes"])}
    return str(write_project(path, spec, layout, {**APP_SETTINGS, **training}))


def saved_config(path):
    checkpoint = engine.load_checkpoint(path)
    return checkpoint.metadata["dataset"], checkpoint.metadata["trainer"]["config"]


def test_a_project_trains_with_its_own_settings(tmp_path, capsys):
    project, model = write_app_project(tmp_path / "digits.layerlab"), tmp_path / "m.llmodel"
    code, out, err = run(["train", project, "--max-steps", "20", "-o", str(model), "--quiet"], capsys)
    assert code == 0, err
    assert out.splitlines()[0] == ("settings from digits.layerlab: dataset mnist, sgd lr=0.5, batch 100, 3 epochs, "
                                   "seed 3, l2 0.0001, patience 2; from the command line: at most 20 steps")
    dataset, config = saved_config(model)
    assert dataset == "mnist"
    assert config["optimizer"] == {"name": "sgd", "lr": 0.5}
    assert (config["epochs"], config["batch_size"], config["seed"], config["l2"]) == (3, 100, 3, 0.0001)
    assert (config["early_stopping_patience"], config["max_steps"]) == (2, 20)
    assert engine.load_checkpoint(model).metadata["test_accuracy"] > 0.6  # sgd at 0.5 learns in 20 steps


def test_a_flag_overrides_one_project_setting(tmp_path, capsys):
    project, model = write_app_project(tmp_path / "digits.layerlab"), tmp_path / "m.llmodel"
    code, out, err = run(["train", project, "--batch-size", "20", "--max-steps", "5", "-o", str(model), "-q"], capsys)
    assert code == 0, err
    assert out.splitlines()[0] == ("settings from digits.layerlab: dataset mnist, sgd lr=0.5, 3 epochs, seed 3, "
                                   "l2 0.0001, patience 2; from the command line: batch 20, at most 5 steps")
    _, config = saved_config(model)
    assert config["batch_size"] == 20
    assert config["optimizer"] == {"name": "sgd", "lr": 0.5} and (config["epochs"], config["seed"]) == (3, 3)


def test_another_optimizer_starts_from_its_own_defaults_and_a_flag_rescues_a_bad_value(tmp_path, capsys):
    project, model = write_app_project(tmp_path / "p.layerlab", epochs=0), tmp_path / "m.llmodel"
    code, _, err = run(["train", project, "--max-steps", "1", "-o", str(model)], capsys)
    assert code == 1
    assert err == (f"layerlab train: {project}: training settings: epochs must be a whole number from 1 to 1,000,000; "
                   f"received 0\n")

    code, out, err = run(["train", project, "--epochs", "1", "--optimizer", "adam", "--max-steps", "1",
                          "-o", str(model), "-q"], capsys)
    assert code == 0, err
    assert "from the command line: adam, 1 epoch, at most 1 step; by default: lr=0.001" in out.splitlines()[0]
    assert saved_config(model)[1]["optimizer"] == {"name": "adam"}  # Adam's own rate, not the project's SGD rate


def test_a_project_on_a_toy_set_trains_on_the_points_the_app_makes(tmp_path, capsys):
    project = write_app_project(tmp_path / "spiral.layerlab", "toy-mlp", dataset="toy:spiral", epochs=2,
                                batch_size=32, optimizer={"name": "adam", "lr": 0.02})
    code, out, err = run(["train", project, "-o", str(tmp_path / "m.llmodel"), "-q"], capsys)
    assert code == 0, err
    assert out.splitlines()[0].startswith("settings from spiral.layerlab: dataset toy:spiral, adam lr=0.02, batch 32")
    assert saved_config(tmp_path / "m.llmodel")[0] == "toy:spiral"
    app_data = run_data.load_run_data("toy:spiral", validation=train.TOY_VALIDATION, seed=3)
    trained_steps = engine.load_checkpoint(tmp_path / "m.llmodel").metadata["trainer"]["step"]
    assert trained_steps == 2 * -(-len(app_data.training.train_labels) // 32)  # the app's split of the same points


@pytest.mark.parametrize(("content", "problem"), [
    ('{"format": "layerlab-project", "network": ', "is not valid JSON"),
    ('{"format": "layerlab-project", "version": 9}', "was saved by a newer LayerLab"),
    ('{"format": "layerlab-project", "version": 1, "network": {"nodes": []}}', "has no nodes"),
])
def test_a_broken_project_is_a_one_line_error(tmp_path, capsys, content, problem):
    project = tmp_path / "broken.layerlab"
    project.write_text(content, encoding="utf-8")
    code, out, err = run(["train", str(project), "-o", str(tmp_path / "m.llmodel")], capsys)
    assert code == 1 and out == ""
    assert err.startswith(f"layerlab train: {project}: {problem}") and err.count("\n") == 1
    assert not re.search(r"Traceback|[A-Z]\w*(Error|Exception)\b", err)


@pytest.mark.parametrize(("training", "problem"), [
    ({"dataset": "nope"}, "training settings: unknown dataset 'nope'"),
    ({"optimizer": {"name": "adamm"}}, "training settings: unknown optimizer 'adamm'"),
    ({"validation": "most"}, "training settings: validation must be a number of examples or a fraction"),
    ({"dataset": "toy:spiral"}, "input: the network reads 1x28x28 images per example"),
])
def test_bad_training_settings_name_the_project(tmp_path, capsys, training, problem):
    project = write_app_project(tmp_path / "p.layerlab", **training)
    code, _, err = run(["train", project, "--max-steps", "1", "-o", str(tmp_path / "m.llmodel")], capsys)
    assert code == 1 and err.startswith(f"layerlab train: {project}: {problem}") and err.count("\n") == 1
    assert not re.search(r"Traceback|[A-Z]\w*(Error|Exception)\b", err)


@pytest.mark.parametrize(("example", "dataset"), [("toy-mlp", "mnist"), ("softmax-regression", "toy:spiral")])
def test_a_network_that_does_not_fit_the_data_is_refused_in_the_apps_words(tmp_path, capsys, example, dataset):
    spec = resources.examples()[example]
    code, _, err = run(["train", str(spec), "--dataset", dataset, "-o", str(tmp_path / "m.llmodel")], capsys)
    report = engine.infer_shapes(json.loads(spec.read_text(encoding="utf-8")))
    assert code == 1 and err == f"layerlab train: {spec}: {run_data.data_problem(report, dataset)}\n"


def test_the_data_a_run_reads_loads_without_qt():
    """``layerlab train`` reaches the app's data sets (toy sets too) without loading Qt."""
    import subprocess
    import sys

    code = ("import sys; from app.dashboard import run_data; run_data.load_run_data('toy:spiral', validation=0.1, "
            "seed=0); print(sorted(name for name in sys.modules if name.startswith('PySide6')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
