"""`layerlab datasets`, `evaluate` and `predict`: run in-process through `app.cli.main`, a few as real processes.

The model under test is softmax regression with its weights set by hand to the per-class mean images
(a nearest-centroid classifier), so its accuracy can be worked out with NumPy alone.
"""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import engine
import resources
from app import cli

CENTROID_TRAIN_EXAMPLES = 5000


@pytest.fixture(scope="module")
def mnist():
    return engine.datasets.load("mnist")


@pytest.fixture(scope="module")
def centroid_weights(mnist):
    """Dense weights (784, 10) and bias (10,) scoring each class by closeness to its mean training image."""
    images = engine.datasets.to_float(mnist.train_images[:CENTROID_TRAIN_EXAMPLES]).reshape(CENTROID_TRAIN_EXAMPLES, -1)
    labels = mnist.train_labels[:CENTROID_TRAIN_EXAMPLES]
    means = np.stack([images[labels == k].mean(axis=0) for k in range(10)])
    # argmax_k x.m_k - |m_k|^2 / 2 is argmin_k |x - m_k|^2: the nearest class mean.
    return means.T.astype(np.float32), (-0.5 * (means**2).sum(axis=1)).astype(np.float32)


def save_softmax_regression(path, weights, metadata=None):
    spec = json.loads(resources.examples()["softmax-regression"].read_text(encoding="utf-8"))
    network = engine.build(spec)
    network.load_state_dict({"logits.kernel": weights[0], "logits.bias": weights[1]})
    return engine.save(network, path, metadata=metadata)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory, centroid_weights):
    return save_softmax_regression(tmp_path_factory.mktemp("models") / "centroid.llmodel", centroid_weights,
                                   metadata={"dataset": "mnist"})


@pytest.fixture(scope="module")
def expected_accuracy(mnist, centroid_weights):
    """The centroid classifier's MNIST test accuracy, computed with NumPy alone."""
    images = engine.datasets.to_float(mnist.test_images).reshape(len(mnist.test_labels), -1)
    predictions = (images @ centroid_weights[0] + centroid_weights[1]).argmax(axis=1)
    return float((predictions == mnist.test_labels).mean())


def run_cli(capsys, *args):
    code = cli.main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return code, out, err


def save_network(path, nodes):
    spec = {"format": "layerlab-network", "version": 1, "name": path.stem, "nodes": nodes}
    return engine.save(engine.build(spec), path)


# -- help ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["datasets", "evaluate", "predict"])
def test_every_command_has_help(capsys, command):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: layerlab {command}")


def test_main_help_lists_the_new_commands(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert all(command in out for command in ("datasets", "evaluate", "predict"))


# -- datasets --------------------------------------------------------------------------------------------

def test_datasets_lists_the_registry_as_a_table(capsys):
    code, out, _ = run_cli(capsys, "datasets")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "KIND", "SHAPE", "CLASSES", "OFFLINE", "TITLE"]
    mnist_row = next(line for line in lines if line.startswith("mnist "))
    assert mnist_row.split()[:5] == ["mnist", "bundled", "1x28x28", "10", "yes"]
    assert f"mnist: {resources.path('datasets/mnist')}" in lines
    for name in engine.datasets.REGISTRY:
        assert any(line.startswith(f"{name} ") for line in lines[1:])


def test_datasets_json_is_one_object_with_every_dataset(capsys):
    code, out, _ = run_cli(capsys, "datasets", "--json")
    assert code == 0
    listing = json.loads(out)["datasets"]
    assert [entry["name"] for entry in listing] == list(engine.datasets.REGISTRY)
    mnist_entry = listing[0]
    assert mnist_entry["shape"] == [1, 28, 28] and mnist_entry["num_classes"] == 10
    assert mnist_entry["class_names"] == list("0123456789")
    assert mnist_entry["available_offline"] is True
    assert mnist_entry["location"] == str(resources.path("datasets/mnist"))
    assert (mnist_entry["kind"], mnist_entry["sha256"]) == ("bundled", None)


