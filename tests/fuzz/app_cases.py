"""The app's recovery folder and the ``layerlab`` command, fed hostile files.

- recovery: the folder autosave leaves for the next start (under ``$XDG_DATA_HOME``, set to the case's
  folder), read as the window does at start-up: ``autosave.scan_recoveries()`` (``pending_recoveries()`` on
  older trees), then each copy found is read. Start-up must go on whatever the folder holds, so every
  exception there is a failure; only a copy's own read may refuse with ProjectFileError.
- cli: ``app.cli.main(argv)`` in this process. Clean: exit 0, or a non-zero exit whose last line on
  stderr is ``layerlab ...: <words>``, with no traceback or Python exception name on stderr.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
from pathlib import Path

from tests.fuzz import base_files, spec_cases
from tests.fuzz import mutations as m
from tests.fuzz.bounds import leaked_name
from tests.fuzz.cases import Format
from tests.fuzz.data_cases import image_file
from tests.fuzz.model_cases import random_model_bytes

# ---------------------------------------------------------------------------------------------- recovery

RECOVERY = Path("data") / "LayerLab" / "recovery"


def read_recoveries(data_home: Path):
    def read():
        from app.document import autosave
        from app.document.project_file import ProjectFileError

        previous = os.environ.get("XDG_DATA_HOME")
        os.environ["XDG_DATA_HOME"] = str(data_home)
        try:
            scan = getattr(autosave, "scan_recoveries", None)
            found = scan().found if scan else autosave.pending_recoveries()
            for recovery in found:
                recovery.describe()
                with contextlib.suppress(ProjectFileError):
                    recovery.read()
            return found
        finally:
            if previous is None:
                os.environ.pop("XDG_DATA_HOME", None)
            else:
                os.environ["XDG_DATA_HOME"] = previous

    return read


def _recovery_data(note=None) -> dict:
    data = base_files.project()
    data["recovery"] = {"project_path": None} if note is None else note
    return data


def _with_valid_copy(folder: Path) -> Path:
    recovery = folder / RECOVERY
    recovery.mkdir(parents=True, exist_ok=True)
    (recovery / "untitled.layerlab").write_text(json.dumps(_recovery_data()), encoding="utf-8")
    return recovery


def damaged_copy(rng: random.Random, folder: Path):
    recovery = _with_valid_copy(folder)
    kind = rng.choice(sorted(spec_cases.PROJECT_TREES) + ["text", "bytes"])
    if kind == "text":
        what, data = spec_cases.project_text(rng)
    elif kind == "bytes":
        what, data = spec_cases.project_bytes(rng)
    else:
        what, tree = spec_cases.PROJECT_TREES[kind](rng)
        data = m.dumps(tree).encode("utf-8")
    (recovery / "0123456789abcdef.layerlab").write_bytes(data)
    return f"{kind}: {what}", read_recoveries(folder / "data")


def special_entry(rng: random.Random, folder: Path):
    recovery = _with_valid_copy(folder)
    kind = rng.choice([k for k in m.SPECIAL_FILES if k != "missing"] + ["link to a folder", "unreadable name"])
    if kind == "link to a folder":
        os.symlink("..", recovery / "up.layerlab")
    elif kind == "unreadable name":
        (recovery / os.fsdecode(b"\xff\xfe.layerlab")).write_text(json.dumps(_recovery_data()), encoding="utf-8")
    else:
        m.make_special(kind, recovery / "fedcba9876543210.layerlab")
    return kind, read_recoveries(folder / "data")


def recovery_note(rng: random.Random, folder: Path):
    recovery = _with_valid_copy(folder)
    fifo = folder / "project-fifo.layerlab"
    os.mkfifo(fifo)
    owner = rng.choice([m.hostile_value(rng), "/dev/zero", str(fifo), "x" * 5000, "relative/x.layerlab", "\x00",
                        str(folder), "/proc/self/mem", ""])
    note = rng.choice([{"project_path": owner}, owner])
    (recovery / "0123456789abcdef.layerlab").write_text(m.dumps(_recovery_data(note)), encoding="utf-8")
    return f"note {m.dumps(note)[:40]}", read_recoveries(folder / "data")


def recovery_folder(rng: random.Random, folder: Path):
    """The recovery folder itself is not a folder."""
    kind = rng.choice([k for k in m.SPECIAL_FILES if k != "folder"] + ["a file", "link to a file"])
    path = folder / RECOVERY
    if kind == "a file":
        path.parent.mkdir(parents=True)
        path.write_text("not a folder\n", encoding="utf-8")
    elif kind == "link to a file":
        path.parent.mkdir(parents=True)
        (folder / "elsewhere.txt").write_text("x\n", encoding="utf-8")
        os.symlink(folder / "elsewhere.txt", path)
    else:
        m.make_special(kind, path)
    return f"recovery folder: {kind}", read_recoveries(folder / "data")


# -------------------------------------------------------------------------------------------------- CLI


class CliResult:
    def __init__(self, argv: list[str], code: int, stderr: str):
        self.argv, self.code, self.stderr = argv, code, stderr


def run_cli(argv: list[str]):
    def read():
        from app.cli import main

        stderr = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(stderr):
            try:
                code = main(argv)
            except SystemExit as exit_:  # argparse: a usage error
                code = exit_.code if isinstance(exit_.code, int) else 1
        return CliResult(argv, code, stderr.getvalue())

    return read


def judge_cli(result: CliResult) -> str | None:
    """None when the command ended in a person's words: exit 0, or one last stderr line naming the command."""
    name = leaked_name(result.stderr)
    if name:
        tail = result.stderr.strip().splitlines()[-1][:300] if result.stderr.strip() else ""
        return f"exit {result.code}, stderr shows {name!r}: {tail}"
    if result.code != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        if not lines or not lines[-1].startswith("layerlab"):
            return f"exit {result.code} without a 'layerlab ...:' message (stderr {result.stderr[-200:]!r})"
    return None


