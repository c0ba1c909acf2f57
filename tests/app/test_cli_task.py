"""`layerlab train` and `layerlab evaluate` for networks that are not classifiers (issue 24): an autoencoder on
MNIST and a regression on toy:sine report their loss, mean squared and absolute errors (accuracy null in the
metrics), --input-noise and a project's "input_noise" reach the run; a classifier's figures are unchanged."""

import contextlib
import io
import json

import numpy as np
import pytest

import engine
from app import cli
from app.commands import train
from app.dashboard import run_data
from app.document.project_file import write_project
from tests.app.test_cli_train import run
from tests.engine.task_specs import dense_autoencoder, sine_regressor


def write_spec(path, spec) -> str:
    path.write_text(json.dumps(spec), encoding="utf-8")
    return str(path)


def records(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def autoencoder_run(tmp_path_factory):
    """A small dense autoencoder trained for 30 steps on MNIST with input noise, its metrics and its output."""
    folder = tmp_path_factory.mktemp("ae")
    spec = write_spec(folder / "ae.json", dense_autoencoder(hidden=32))
    model, metrics = folder / "ae.llmodel", folder / "metrics.jsonl"
    out, err = io.StringIO(), io.StringIO()  # (a module fixture cannot take capsys)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["train", spec, "--batch-size", "64", "--max-steps", "30", "--optimizer", "adam", "--lr",
                         "0.003", "--input-noise", "0.2", "--log-every", "10", "-o", str(model), "--metrics",
                         str(metrics), "--quiet"])
    return code, out.getvalue(), err.getvalue(), model, metrics


def test_train_reports_an_autoencoder_s_errors_and_no_accuracy(autoencoder_run):
    code, out, err, model, metrics = autoencoder_run
    assert code == 0, err
    assert "from the command line: adam lr=0.003, batch 64, input noise 0.2, at most 30 steps" in out.splitlines()[0]
    last = out.splitlines()[-1]
    assert "reached 30 steps" in last and "test loss 0." in last and "mean squared error 0." in last
    assert "accuracy" not in last
    lines = records(metrics)
    steps = [r for r in lines if r["event"] == "step"]
    assert [r["step"] for r in steps] == [10, 20, 30] and all(r["batch_accuracy"] is None for r in steps)
    assert steps[-1]["loss"] < steps[0]["loss"]
    test = lines[-1]
    assert test["event"] == "test" and test["accuracy"] is None and test["examples"] == 10_000
    assert 0 < test["mean_squared_error"] < 0.2 and 0 < test["mean_absolute_error"] < test["loss"]
    checkpoint = engine.load_checkpoint(model)
    assert checkpoint.metadata["trainer"]["config"]["input_noise"] == 0.2
    assert checkpoint.metadata["test_mean_squared_error"] == test["mean_squared_error"]
    assert "test_accuracy" not in checkpoint.metadata
    assert checkpoint.network.spec["target"] == "input"


