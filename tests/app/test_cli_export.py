"""`layerlab export MODEL --format onnx|pytorch|keras OUT`: run in-process through `app.cli.main`, once as a real
process. The ONNX files written are run with onnxruntime against the engine; every refusal is one line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import engine
from app import cli
from tests.engine.export.conftest import dag_spec, give_batchnorm_statistics

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

TOLERANCE = 1e-5


def run_cli(capsys, *args):
    code = cli.main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return code, out, err


def run_onnx(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["output"], {"input": x.astype(np.float32)})[0]


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """A .llmodel of the shared DAG design (every layer type), its weights seeded, with training metadata."""
    network = engine.build(dag_spec(), seed=11)
    give_batchnorm_statistics(network, seed=11)
    path = tmp_path_factory.mktemp("models") / "dag.llmodel"
    metadata = {"dataset": "mnist", "training": {"batch_size": 32, "epochs": 2, "steps": 100,
                                                 "optimizer": {"name": "sgd", "lr": 0.05}}}
    return engine.save(network, path, metadata=metadata)


def images(count=5, seed=0):
    return np.random.default_rng(seed).random((count, 1, 28, 28), dtype=np.float32)


def test_onnx_export_of_a_model_file_runs_in_onnxruntime_as_the_engine(capsys, model_file, tmp_path):
    out_path = tmp_path / "dag.onnx"
    code, out, err = run_cli(capsys, "export", model_file, "--format", "onnx", out_path)
    assert code == 0, err
    assert err == ""
    assert out.splitlines() == [f"wrote {out_path} ({out_path.stat().st_size:,} bytes)"]  # no note: trained weights
    onnx.checker.check_model(onnx.load(str(out_path)), full_check=True)
    x = images(7)
    assert np.max(np.abs(run_onnx(out_path, x) - engine.load(model_file).predict(x))) <= TOLERANCE


def test_the_format_follows_an_onnx_suffix_and_is_asked_for_otherwise(capsys, model_file, tmp_path):
    code, out, err = run_cli(capsys, "export", model_file, tmp_path / "model.onnx")
    assert code == 0, err
    assert onnx.load(str(tmp_path / "model.onnx")).producer_name == "LayerLab"

    code, out, err = run_cli(capsys, "export", model_file, tmp_path / "model.py")
    assert code == 2
    assert err == (f"layerlab export: which format should {tmp_path / 'model.py'} be? "
                   f"give --format onnx, pytorch or keras\n")
    assert not (tmp_path / "model.py").exists()


@pytest.mark.parametrize("suffix", [".layerlab", ".json"])
def test_a_project_or_network_file_exports_seeded_initial_weights_and_says_so(capsys, tmp_path, suffix):
    spec = dag_spec()
    if suffix == ".layerlab":
        data = {"format": "layerlab-project", "version": 1, "network": spec,
                "layout": {node["id"]: [0.0, 90.0 * i] for i, node in enumerate(spec["nodes"])},
                "training": {"dataset": "mnist", "epochs": 1}}
    else:
        data = spec
    source = tmp_path / f"design{suffix}"
    source.write_text(json.dumps(data), encoding="utf-8")
    out_path = tmp_path / "design.onnx"
    code, out, err = run_cli(capsys, "export", source, out_path, "--seed", "5")
    assert code == 0, err
    lines = out.splitlines()
    what = "project" if suffix == ".layerlab" else "network file"
    assert lines[0].startswith(f"note: {source} is a {what} without trained weights: exporting initial weights "
                               f"(seed 5)")
    assert lines[1].startswith(f"wrote {out_path} (")
    expected = engine.build(dag_spec(), seed=5)  # the seed chose the weights
    initializers = {t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(str(out_path)).graph.initializer}
    assert np.array_equal(initializers["conv_a.kernel"], expected.state_dict()["conv_a.kernel"])
    x = images(3)
    assert np.max(np.abs(run_onnx(out_path, x) - expected.predict(x))) <= TOLERANCE


@pytest.mark.parametrize("fmt", ["pytorch", "keras"])
def test_the_code_formats_write_a_script_with_the_model_files_settings_and_its_weights(capsys, model_file, tmp_path,
                                                                                       fmt):
    pytest.importorskip(f"engine.export.{fmt}_code")  # each exporter lands with its owner
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    script = tmp_path / f"{fmt}_model.py"
    code, out, err = run_cli(capsys, "export", model_file, "--format", fmt, script)
    assert code == 0, err
    weights = script.with_suffix(".safetensors")
    assert out.splitlines() == [f"wrote {script} ({script.stat().st_size:,} bytes)",
                                f"wrote {weights} ({weights.stat().st_size:,} bytes)"]
    source = script.read_text(encoding="utf-8")
    compile(source, str(script), "exec")
    # the training the model file's metadata records, not LayerLab's defaults (batch 50, 10 epochs)
    assert "BATCH_SIZE = 32" in source and "EPOCHS = 2" in source
    stored = safetensors_numpy.load_file(str(weights))
    kernel = engine.load(model_file).state_dict()["conv_a.kernel"]  # the model file's weights went out,
    layouts = (kernel, kernel.transpose(2, 3, 1, 0))  # as PyTorch (out, in, kh, kw) or Keras (kh, kw, in, out)
    assert any(np.array_equal(value, layout) for value in stored.values() for layout in layouts)


def test_a_bad_model_file_is_one_line_naming_it(capsys, tmp_path):
    bad = tmp_path / "broken.llmodel"
    bad.write_bytes(b"PK\x03\x04 this zip ends here")
    code, out, err = run_cli(capsys, "export", bad, "--format", "onnx", tmp_path / "out.onnx")
    assert code == 1 and out == ""
    assert err.startswith(f"layerlab export: {bad}: not a LayerLab model file") and err.count("\n") == 1
    code, out, err = run_cli(capsys, "export", tmp_path / "absent.llmodel", tmp_path / "out.onnx")
    assert code == 1 and err == f"layerlab export: {tmp_path / 'absent.llmodel'}: no such file\n"
    assert not (tmp_path / "out.onnx").exists()


def test_a_network_file_with_an_invalid_design_is_one_line_naming_the_node(capsys, tmp_path):
    spec = dag_spec()
    spec["nodes"][1]["filters"] = 0
    source = tmp_path / "invalid.json"
    source.write_text(json.dumps(spec), encoding="utf-8")
    code, out, err = run_cli(capsys, "export", source, tmp_path / "out.onnx")
    assert code == 1
    assert err.startswith(f"layerlab export: {source}: conv_a: filters must be") and err.count("\n") == 1


def test_an_out_that_cannot_be_written_is_one_line_naming_it(capsys, model_file, tmp_path):
    missing_folder = tmp_path / "no such folder" / "model.onnx"
    code, out, err = run_cli(capsys, "export", model_file, missing_folder)
    assert code == 1
    assert err == f"layerlab export: cannot write {missing_folder}: folder {missing_folder.parent} does not exist\n"

    folder = tmp_path / "a folder.onnx"
    folder.mkdir()
    code, out, err = run_cli(capsys, "export", model_file, "--format", "onnx", folder)
    assert code == 1
    assert err.startswith(f"layerlab export: cannot write {folder}: it is a folder") and err.count("\n") == 1
    assert list(folder.iterdir()) == []


def test_out_may_not_be_the_model_file_itself(capsys, model_file, tmp_path):
    before = model_file.read_bytes()
    code, out, err = run_cli(capsys, "export", model_file, "--format", "onnx", model_file)
    assert code == 2
    assert err == f"layerlab export: OUT {model_file} is MODEL itself; give another file name\n"
    assert model_file.read_bytes() == before


def test_the_code_formats_write_python_scripts(capsys, model_file, tmp_path):
    for fmt in ("pytorch", "keras"):
        code, out, err = run_cli(capsys, "export", model_file, "--format", fmt, tmp_path / "model.txt")
        assert code == 2
        assert err == (f"layerlab export: OUT {tmp_path / 'model.txt'}: a {fmt} export is a Python script; "
                       f"give a name ending in .py\n")


def test_a_missing_extra_is_one_line_naming_it(capsys, model_file, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # what Python does for a package that is not installed
    code, out, err = run_cli(capsys, "export", model_file, "--format", "onnx", tmp_path / "model.onnx")
    assert code == 1 and out == ""
    assert err == ("layerlab export: ONNX export needs the onnx package, part of LayerLab's 'export' extra: "
                   "pip install 'layerlab[export]'\n")
    assert list(tmp_path.iterdir()) == []


def test_a_package_an_exporter_imports_at_its_top_is_named_with_the_extra(capsys, model_file, tmp_path,
                                                                           monkeypatch):
    import importlib

    import engine.export

    real_import = importlib.import_module

    def import_module(name, *args):  # the Keras exporter's module, as if it imported a package not installed
        if name == "engine.export.keras_code":
            import package_not_installed_anywhere  # noqa: F401
        return real_import(name, *args)

    monkeypatch.setattr(engine.export.importlib, "import_module", import_module)
    code, out, err = run_cli(capsys, "export", model_file, "--format", "keras", tmp_path / "model.py")
    assert code == 1
    assert err == ("layerlab export: Keras code export needs the package_not_installed_anywhere package, part of "
                   "LayerLab's 'export' extra: pip install 'layerlab[export]'\n")


def test_an_exporter_missing_from_the_installation_is_said_in_words(capsys, model_file, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "engine.export.pytorch_code", None)
    code, out, err = run_cli(capsys, "export", model_file, "--format", "pytorch", tmp_path / "model.py")
    assert code == 1
    assert err == "layerlab export: PyTorch code export is not part of this LayerLab installation; reinstall LayerLab\n"


def test_the_real_command_exports_the_bundled_model(tmp_path):
    from resources import path

    out_path = tmp_path / "seed-cnn.onnx"
    result = subprocess.run([sys.executable, "-m", "app.cli", "export", str(path("models/seed-cnn-mnist.llmodel")),
                             "--format", "onnx", str(out_path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {out_path} (13.1 MB)")
    model = onnx.load(str(out_path))
    assert [i.name for i in model.graph.input] == ["input"] and [o.name for o in model.graph.output] == ["output"]