# -- evaluate --------------------------------------------------------------------------------------------

def test_evaluate_prints_accuracy_loss_per_class_and_confusion(capsys, model_file, expected_accuracy):
    code, out, err = run_cli(capsys, "evaluate", model_file, "--dataset", "mnist")
    assert code == 0, err
    assert 0.75 < expected_accuracy < 0.9  # what a nearest-centroid classifier gets on MNIST
    accuracy_line = next(line for line in out.splitlines() if line.startswith("accuracy"))
    assert float(accuracy_line.split()[1]) == pytest.approx(expected_accuracy, abs=2e-4)
    assert "(softmax-regression, 7,850 parameters)" in out
    assert "test split, 10,000 examples" in out
    assert "per-class accuracy" in out and "confusion matrix (rows: true class, columns: predicted class)" in out
    matrix = out.split("columns: predicted class)\n")[1].splitlines()
    assert matrix[0].split() == [str(k) for k in range(10)]
    rows = [[int(cell) for cell in line.split()] for line in matrix[1:11]]
    assert [row[0] for row in rows] == list(range(10))
    assert sum(sum(row[1:]) for row in rows) == 10_000


def test_evaluate_json_has_the_keys_and_agrees_with_engine_evaluate(capsys, mnist, model_file, expected_accuracy):
    code, out, err = run_cli(capsys, "evaluate", model_file, "--dataset", "mnist", "--json", "--batch-size", "1234")
    assert code == 0, err
    assert len(out.strip().splitlines()) == 1
    result = json.loads(out)
    assert {"accuracy", "loss", "examples", "per_class_accuracy", "confusion_matrix", "dataset", "split",
            "model"} <= set(result)
    assert (result["dataset"], result["split"], result["model"]) == ("mnist", "test", str(model_file))
    assert result["accuracy"] == pytest.approx(expected_accuracy, abs=2e-4)

    reference = engine.evaluate(engine.load(model_file), engine.datasets.to_float(mnist.test_images),
                                mnist.test_labels)
    assert result["examples"] == 10_000
    assert result["accuracy"] == reference.accuracy
    assert result["loss"] == pytest.approx(reference.loss, rel=1e-6)
    assert result["confusion_matrix"] == reference.confusion.tolist()
    assert result["per_class_accuracy"] == pytest.approx(reference.per_class_accuracy.tolist())


