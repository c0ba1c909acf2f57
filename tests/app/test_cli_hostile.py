"""Hostile and careless input to the `layerlab` commands (issue 19): every case ends in one clean line on stderr
and a non-zero exit, within seconds and a bounded amount of memory, and nothing the user had is lost.

"Clean" means: one line, prefixed with the command, naming the file or flag, with no traceback and no Python
exception name. Cases that could hang (a FIFO) or eat memory (a link to /dev/zero), and the Ghostscript case,
run the command in a child process with a timeout and an address-space limit.
"""

import json
import os
import re
import resource
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import engine
import resources
from app import cli
from app.document.project_file import write_project

ROOT = Path(__file__).resolve().parents[2]
PYTHON_EXCEPTION = re.compile(r"Traceback|\b[A-Z]\w*(Error|Exception|Interrupt)\b|\[Errno")
CHILD_TIMEOUT_S = 60  # a refusal takes about a second (the start of Python and the engine); a hang takes forever
CHILD_MEMORY = 3 * 1024**3  # reading /dev/zero to the end would pass this in a second or two


def run(args, capsys):
    code = cli.main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_clean(code, err, command="train", names=None):
    """A non-zero exit and one line on stderr in words: the command, then (when given) the file it names."""
    assert code not in (0, None), err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith(f"layerlab {command}: " + (f"{names}" if names else "")), err
    assert not PYTHON_EXCEPTION.search(err), err
    assert "unexpected problem" not in err, err  # handled where it happens, not by the safety net


def run_child(args, tmp_path, path_prefix=None):
    """`layerlab ARGS` in a child process with a timeout and a memory limit; (code, out, err)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "QT_QPA_PLATFORM": "offscreen"}
    env.pop("LAYERLAB_DEBUG", None)
    if path_prefix:
        env["PATH"] = f"{path_prefix}{os.pathsep}{env.get('PATH', '')}"

    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))

    try:
        result = subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=tmp_path, env={**env, "PYTHONPATH": str(
            ROOT)}, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, preexec_fn=limit_memory)
    except subprocess.TimeoutExpired:
        pytest.fail(f"layerlab {' '.join(args)} still running after {CHILD_TIMEOUT_S} s (it hangs)")
    return result.returncode, result.stdout, result.stderr


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.json"
    os.mkfifo(path)
    return path


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """An untrained softmax regression on MNIST's 1x28x28 images, saved as a model file."""
    spec = json.loads(resources.examples()["softmax-regression"].read_text(encoding="utf-8"))
    path = tmp_path_factory.mktemp("model") / "model.llmodel"
    engine.save(engine.build(spec, seed=0), path, metadata={"dataset": "mnist"})
    return path


@pytest.fixture(scope="module")
def checkpoint_file(tmp_path_factory):
    """A model file of a real two-step run of `layerlab train`, which `--resume` continues."""
    path = tmp_path_factory.mktemp("run") / "run.llmodel"
    spec = str(resources.examples()["softmax-regression"])
    assert cli.main(["train", spec, "--max-steps", "2", "--batch-size", "100", "-q", "-o", str(path)]) == 0
    return path


SOFTMAX = str(resources.examples()["softmax-regression"])
TOY = ["train", str(resources.examples()["toy-mlp"]), "--dataset", "toy:spiral", "--max-steps", "2", "-q"]


# ------------------------------------------------------------------------------------ train FILE (F2-F5)

@pytest.mark.parametrize(("content", "problem"), [
    ("[" * 100_000, "is nested 100,000 levels deep"),  # F2: a RecursionError before
    ('{"nodes": ' + "9" * 5000 + "}", "holds an integer of 5,000 digits"),  # F3: Python's 4,300-digit ValueError
    ('{"nodes": [], "x": NaN}', "holds NaN"),
])
def test_a_hostile_spec_is_one_line_naming_the_file(tmp_path, capsys, content, problem):
    spec = tmp_path / "t.json"
    spec.write_text(content, encoding="utf-8")
    code, out, err = run(["train", str(spec), "-o", str(tmp_path / "m.llmodel")], capsys)
    assert_clean(code, err, names=f"{spec}: {problem}")
    assert out == "" and not (tmp_path / "m.llmodel").exists()


def test_a_spec_larger_than_any_spec_is_refused_without_reading_it(tmp_path, capsys):
    spec = tmp_path / "huge.json"
    with open(spec, "wb") as handle:  # sparse: 200 MB that takes no disk and no time to write
        handle.truncate(200 * 1024**2)
    code, _, err = run(["train", str(spec)], capsys)
    assert_clean(code, err, names=f"{spec}: is 209.7 MB; this kind of file is at most 10.5 MB")


