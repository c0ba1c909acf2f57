"""`layerlab datasets import/remove`, the listing's imported sets, and `train`/`evaluate` on an imported set or a
PATH imported on the fly; a project that names an imported set by checksum. Small PNG folders written here."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import engine
from app import cli
from app.document.project_file import write_project


def run(capsys, *args):
    code = cli.main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def pets_folder(root, classes=("cat", "dog"), per_class=6, size=(8, 8)):
    """Class folders of small grey PNGs, each class a clearly different brightness."""
    rng = np.random.default_rng(0)
    for label, name in enumerate(classes):
        (root / name).mkdir(parents=True, exist_ok=True)
        for k in range(per_class):
            pixels = np.clip(rng.normal(60 + 120 * label, 20, size), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / name / f"{k}.png")
    return root


def tiny_spec(path, shape=(1, 8, 8), classes=2):
    spec = {"format": "layerlab-network", "version": 1, "name": "tiny",
            "nodes": [{"id": "input", "type": "Input", "shape": list(shape)}, {"id": "flatten", "type": "Flatten"},
                      {"id": "logits", "type": "Dense", "units": classes}]}
    path.write_text(json.dumps(spec))
    return path


def test_import_list_replace_and_remove(tmp_path, capsys):
    folder = pets_folder(tmp_path / "pets")
    (folder / "cat" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    code, out, err = run(capsys, "datasets", "import", folder, "--name", "my pets", "--title", "Cats and dogs")
    assert code == 0, err
    stored = engine.datasets.imported_dir() / "my pets"
    assert "imported" in out and "'my pets'" in out
    assert "2 classes, 10 training and 2 test images of 1x8x8" in out
    assert "per class: cat 6, dog 6" in out
    assert "skipped 1 file:" in out and "broken.png: skipped (" in out
    assert f"stored in {stored} (SHA-256 " in out and "use it with --dataset 'my pets'" in out
    assert "importing" in err and "100%" in err  # the progress line

    code, out, _ = run(capsys, "datasets")
    row = next(line for line in out.splitlines() if line.startswith("my pets "))
    assert row.split()[2:7] == ["imported", "1x8x8", "2", "yes", "Cats"]
    listing = {entry["name"]: entry for entry in json.loads(run(capsys, "datasets", "--json")[1])["datasets"]}
    assert listing["my pets"]["kind"] == "imported" and len(listing["my pets"]["sha256"]) == 64
    assert listing["my pets"]["location"] == str(stored)

    code, _, err = run(capsys, "datasets", "import", folder, "--name", "MY PETS")
    assert code == 2 and "a data set named 'my pets' is already imported" in err and "--replace" in err
    code, out, err = run(capsys, "datasets", "import", folder, "--name", "my pets", "--size", "4x6", "--replace")
    assert code == 0, err
    assert engine.datasets.load("my pets").info.shape == (1, 4, 6)

    code, out, err = run(capsys, "datasets", "remove", "my pets")
    assert code == 0 and "removed the imported data set 'my pets'" in out
    assert not stored.exists()
    code, _, err = run(capsys, "datasets", "remove", "my pets")
    assert code == 1 and "no imported data set named 'my pets'" in err
    code, _, err = run(capsys, "datasets", "remove", "MNIST")
    assert code == 2 and err == "layerlab datasets: mnist is a built-in data set; only imported sets can be removed\n"


def test_a_damaged_imported_set_is_listed_with_how_to_remove_it(tmp_path, capsys):
    broken = engine.datasets.imported_dir() / "old pets"
    broken.mkdir(parents=True)
    (broken / "manifest.json").write_text('{"format": "something else"}')
    code, out, _ = run(capsys, "datasets")
    assert code == 0
    line = next(line for line in out.splitlines() if line.startswith("old pets: damaged, not usable ("))
    assert "manifest.json: expected format 'layerlab-imported-dataset'" in line
    assert line.endswith("; remove it with: layerlab datasets remove 'old pets'")
    damaged = json.loads(run(capsys, "datasets", "--json")[1])["damaged"]
    assert [entry["name"] for entry in damaged] == ["old pets"]
    code, out, _ = run(capsys, "datasets", "remove", "old pets")
    assert code == 0 and not broken.exists()


@pytest.mark.parametrize(("make", "problem"), [
    (lambda p: p.mkdir(), "the folder is empty"),
    (lambda p: pets_folder(p, classes=("cat",)), "found one class folder ('cat'); a data set needs at least two "
                                                 "classes"),
    (lambda p: p.write_text("label,a,b,c,d\n0,1,2,3,4\nx,1,2,3,4\n"), "line 3, column 1 (the label): expected a "
                                                                        "class index"),
])
def test_a_bad_import_is_one_line_naming_the_file_and_stores_nothing(tmp_path, capsys, make, problem):
    target = tmp_path / "data"
    make(target)
    code, out, err = run(capsys, "datasets", "import", target, "--name", "bad")
    assert code == 1
    assert err.startswith(f"layerlab datasets: {target}") and problem in err and "Error" not in err
    assert not list(engine.datasets.imported_dir().iterdir())


@pytest.mark.parametrize(("name", "problem"), [
    ("mnist", "is the name of the built-in data set mnist"),
    ("a/b", "expected letters, digits, spaces and . _ - only"),
])
def test_a_bad_name_is_refused_before_importing(tmp_path, capsys, name, problem):
    code, _, err = run(capsys, "datasets", "import", pets_folder(tmp_path / "pets"), "--name", name)
    assert code == 2 and problem in err and "importing" not in err


@pytest.mark.parametrize(("args", "problem"), [
    (["--size", "big"], "expected HEIGHTxWIDTH with sides from 1 to 4096"),
    (["--color", "cmyk"], "invalid choice: 'cmyk'"),
])
def test_bad_import_options_are_usage_errors(tmp_path, capsys, args, problem):
    with pytest.raises(SystemExit) as caught:
        cli.main(["datasets", "import", str(tmp_path), *args])
    assert caught.value.code == 2 and problem in capsys.readouterr().err


def test_train_on_a_path_imports_it_for_the_run_only_and_evaluate_reads_it_again(tmp_path, capsys):
    folder = pets_folder(tmp_path / "pets", per_class=20)
    spec, model = tiny_spec(tmp_path / "tiny.json"), tmp_path / "m.llmodel"
    code, out, err = run(capsys, "train", spec, "--dataset", folder, "--epochs", "3", "--batch-size", "8",
                         "--optimizer", "sgd", "--lr", "0.5", "-o", model, "--quiet")
    assert code == 0, err
    assert "2 classes, 32 training and 8 test images of 1x8x8" in err and "per class: cat 20, dog 20" in err
    assert not list(engine.datasets.imported_dir().iterdir())  # nothing stored
    metadata = engine.load_checkpoint(model).metadata
    assert metadata["dataset"] == str(folder.resolve())
    assert metadata["dataset_sha256"] == engine.datasets.dataset_sha256(engine.datasets.import_path(folder))
    assert metadata["test_accuracy"] == 1.0  # the two classes differ in brightness by 120 levels

    code, out, err = run(capsys, "evaluate", model, "--json")
    assert code == 0, err
    assert json.loads(out)["accuracy"] == 1.0 and json.loads(out)["dataset"] == str(folder.resolve())

    folder.rename(tmp_path / "moved")
    code, out, err = run(capsys, "evaluate", model)
    assert code == 1
    assert err == (f"layerlab evaluate: {model}: its data set {folder.resolve()}: no such file or folder, and no "
                   f"data set of that name (see `layerlab datasets`)\n")


def test_train_on_an_imported_set_records_its_name_and_checksum(tmp_path, capsys):
    folder = pets_folder(tmp_path / "pets", per_class=20)
    assert run(capsys, "datasets", "import", folder, "--name", "pets")[0] == 0
    spec, model = tiny_spec(tmp_path / "tiny.json"), tmp_path / "m.llmodel"
    code, out, err = run(capsys, "train", spec, "--dataset", "pets", "--max-steps", "2", "-o", model, "--quiet")
    assert code == 0, err
    metadata = engine.load_checkpoint(model).metadata
    assert metadata["dataset"] == "pets"
    assert metadata["dataset_sha256"] == engine.datasets.find_imported("pets").sha256
    code, out, err = run(capsys, "evaluate", model)
    assert code == 0 and "dataset   pets (pets), test split, 8 examples" in out

    # A built-in set has no checksum to record.
    mnist_spec = tiny_spec(tmp_path / "mnist.json", (1, 28, 28), 10)
    code, _, err = run(capsys, "train", mnist_spec, "--max-steps", "1", "-o", tmp_path / "mnist.llmodel", "--quiet")
    assert code == 0, err
    assert "dataset_sha256" not in engine.load_checkpoint(tmp_path / "mnist.llmodel").metadata

    code, _, err = run(capsys, "train", spec, "--dataset", "./nowhere", "-o", model)
    assert code == 1 and "--dataset nowhere: no such file or folder, and no data set of that name" in err


def _project(path, spec_path, **training):
    spec = json.loads(spec_path.read_text())
    layout = {node["id"]: (0.0, 90.0 * index) for index, node in enumerate(spec["nodes"])}
    return write_project(path, spec, layout, {"epochs": 1, "max_steps": 2, **training})


def test_a_project_naming_a_missing_imported_set_says_which_and_how_to_import_it(tmp_path, capsys):
    spec = tiny_spec(tmp_path / "tiny.json")
    project = _project(tmp_path / "p.layerlab", spec, dataset="pets", dataset_sha256="ab12" * 16)
    code, _, err = run(capsys, "train", project, "-o", tmp_path / "m.llmodel")
    assert code == 1
    assert err == (f"layerlab train: {project}: training settings: the project's data set 'pets' (SHA-256 "
                   f"ab12ab12ab12...) is not imported on this machine; import it with `layerlab datasets import "
                   f"PATH --name 'pets'`, or choose another with --dataset\n")


def test_a_project_whose_imported_set_has_another_checksum_warns_and_trains(tmp_path, capsys):
    assert run(capsys, "datasets", "import", pets_folder(tmp_path / "pets"), "--name", "pets")[0] == 0
    actual = engine.datasets.find_imported("pets").sha256
    spec = tiny_spec(tmp_path / "tiny.json")
    project = _project(tmp_path / "p.layerlab", spec, dataset="pets", dataset_sha256="0" * 64)
    code, _, err = run(capsys, "train", project, "-o", tmp_path / "m.llmodel", "--quiet")
    assert code == 0, err
    assert (f"warning: {project}: the project was saved with data set 'pets' of SHA-256 000000000000...; the one "
            f"on this machine is {actual[:12]}...: it holds different data") in err
    same = _project(tmp_path / "same.layerlab", spec, dataset="pets", dataset_sha256=actual)
    code, _, err = run(capsys, "train", same, "-o", tmp_path / "m2.llmodel", "--quiet")
    assert code == 0 and "warning" not in err
    bad = _project(tmp_path / "bad.layerlab", spec, dataset="pets", dataset_sha256="not hex")
    code, _, err = run(capsys, "train", bad, "-o", tmp_path / "m3.llmodel", "--quiet")
    assert code == 1 and "dataset_sha256 must be 64 hexadecimal digits; received 'not hex'" in err