def test_evaluate_takes_the_dataset_from_the_model_file_and_reads_the_validation_split(capsys, model_file):
    code, out, err = run_cli(capsys, "evaluate", model_file, "--split", "val", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert (result["dataset"], result["split"], result["examples"]) == ("mnist", "val", 5000)


def test_evaluate_needs_a_dataset_when_the_model_names_none(capsys, tmp_path, centroid_weights):
    anonymous = save_softmax_regression(tmp_path / "anonymous.llmodel", centroid_weights)
    code, out, err = run_cli(capsys, "evaluate", anonymous)
    assert code == 1 and out == ""
    assert err == f"layerlab evaluate: {anonymous} does not say which data set it was trained on; " \
                  "name one with --dataset\n"


def test_evaluate_refuses_a_model_whose_input_is_not_the_datasets_images(capsys, tmp_path):
    flat = save_network(tmp_path / "flat.llmodel", [{"id": "input", "type": "Input", "shape": [784]},
                                                    {"id": "logits", "type": "Dense", "units": 10}])
    code, _, err = run_cli(capsys, "evaluate", flat, "--dataset", "mnist")
    assert code == 1
    assert err.startswith(f"layerlab evaluate: {flat}: the model takes inputs of shape 784, "
                          f"but mnist images are 1x28x28 (channels x height x width)")


def test_evaluate_refuses_a_model_with_the_wrong_number_of_outputs(capsys, tmp_path):
    five = save_network(tmp_path / "five.llmodel", [{"id": "input", "type": "Input", "shape": [1, 28, 28]},
                                                    {"id": "flatten", "type": "Flatten"},
                                                    {"id": "logits", "type": "Dense", "units": 5}])
    code, _, err = run_cli(capsys, "evaluate", five, "--dataset", "fashion-mnist", "--no-download")
    assert code == 1
    # Checked before any data is read, whether or not this machine has Fashion-MNIST.
    assert err == f"layerlab evaluate: {five}: the model has 5 outputs, but fashion-mnist has 10 classes\n"


def test_evaluate_refuses_an_unknown_dataset(capsys, model_file):
    code, _, err = run_cli(capsys, "evaluate", model_file, "--dataset", "cifar-100")
    assert code == 1
    assert err == "layerlab evaluate: unknown dataset 'cifar-100'; expected one of mnist, fashion-mnist, " \
                  "kuzushiji-mnist, cifar-10, colour-shapes, or the path of a folder or file to import\n"


def test_evaluate_without_download_refuses_a_dataset_that_is_not_here(capsys, monkeypatch, tmp_path, model_file):
    monkeypatch.setenv(engine.datasets.DATA_DIR_ENV, str(tmp_path))  # an empty download folder
    code, out, err = run_cli(capsys, "evaluate", model_file, "--dataset", "kmnist", "--no-download")
    assert code == 1 and out == ""
    assert err.startswith("layerlab evaluate: dataset kuzushiji-mnist is not on this machine and --no-download")


@pytest.mark.parametrize("damage", ["garbage", "truncated", "missing"])
def test_evaluate_refuses_a_bad_model_file_naming_it(capsys, tmp_path, model_file, damage):
    bad = tmp_path / "bad.llmodel"
    if damage == "garbage":
        bad.write_bytes(b"not a model at all")
    elif damage == "truncated":
        bad.write_bytes(model_file.read_bytes()[:5000])
    code, out, err = run_cli(capsys, "evaluate", bad, "--dataset", "mnist")
    assert code == 1 and out == ""
    assert err.startswith(f"layerlab evaluate: {bad}: ")
    assert len(err.splitlines()) == 1


def test_a_corrupt_model_file_gives_one_line_and_no_traceback_from_the_real_command(tmp_path):
    bad = tmp_path / "corrupt.llmodel"
    bad.write_bytes(b"PK\x03\x04 this zip ends here")
    result = subprocess.run([sys.executable, "-m", "app.cli", "evaluate", str(bad), "--dataset", "mnist", "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"layerlab evaluate: {bad}: not a LayerLab model file")
    assert len(result.stderr.splitlines()) == 1


# -- predict ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def digit_files(tmp_path_factory, mnist):
    """The first MNIST test digit as MNIST draws it (white on black), and as ink on paper, larger, as a JPEG."""
    folder = tmp_path_factory.mktemp("digits")
    digit = mnist.test_images[0, 0]
    Image.fromarray(digit).save(folder / "digit.png")
    Image.fromarray(255 - digit).resize((112, 112), Image.Resampling.BILINEAR).save(folder / "on-paper.jpg")
    # Black ink on a transparent background, as drawing apps save it; viewers show it on white.
    rgba = np.zeros((28, 28, 4), dtype=np.uint8)
    rgba[..., 3] = digit
    Image.fromarray(rgba, mode="RGBA").save(folder / "transparent.png")
    return folder, int(mnist.test_labels[0])


def test_predict_reads_a_digit_and_its_inverted_copy_alike(capsys, model_file, digit_files):
    folder, label = digit_files
    code, out, err = run_cli(capsys, "predict", model_file, folder / "digit.png", folder / "on-paper.jpg",
                             folder / "transparent.png")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"{folder / 'digit.png'}: {label}"
    assert lines[4] == f"{folder / 'on-paper.jpg'}: {label}  (inverted: dark ink on a light background)"
    assert lines[8] == f"{folder / 'transparent.png'}: {label}  (inverted: dark ink on a light background)"
    assert len(lines) == 12  # three images, each a heading and the default top 3
    probabilities = [float(line.split()[1]) for line in lines[1:4]]
    assert probabilities == sorted(probabilities, reverse=True) and probabilities[0] > 0.5


def test_predict_json_gives_probabilities_class_names_and_the_inversion(capsys, model_file, digit_files, mnist):
    folder, label = digit_files
    code, out, err = run_cli(capsys, "predict", model_file, folder / "digit.png", folder / "on-paper.jpg",
                             "--json", "--top", "10")
    assert code == 0, err
    result = json.loads(out)
    assert result["model"] == str(model_file)
    assert result["class_names"] == list("0123456789")
    plain, paper = result["predictions"]
    assert (plain["inverted"], paper["inverted"]) == (False, True)
    assert plain["top"][0]["class"] == paper["top"][0]["class"] == label
    assert plain["top"][0]["name"] == str(label)
    assert sum(entry["probability"] for entry in plain["top"]) == pytest.approx(1.0)
    # The exact input MNIST gives: same probabilities as the network's own softmax of its logits.
    logits = engine.load(model_file).predict(engine.datasets.to_float(mnist.test_images[:1]))
    expected = engine.ops.softmax(logits.astype(np.float64), axis=1)[0]
    assert [entry["probability"] for entry in plain["top"]] == pytest.approx(np.sort(expected)[::-1], abs=1e-6)


def test_predict_names_classes_by_index_without_a_dataset_in_the_model(capsys, tmp_path, centroid_weights,
                                                                      digit_files):
    folder, label = digit_files
    anonymous = save_softmax_regression(tmp_path / "anonymous.llmodel", centroid_weights)
    code, out, err = run_cli(capsys, "predict", anonymous, folder / "digit.png", "--json", "--top", "1")
    assert code == 0, err
    result = json.loads(out)
    assert result["class_names"] is None
    assert result["predictions"][0]["top"] == [{"class": label, "name": str(label),
                                                "probability": pytest.approx(result["predictions"][0]["top"][0]
                                                                             ["probability"])}]


def test_predict_never_inverts_when_told_not_to(capsys, model_file, digit_files):
    folder, _ = digit_files
    code, out, _ = run_cli(capsys, "predict", model_file, folder / "on-paper.jpg", "--invert", "never", "--json")
    assert code == 0
    assert json.loads(out)["predictions"][0]["inverted"] is False


@pytest.mark.parametrize("problem", ["not an image", "truncated", "missing", "folder"])
def test_predict_refuses_an_unreadable_image_naming_it(capsys, tmp_path, model_file, digit_files, problem):
    folder, _ = digit_files
    bad = tmp_path / "bad.png"
    if problem == "not an image":
        bad.write_text("print('images are data, never code')")
    elif problem == "truncated":
        big = Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8))
        big.save(bad)
        bad.write_bytes(bad.read_bytes()[:600])
    elif problem == "folder":
        bad.mkdir()
    code, out, err = run_cli(capsys, "predict", model_file, folder / "digit.png", bad)
    assert code == 1
    assert out == ""  # nothing printed for the good image either: every image is read first
    assert err.startswith(f"layerlab predict: {bad}: ")
    assert len(err.splitlines()) == 1


def test_predict_refuses_a_model_that_does_not_take_images(capsys, tmp_path, digit_files):
    folder, _ = digit_files
    toy = save_network(tmp_path / "toy.llmodel",
                       json.loads(resources.examples()["toy-mlp"].read_text(encoding="utf-8"))["nodes"])
    code, _, err = run_cli(capsys, "predict", toy, folder / "digit.png")
    assert code == 1
    assert err == f"layerlab predict: {toy}: predict reads images, so the model must take 1 (grayscale) or 3 (RGB) " \
                  "channels x height x width; it takes 2\n"


def test_an_unreadable_image_gives_one_line_and_no_traceback_from_the_real_command(tmp_path, model_file):
    bad = tmp_path / "photo.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 a JPEG that stops here")
    result = subprocess.run([sys.executable, "-m", "app.cli", "predict", str(model_file), str(bad)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.startswith(f"layerlab predict: {bad}: ")
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