def test_a_fifo_as_the_spec_is_refused_at_once(tmp_path, fifo):  # F4: hung forever
    code, out, err = run_child(["train", str(fifo)], tmp_path)
    assert_clean(code, err, names=f"{fifo}: is a named pipe, not a regular file")


def test_a_link_to_dev_zero_as_the_spec_is_refused_without_reading(tmp_path):  # F5: read until memory ran out
    link = tmp_path / "zero.json"
    link.symlink_to("/dev/zero")
    code, _, err = run_child(["train", str(link)], tmp_path)
    assert_clean(code, err, names=f"{link}: is a device, not a regular file")


@pytest.mark.parametrize(("schedule", "problem"), [
    ("[" * 100_000, "is nested 100,000 levels deep"),  # F2
    ('{"name": "exponential", "decay_steps": ' + "9" * 5000 + ', "decay_rate": 0.9}',
     "holds an integer of 5,000 digits"),  # F3
])
def test_a_hostile_schedule_flag_is_a_usage_error(tmp_path, capsys, schedule, problem):
    code, out, err = run(["train", SOFTMAX, "--schedule", schedule, "-o", str(tmp_path / "m.llmodel")], capsys)
    assert code == 2
    assert_clean(code, err, names=f"--schedule {problem}")


# ------------------------------------------------------------------------------ training settings (F11)

def write_project_with(path, **training):
    spec = json.loads(resources.examples()["softmax-regression"].read_text(encoding="utf-8"))
    layout = {node["id"]: (0.0, 90.0 * index) for index, node in enumerate(spec["nodes"])}
    return str(write_project(path, spec, layout, {"dataset": "mnist", **training}))


@pytest.mark.parametrize(("training", "problem"), [
    ({"epochs": 2**31}, "epochs must be a whole number from 1 to 1,000,000; received 2,147,483,648"),
    ({"batch_size": 2**31}, "batch_size must be a whole number from 1 to 1,000,000; received 2,147,483,648"),
    ({"eval_batch_size": 2**40}, "eval_batch_size must be a whole number from 1 to 1,000,000"),
    ({"epochs": 1.5}, "epochs must be a whole number from 1 to 1,000,000; received 1.5"),
])
def test_a_project_count_out_of_range_names_the_project_and_the_range(tmp_path, capsys, training, problem):
    project = write_project_with(tmp_path / "p.layerlab", **training)
    code, out, err = run(["train", project, "--max-steps", "1", "-q", "-o", str(tmp_path / "m.llmodel")], capsys)
    assert code == 1 and out == ""
    assert_clean(code, err, names=f"{project}: training settings: {problem}")


def test_a_project_schedule_that_is_wrong_names_the_project(tmp_path, capsys):
    project = write_project_with(tmp_path / "p.layerlab", schedule={"name": "cosine"})  # no decay_steps
    code, _, err = run(["train", project, "--max-steps", "1", "-q", "-o", str(tmp_path / "m.llmodel")], capsys)
    assert code == 1
    assert_clean(code, err, names=f"{project}: training settings: schedule 'cosine': missing argument")


@pytest.mark.parametrize(("flag", "value"), [("--epochs", str(2**31)), ("--batch-size", "1000001"),
                                             ("--max-steps", str(2**31)), ("--seed", str(2**63))])
def test_a_count_flag_out_of_range_is_a_usage_error_giving_the_range(tmp_path, capsys, flag, value):
    with pytest.raises(SystemExit) as exit_:  # argparse's own way out, with its usage text
        cli.main(["train", SOFTMAX, flag, value, "--max-steps" if flag != "--max-steps" else "--epochs", "1",
                  "-q", "-o", str(tmp_path / "m.llmodel")])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and not (tmp_path / "m.llmodel").exists()
    assert f"layerlab train: error: argument {flag}: expected a whole number from " in err
    assert not PYTHON_EXCEPTION.search(err)


# ------------------------------------------------------------------------- where train writes (F11)

def test_an_output_name_too_long_is_refused_before_training(tmp_path, capsys):
    long_name = tmp_path / ("a" * 300 + ".llmodel")
    code, out, err = run([*TOY, "-o", str(long_name)], capsys)
    assert out == ""  # refused before the run: no settings line, nothing trained and then lost
    assert_clean(code, err, names="cannot write -o aaaa")
    assert "the name is 308 characters; this system allows file names of at most 255" in err