def test_evaluate_reports_an_autoencoder_s_errors(autoencoder_run, capsys):
    model, metrics = autoencoder_run[3], autoencoder_run[4]
    code, out, err = run(["evaluate", str(model), "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    test = records(metrics)[-1]
    assert (result["kind"], result["accuracy"], result["examples"]) == ("error", None, 10_000)
    assert result["loss"] == pytest.approx(test["loss"], rel=1e-6)
    assert result["mean_squared_error"] == pytest.approx(test["mean_squared_error"], rel=1e-6)
    assert len(result["worst"]) == 5 and result["worst_errors"] == sorted(result["worst_errors"], reverse=True)
    assert "confusion_matrix" not in result
    code, out, err = run(["evaluate", str(model)], capsys)
    assert code == 0, err
    assert "binary cross-entropy against the input" in out and "mean squared error   0." in out
    assert "worst examples" in out and "accuracy" not in out


def test_a_regression_on_toy_sine_trains_and_evaluates(tmp_path, capsys):
    spec = write_spec(tmp_path / "sine.json", sine_regressor())
    model, metrics = tmp_path / "sine.llmodel", tmp_path / "metrics.jsonl"
    code, out, err = run(["train", spec, "--dataset", "toy:sine", "--epochs", "60", "--batch-size", "32", "--lr",
                          "0.01", "--seed", "4", "-o", str(model), "--metrics", str(metrics), "--quiet"], capsys)
    assert code == 0, err
    epochs = [r for r in records(metrics) if r["event"] == "epoch"]
    assert all(r["train_accuracy"] is None and r["val_accuracy"] is None for r in epochs)
    assert all(r["val_loss"] is not None for r in epochs)
    test = records(metrics)[-1]
    assert test["accuracy"] is None and test["mean_squared_error"] < 0.03  # the noise alone is 0.01
    assert test["loss"] == pytest.approx(test["mean_squared_error"], rel=1e-6)  # trained with the MSE itself

    code, out, err = run(["evaluate", str(model), "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    points = run_data.load_run_data("toy:sine", validation=train.TOY_VALIDATION, seed=4)  # the same test points
    outputs = engine.load(model).predict(points.test_images)
    assert result["dataset"] == "toy:sine" and result["examples"] == len(points.test_images)
    assert result["mean_squared_error"] == pytest.approx(float(((outputs - points.test_labels) ** 2).mean()),
                                                         rel=1e-5)
    assert result["mean_absolute_error"] == pytest.approx(float(np.abs(outputs - points.test_labels).mean()),
                                                          rel=1e-5)


def test_a_classifier_on_toy_sine_is_refused_in_words(tmp_path, capsys):
    classifier = {k: v for k, v in sine_regressor().items() if k != "loss"}
    code, _, err = run(["train", write_spec(tmp_path / "c.json", classifier), "--dataset", "toy:sine", "-o",
                        str(tmp_path / "m.llmodel")], capsys)
    assert code == 1 and "has no classes" in err and "mean_squared_error" in err and "Traceback" not in err


def test_a_classifier_s_test_line_has_accuracy_and_null_errors(tmp_path, capsys, softmax_spec):
    metrics = tmp_path / "metrics.jsonl"
    code, out, err = run(["train", softmax_spec, "--max-steps", "5", "--batch-size", "50", "-o",
                          str(tmp_path / "m.llmodel"), "--metrics", str(metrics), "-q"], capsys)
    assert code == 0, err
    test = records(metrics)[-1]
    assert test["accuracy"] > 0.2 and test["mean_squared_error"] is None and test["mean_absolute_error"] is None
    assert "test accuracy 0." in out.splitlines()[-1]
    assert all(isinstance(r["batch_accuracy"], float) for r in records(metrics) if r["event"] == "step")


def test_a_project_s_input_noise_setting_reaches_the_run(tmp_path, capsys):
    spec = dense_autoencoder(hidden=16)
    project = write_project(tmp_path / "ae.layerlab", spec, {node["id"]: (0.0, 90.0 * i)
                                                              for i, node in enumerate(spec["nodes"])},
                            {"dataset": "mnist", "input_noise": 0.3, "batch_size": 32})
    model = tmp_path / "m.llmodel"
    code, out, err = run(["train", str(project), "--max-steps", "2", "-o", str(model), "-q"], capsys)
    assert code == 0, err
    assert "from ae.layerlab: dataset mnist, batch 32, input noise 0.3" in out.splitlines()[0]
    assert engine.load_checkpoint(model).metadata["trainer"]["config"]["input_noise"] == 0.3
    with pytest.raises(SystemExit) as exit_:
        cli.main(["train", str(project), "--input-noise", "-1", "-o", str(model)])
    assert exit_.value.code == 2 and "--input-noise: expected a number >= 0" in capsys.readouterr().err


def test_predict_refuses_a_model_that_outputs_values(tmp_path, capsys):
    from PIL import Image

    regression = {"loss": "mean_squared_error", "nodes": [{"id": "input", "type": "Input", "shape": [1, 28, 28]},
                                                          {"id": "flatten", "type": "Flatten"},
                                                          {"id": "value", "type": "Dense", "units": 3}]}
    model = tmp_path / "values.llmodel"
    engine.save(engine.build(regression), model)
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(tmp_path / "digit.png")
    code, _, err = run(["predict", str(model), str(tmp_path / "digit.png")], capsys)
    assert code == 1 and "expected a classifier" in err and "not trained with cross-entropy" in err