def _write(folder: Path, name: str, data: bytes) -> str:
    path = folder / name
    path.write_bytes(data)
    return str(path)


def _train(path: str, folder: Path, *extra: str) -> list[str]:
    return ["train", path, "--quiet", "--output", str(folder / "out.llmodel"), *extra]


def cli_spec(rng: random.Random, folder: Path):
    kind = rng.choice(sorted(spec_cases.SPEC_TREES) + ["text"])
    if kind == "text":
        what, data = spec_cases.spec_text(rng)
    else:
        what, tree = spec_cases.SPEC_TREES[kind](rng)
        data = m.dumps(tree).encode("utf-8")
    path = _write(folder, "network.json", data)
    return f"train spec {kind}: {what}", run_cli(_train(path, folder, "--dataset", "toy:spiral", "--max-steps", "2"))


def cli_project(rng: random.Random, folder: Path):
    under = rng.choice([(), ("training",), ("network",), ("training",)])
    what, tree = m.mutate_tree(rng, base_files.project("toy-mlp"), under=under)
    path = _write(folder, "design.layerlab", m.dumps(tree).encode("utf-8"))
    return f"train project {what}", run_cli(_train(path, folder, "--max-steps", "2"))


def cli_schedule(rng: random.Random, folder: Path):
    valid = {"name": "exponential", "decay_steps": 1000, "decay_rate": 0.9}
    if rng.random() < 0.5:
        what, tree = m.mutate_tree(rng, valid)
        text = m.dumps(tree)
    else:
        what, text = "hostile value", m.dumps(m.hostile_value(rng))
    spec = str(base_files.EXAMPLES / "toy-mlp.json")
    argv = _train(spec, folder, "--dataset", "toy:spiral", "--max-steps", "2", "--schedule", text)
    return f"--schedule {what}", run_cli(argv)


def cli_resume(rng: random.Random, folder: Path):
    """A damaged trainer state in a checkpoint (the issue's F8)."""
    members = m.zip_members(base_files.toy_checkpoint())
    what, manifest = m.mutate_tree(rng, json.loads(members["manifest.json"]), under=("metadata",))
    members["manifest.json"] = m.dumps(manifest).encode("utf-8")
    path = _write(folder, "last.llmodel", m.make_zip(members))
    argv = ["train", "--resume", path, "--epochs", "2", "--quiet", "--output", str(folder / "out.llmodel")]
    return f"--resume {what}", run_cli(argv)


def cli_model(rng: random.Random, folder: Path):
    what, data = random_model_bytes(rng)
    model = _write(folder, "model.llmodel", data)
    if rng.random() < 0.5:
        return f"evaluate {what}", run_cli(["evaluate", model, "--dataset", "mnist", "--no-download"])
    image = _write(folder, "digit.png", base_files.image_bytes("PNG"))
    return f"predict {what}", run_cli(["predict", model, image])


def cli_image(rng: random.Random, folder: Path):
    what, data = image_file(rng)
    model = _write(folder, "model.llmodel", base_files.mnist_model())
    return f"predict image {what}", run_cli(["predict", model, _write(folder, "digit.png", data)])


def cli_special(rng: random.Random, folder: Path):
    kind = rng.choice(m.SPECIAL_FILES)
    command = rng.choice(["evaluate", "predict model", "predict image", "resume"])
    special = str(m.make_special(kind, folder / ("digit.png" if command == "predict image" else "model.llmodel")))
    valid_model = _write(folder, "valid.llmodel", base_files.mnist_model())
    argv = {"evaluate": ["evaluate", special, "--dataset", "mnist", "--no-download"],
            "predict model": ["predict", special, _write(folder, "seven.png", base_files.image_bytes("PNG"))],
            "predict image": ["predict", valid_model, special],
            "resume": ["train", "--resume", special, "--quiet", "--output", str(folder / "out.llmodel")]}[command]
    return f"{command}: {kind}", run_cli(argv)


def read_cli_train(path: Path):
    return run_cli(_train(str(path), path.parent, "--dataset", "toy:spiral", "--max-steps", "2"))


FORMATS = [
    Format(
        name="recovery",
        kinds={"damaged copy": damaged_copy, "special entry": special_entry, "recovery note": recovery_note,
               "recovery folder": recovery_folder},
        read_path=lambda path: read_recoveries(path.parents[2]),
        file_name=str(RECOVERY / "untitled.layerlab"),
        clean_errors=lambda: (),
    ),
    Format(
        name="cli",
        kinds={"train spec": cli_spec, "train project": cli_project, "train --schedule": cli_schedule,
               "train --resume": cli_resume, "evaluate/predict model": cli_model, "predict image": cli_image,
               "special file": cli_special},
        read_path=read_cli_train,
        file_name="network.json",
        clean_errors=lambda: (),
        judge=judge_cli,
        memory_bound=1024**3,
        time_bound=10.0,
    ),
]