def test_an_output_that_is_a_folder_is_refused_before_training(tmp_path, capsys):
    code, out, err = run([*TOY, "-o", str(tmp_path)], capsys)
    assert out == ""
    assert_clean(code, err, names=f"cannot write {tmp_path}: it is a folder")


def test_an_output_that_is_a_pipe_is_refused_and_kept(tmp_path, capsys, fifo):
    code, out, err = run([*TOY, "-o", str(fifo)], capsys)
    assert out == "" and stat.S_ISFIFO(os.stat(fifo).st_mode)  # a save would have replaced it with a file
    assert_clean(code, err, names=f"cannot write {fifo}: it is not a regular file")


def test_a_checkpoint_folder_that_is_a_file_is_refused_before_training(tmp_path, capsys):
    afile = tmp_path / "notes.txt"
    afile.write_text("mine")
    code, out, err = run([*TOY, "-o", str(tmp_path / "m.llmodel"), "--checkpoint-dir", str(afile)], capsys)
    assert out == "" and afile.read_text() == "mine"
    assert_clean(code, err, names=f"cannot write --checkpoint-dir {afile}: it is a file, not a folder")


def test_metrics_to_a_folder_are_refused_before_training(tmp_path, capsys):
    code, out, err = run([*TOY, "-o", str(tmp_path / "m.llmodel"), "--metrics", str(tmp_path)], capsys)
    assert out == ""
    assert_clean(code, err, names=f"cannot write --metrics {tmp_path}: it is a folder")


def test_metrics_to_a_pipe_nobody_reads_are_refused_at_once(tmp_path, fifo):  # hung forever in open()
    code, _, err = run_child([*TOY, "-o", str(tmp_path / "m.llmodel"), "--metrics", str(fifo)], tmp_path)
    assert_clean(code, err, names=f"cannot write --metrics {fifo}: it is a named pipe that no program is reading")


def test_metrics_to_a_full_disk_stop_the_metrics_not_the_run(tmp_path, capsys):
    model = tmp_path / "m.llmodel"
    code, out, err = run([*TOY, "-o", str(model), "--metrics", "/dev/full"], capsys)
    assert_clean(code, err, names="the model was saved, but the metrics could not all be written to /dev/full: "
                                  "the disk is full")
    assert "saved" in out and engine.load_checkpoint(model).metadata["trainer"]["step"] == 2


def test_a_screenshot_onto_a_pipe_is_refused_before_the_window_opens(tmp_path, capsys, fifo):
    code, out, err = run(["screenshot", str(fifo)], capsys)
    assert out == "" and stat.S_ISFIFO(os.stat(fifo).st_mode)  # the atomic save replaced the pipe with a PNG
    assert_clean(code, err, "screenshot", names=f"cannot write {fifo}: it is not a regular file")


# ------------------------------------------------------------------------------- train --resume (F8)

def damaged_copy(checkpoint_file, tmp_path, damage):
    """A copy of a real run's model file whose saved trainer state ``damage`` (state -> None) has changed."""
    checkpoint = engine.load_checkpoint(checkpoint_file, restore_optimizer=True)
    metadata = json.loads(json.dumps(checkpoint.metadata))
    damage(metadata["trainer"])
    path = tmp_path / "damaged.llmodel"
    engine.save(checkpoint.network, path, optimizer=checkpoint.optimizer, metadata=metadata)
    return path


DAMAGES = {
    # Caught here (DatasetError from batching was a traceback):
    "batches of another format": lambda state: state["batches"].update(format="something-else"),
    "batches of another size": lambda state: state["batches"].update(num_samples=7),
    # Need engine.Trainer.from_checkpoint to raise ModelFileError for every damaged state (H1):
    "no config": lambda state: state.pop("config"),  # KeyError 'config'
    "config not an object": lambda state: state.update(config="adam"),  # TypeError
    "step a list": lambda state: state.update(step=[1]),  # TypeError
    "history a number": lambda state: state.update(history=5),  # TypeError
}


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_resume_from_a_damaged_run_is_one_line_naming_the_file(tmp_path, capsys, checkpoint_file, damage):
    damaged = damaged_copy(checkpoint_file, tmp_path, damage)
    code, out, err = run(["train", "--resume", str(damaged), "--max-steps", "4", "-q",
                          "-o", str(tmp_path / "resumed.llmodel")], capsys)
    assert code == 1 and out == "" and not (tmp_path / "resumed.llmodel").exists()
    assert_clean(code, err, names=f"{damaged}: ")


def test_resume_with_other_data_than_the_run_names_the_file(tmp_path, capsys, checkpoint_file):
    code, _, err = run(["train", "--resume", str(checkpoint_file), "--validation", "1000", "-q",
                        "-o", str(tmp_path / "resumed.llmodel")], capsys)
    assert_clean(code, err, names=f"{checkpoint_file}: ")
    assert re.search(r"55,?000 examples", err), err  # the run's own split of MNIST; 59,000 with --validation 1000


# ------------------------------------------------------------------------------ predict and evaluate

EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 28 28\n{ } loop\nshowpage\n"


def test_predict_never_runs_ghostscript_on_eps_content(tmp_path, model_file):  # F6
    """EPS under a .png name: Pillow ran Ghostscript (a `{ } loop` hung; a malformed one raised). A stand-in
    `gs` first on PATH records any call."""
    calls, bin_dir = tmp_path / "gs-calls", tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gs").write_text(f'#!/bin/sh\necho "$@" >> "{calls}"\n[ "$1" = --version ] && exit 0\nexit 1\n')
    (bin_dir / "gs").chmod(0o755)
    image = tmp_path / "seven.png"
    image.write_bytes(EPS)
    code, out, err = run_child(["predict", str(model_file), str(image)], tmp_path, path_prefix=bin_dir)
    assert not calls.exists(), calls.read_text()
    assert out == ""
    assert_clean(code, err, "predict", names=f"{image}: is not an image LayerLab can read (PNG, JPEG, BMP, GIF, "
                                             "TIFF or WebP)")


def test_predict_refuses_a_pipe_as_an_image_at_once(tmp_path, model_file, fifo):  # F4
    code, _, err = run_child(["predict", str(model_file), str(fifo)], tmp_path)
    assert_clean(code, err, "predict", names=f"{fifo}: is a named pipe, not a regular file")


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_a_pipe_as_the_model_is_refused_at_once(tmp_path, fifo, command):  # F4; engine.load (H1) refuses it
    args = [command, str(fifo)] + (["image.png"] if command == "predict" else ["--dataset", "mnist"])
    code, _, err = run_child(args, tmp_path)
    assert_clean(code, err, command, names=f"{fifo}: is a named pipe")


def test_a_link_to_dev_zero_as_the_model_is_refused_without_reading(tmp_path):  # F5; engine.load (H1) refuses it
    link = tmp_path / "zero.llmodel"
    link.symlink_to("/dev/zero")
    code, _, err = run_child(["evaluate", str(link), "--dataset", "mnist"], tmp_path)
    assert_clean(code, err, "evaluate", names=f"{link}: is a device")


# ------------------------------------------------------------------------------------- the safety net

def test_an_unexpected_error_is_one_line_in_words_and_the_details_on_request(capsys, monkeypatch):
    """An error no command foresaw (here a fault put into the data set registry) is one line without its
    class name; LAYERLAB_DEBUG=1 shows the traceback instead."""
    def broken_registry():
        raise KeyError("config")

    monkeypatch.setattr(engine.datasets, "list_datasets", broken_registry)
    monkeypatch.delenv("LAYERLAB_DEBUG", raising=False)
    code, out, err = run(["datasets"], capsys)
    assert (code, out) == (1, "")
    assert err == ("layerlab datasets: unexpected problem: missing entry 'config' (set LAYERLAB_DEBUG=1 to see the "
                   "details)\n")

    monkeypatch.setenv("LAYERLAB_DEBUG", "1")
    with pytest.raises(KeyError):
        cli.main(["datasets"])


def test_an_unexpected_error_of_many_lines_is_one_short_line(capsys, monkeypatch):
    def broken_registry():
        raise RuntimeError("first line\n" + "x" * 5000)

    monkeypatch.setattr(engine.datasets, "list_datasets", broken_registry)
    monkeypatch.delenv("LAYERLAB_DEBUG", raising=False)
    code, _, err = run(["datasets"], capsys)
    assert code == 1 and err.count("\n") == 1 and len(err) < 400
    assert err.startswith("layerlab datasets: unexpected problem: first line xxx") and "Runtime" not in err


def test_a_reader_that_stops_reading_ends_the_command_quietly(tmp_path):
    """`layerlab datasets | head -0`: the pipe is closed before the command writes; no traceback, no message."""
    child = subprocess.Popen([sys.executable, "-m", "app.cli", "datasets"], cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    child.stdout.close()  # long before the child has imported the engine and written a line
    _, err = child.communicate(timeout=CHILD_TIMEOUT_S)
    assert (child.returncode, err.decode()) == (141, "")


def test_ctrl_c_still_exits_130(capsys, monkeypatch):
    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(engine.datasets, "list_datasets", interrupted)
    assert run(["datasets"], capsys)[0] == 130
