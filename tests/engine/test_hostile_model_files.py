"""Hostile and careless model files (issue 19): every one is a ModelFileError naming the file and what is
wrong with it, read within bounded time and memory; never another exception, a hang or a silent NaN."""

import hashlib
import io
import json
import os
import re
import threading
import tracemalloc
import zipfile

import numpy as np
import pytest

import engine
from engine.serialization import load_checkpoint, save
from engine.training import Trainer, TrainingConfig, TrainingData

PYTHON_EXCEPTION_NAMES = re.compile(r"\b\w*(Error|Exception)\b|NotImplemented")


def tiny_mlp():
    return {"nodes": [{"id": "input", "type": "Input", "shape": [4]}, {"id": "hidden", "type": "Dense", "units": 8},
                      {"id": "relu", "type": "Activation", "activation": "relu"},
                      {"id": "logits", "type": "Dense", "units": 3}]}


def refused(path, *, restore_optimizer=False, match=None) -> str:
    """The ModelFileError message for ``path``, checked to name the file and no Python exception."""
    with pytest.raises(engine.ModelFileError) as caught:
        load_checkpoint(path, restore_optimizer=restore_optimizer)
    message = str(caught.value)
    assert type(caught.value) is engine.ModelFileError and message.startswith(f"{path}: ")
    assert not PYTHON_EXCEPTION_NAMES.search(message), message
    if match:
        assert re.search(match, message), message
    return message


@pytest.fixture
def saved(tmp_path):
    net = engine.build(tiny_mlp(), seed=1)
    optimizer = engine.optimizers.get("adam", net.parameters())
    return save(net, tmp_path / "model.llmodel", optimizer=optimizer)


def rewrite(path, mutate, compression=zipfile.ZIP_STORED):
    """Copy the archive with ``mutate(name, data) -> data`` applied to each member."""
    with zipfile.ZipFile(path) as archive:
        members = [(name, archive.read(name)) for name in archive.namelist()]
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members:
            archive.writestr(name, mutate(name, data))


def edit_manifest(path, edit):
    def mutate(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        edit(manifest)
        return json.dumps(manifest).encode()

    rewrite(path, mutate)


def member_of(path, array_name):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("manifest.json"))["arrays"][array_name]["file"]


def replace_array(path, array_name, blob, *, manifest_shape=None):
    """Put ``blob`` in place of an array's .npy, with a checksum that matches it."""
    member = member_of(path, array_name)

    def mutate(name, data):
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["arrays"][array_name]["sha256"] = hashlib.sha256(blob).hexdigest()
            if manifest_shape is not None:
                manifest["arrays"][array_name]["shape"] = manifest_shape
            return json.dumps(manifest).encode()
        return blob if name == member else data

    rewrite(path, mutate)


def patch_headers(path, member, *, method=None, flags=None):
    """Change a member's compression method or flag bits in its local and central zip headers."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    for signature, flag_at, method_at, name_at in ((b"PK\x03\x04", 6, 8, 30), (b"PK\x01\x02", 8, 10, 46)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            if data[start + name_at:start + name_at + len(name)] == name:
                if method is not None:
                    data[start + method_at:start + method_at + 2] = method.to_bytes(2, "little")
                if flags is not None:
                    data[start + flag_at:start + flag_at + 2] = flags.to_bytes(2, "little")
            start += 4
    path.write_bytes(bytes(data))


# -- the file itself: FIFOs, devices, size --------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_refused_at_once(tmp_path):
    fifo = tmp_path / "model.llmodel"
    os.mkfifo(fifo)
    outcome = []
    reader = threading.Thread(target=lambda: outcome.append(_message_of(fifo)), daemon=True)
    reader.start()
    reader.join(10)
    if reader.is_alive():  # the old reader blocks in open(): give it a writer so the thread ends
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert outcome and "named pipe" in outcome[0]


def _message_of(path):
    try:
        load_checkpoint(path)
    except engine.ModelFileError as error:
        return str(error)
    except Exception as error:  # noqa: BLE001 - reported by the assertion
        return f"wrong exception: {error!r}"
    return "loaded"


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_link_to_dev_zero_is_refused_without_reading_it(tmp_path):
    link = tmp_path / "model.llmodel"
    link.symlink_to("/dev/zero")
    refused(link, match="device, not a regular file")


def test_a_deeply_nested_manifest_is_refused(saved):
    rewrite(saved, lambda name, data: b"[" * 100_000 if name == "manifest.json" else data)
    refused(saved, match="manifest.json is nested 100,000 levels deep")


# -- F7: what zipfile and NumPy raise on their own -----------------------------------------------------


def test_an_unknown_compression_method_is_refused_naming_the_array(saved):
    patch_headers(saved, member_of(saved, "state/hidden.kernel"), method=99)
    refused(saved, match="array 'state/hidden.kernel' uses zip compression method 99")


def test_an_encrypted_member_is_refused_naming_the_array(saved):
    patch_headers(saved, member_of(saved, "state/logits.bias"), flags=0x1)
    refused(saved, match="array 'state/logits.bias' is encrypted")


def test_a_garbage_npy_header_is_refused_naming_the_array(saved):
    header = b"\x93NUMPY\x01\x00" + (118).to_bytes(2, "little") + b"{'descr': '<f4', (((" + b" " * 97 + b"\n"
    replace_array(saved, "state/hidden.bias", header + np.zeros(8, np.float32).tobytes())
    refused(saved, match="array 'state/hidden.bias' does not start with a valid NumPy header")


@pytest.mark.parametrize(("edit", "match"), [
    (lambda m: m.update(dtype=5), "the manifest's 'dtype' is 5"),
    (lambda m: m.update(dtype="complex128"), "the manifest's 'dtype' is 'complex128'"),
    (lambda m: m["arrays"]["state/hidden.kernel"].update(dtype=5), "'dtype' of array 'state/hidden.kernel' is 5"),
    (lambda m: m["arrays"]["state/hidden.kernel"].update(shape="4x8"), "'shape' of array 'state/hidden.kernel'"),
    (lambda m: m["arrays"]["state/hidden.kernel"].update(file=7), "'file'"),
    (lambda m: m["arrays"].update({"state/hidden.kernel": [1, 2]}), "entry for array 'state/hidden.kernel'"),
    (lambda m: m["arrays"].pop("state/logits.kernel"), "array 'state/logits.kernel' is missing"),
    (lambda m: m["arrays"].update({"evil": {}}), "array 'evil' is not a parameter"),
    (lambda m: m.update(optimizer=[1]), "'optimizer' section is not an object"),
    (lambda m: m["spec"]["nodes"][1].update(units=2**28), "the network inside (needs .* bytes of weights|is invalid)"),
    (lambda m: m["spec"]["nodes"][1].update(type=["Dense"]), "the network inside is invalid"),
])
def test_a_manifest_field_of_the_wrong_type_or_size_is_refused_naming_it(saved, edit, match):
    edit_manifest(saved, edit)
    refused(saved, match=match)


def test_damaged_optimizer_settings_are_refused_when_restoring(saved):
    edit_manifest(saved, lambda m: m["optimizer"]["optimizer"].update(lr="fast", beta_1=[1]))
    refused(saved, restore_optimizer=True, match="the optimizer state cannot be restored")


# -- F5: sizes claimed by the archive are checked before anything is decompressed -----------------------

BOMB_BYTES = 256 * 1024**2


def _write_zero_bomb(path, array_name, *, manifest_shape):
    """Rewrite ``path`` (deflated) with ``array_name`` holding BOMB_BYTES of float32 zeros, streamed in."""
    member = member_of(path, array_name)
    with zipfile.ZipFile(path) as archive:
        members = [(name, archive.read(name)) for name in archive.namelist()]
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (BOMB_BYTES // 4,)})
    digest, zeros = hashlib.sha256(header.getvalue()), bytes(1024**2)
    for _ in range(BOMB_BYTES // len(zeros)):
        digest.update(zeros)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            if name == "manifest.json":
                manifest = json.loads(data)
                manifest["arrays"][array_name].update(sha256=digest.hexdigest(), shape=manifest_shape)
                archive.writestr(name, json.dumps(manifest))
            elif name == member:
                with archive.open(name, "w", force_zip64=True) as stream:
                    stream.write(header.getvalue())
                    for _ in range(BOMB_BYTES // len(zeros)):
                        stream.write(zeros)
            else:
                archive.writestr(name, data)


@pytest.mark.parametrize("claims", ["its true shape", "the network's shape"])
def test_a_small_file_holding_a_huge_array_is_refused_in_bounded_memory(saved, claims):
    """The issue's 1.2 MB model with a 1 GiB zero array reached 2.1 GB; here 256 MiB, refused within 64 MB."""
    shape = [BOMB_BYTES // 4] if claims == "its true shape" else [8, 3]
    _write_zero_bomb(saved, "state/logits.kernel", manifest_shape=shape)
    assert saved.stat().st_size < 2 * 1024**2
    tracemalloc.start()
    try:
        message = refused(saved)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "array 'state/logits.kernel'" in message and peak < 64 * 1024**2, (message, peak)


def test_a_member_holding_more_than_it_declares_is_refused(saved):
    """zipfile trusts the central directory's size: a member that lies about it is damaged, not read whole."""
    member = member_of(saved, "state/hidden.kernel")
    data = bytearray(saved.read_bytes())
    with zipfile.ZipFile(saved) as archive:
        info = archive.getinfo(member)
    start = 0  # the central directory entry of this member declares 1 byte less than it holds
    while (start := data.find(b"PK\x01\x02", start)) >= 0:
        if data[start + 46:start + 46 + len(member)] == member.encode():
            data[start + 24:start + 28] = (info.file_size - 1).to_bytes(4, "little")
        start += 4
    saved.write_bytes(bytes(data))
    refused(saved, match="array 'state/hidden.kernel'")


# -- accepted silently before: NaN, Inf, absurd weights and optimizer state -----------------------------


@pytest.mark.parametrize(("value", "match"), [
    (np.nan, "holds NaN"), (np.inf, "holds infinite values"), (1e38, "holds a value of 1e\\+38"),
])
def test_non_finite_or_absurd_weights_are_refused_naming_the_array(tmp_path, value, match):
    net = engine.build(tiny_mlp(), seed=1)
    net.parameters()["logits.kernel"].value[2, 1] = value
    path = save(net, tmp_path / "model.llmodel")
    refused(path, match=f"array 'state/logits.kernel' {match}")


def test_weights_that_overflow_together_are_refused_naming_the_node(tmp_path):
    """1e20 is a finite weight; two layers of them make 1e40, beyond float32: every reading would be NaN."""
    net = engine.build(tiny_mlp(), seed=1)
    net.parameters()["hidden.kernel"].value[...] = 1e20
    net.parameters()["logits.kernel"].value[...] = 1e20
    path = save(net, tmp_path / "model.llmodel")
    refused(path, match="node 'logits' compute values that are not finite")


def test_non_finite_optimizer_state_is_refused_when_restoring(tmp_path):
    net = engine.build(tiny_mlp(), seed=1)
    optimizer = engine.optimizers.get("adam", net.parameters())
    config, arrays = optimizer.state_dict()
    arrays["hidden.kernel.decayed_grad_sum"][0, 0] = np.nan
    optimizer.load_state_dict(config, arrays)
    path = save(net, tmp_path / "model.llmodel", optimizer=optimizer)
    refused(path, restore_optimizer=True, match="array 'optimizer/hidden.kernel.decayed_grad_sum' holds NaN")
    assert load_checkpoint(path).optimizer is None  # the network alone is fine for predicting


def test_a_good_file_still_loads_exactly(saved):
    checkpoint = load_checkpoint(saved, restore_optimizer=True)
    assert checkpoint.optimizer is not None and checkpoint.network.num_params == 4 * 8 + 8 + 8 * 3 + 3


# -- F8: a damaged trainer state in a checkpoint ----------------------------------------------------------


@pytest.fixture(scope="module")
def run_checkpoint(tmp_path_factory):
    """A real checkpoint of a run stopped mid-epoch, and the data it trained on."""
    rng = np.random.default_rng(0)
    data = TrainingData(rng.standard_normal((60, 4)).astype(np.float32), rng.integers(0, 3, 60), name="toy")
    trainer = Trainer(engine.build(tiny_mlp()), data, TrainingConfig(epochs=3, batch_size=8, max_steps=5))
    trainer.run()
    path = tmp_path_factory.mktemp("run") / "run.llmodel"
    trainer.save_checkpoint(path)
    return path.read_bytes(), data


def _damage(path, field, value):
    """Set (or, for ``...``, remove) a field of the saved run given as a dotted path."""
    def edit(manifest):
        holder, *keys = manifest["metadata"]["trainer"], *field.split(".")
        for key in keys[:-1]:
            holder = holder[key]
        if value is ...:
            del holder[keys[-1]]
        else:
            holder[keys[-1]] = value

    edit_manifest(path, edit)


MISSING = ...
DAMAGES = [
    ("config", MISSING), ("config", [1]), ("config.epochs", "ten"), ("config.batch_size", 0),
    ("config.epochs", 2**40), ("config.optimizer", 5), ("config.colour", "red"),
    ("step", MISSING), ("step", "3"), ("step", -1), ("step", 10**25), ("step", 2.5),
    ("batches", MISSING), ("batches", "start"), ("batches.position", MISSING), ("batches.position", -3),
    ("batches.position", 61), ("batches.epoch", 10**25), ("batches.epoch", None), ("batches.seed", -1),
    ("batches.batch_size", 0), ("batches.batch_size", "8"), ("batches.num_samples", 59),
    ("batches.num_samples", MISSING), ("batches.shuffle", "yes"), ("batches.format", "x"), ("version", 9),
    ("history", {"a": 1}), ("history", [1, 2]), ("elapsed", -1), ("elapsed", "long"),
    ("best_val_accuracy", 7), ("best_val_accuracy", "high"), ("epochs_without_improvement", -2),
    ("epoch_totals", [1]), ("epoch_totals", "none"), ("learning_rate_changes", [{"step": 1}]),
    ("learning_rate_changes", 3),
]


@pytest.mark.parametrize(("field", "value"), DAMAGES, ids=[f"{f}={v!r:.12}" for f, v in DAMAGES])
def test_a_damaged_saved_run_is_refused_naming_the_field(tmp_path, run_checkpoint, field, value):
    good, data = run_checkpoint
    path = tmp_path / "run.llmodel"
    path.write_bytes(good)
    Trainer.from_checkpoint(path, data)  # the undamaged run resumes
    _damage(path, field, value)
    with pytest.raises(engine.ModelFileError) as caught:
        Trainer.from_checkpoint(path, data)
    message = str(caught.value)
    assert type(caught.value) is engine.ModelFileError and message.startswith(f"{path}: ")
    assert not PYTHON_EXCEPTION_NAMES.search(message), message
    named = "examples" if field == "batches.num_samples" and value != MISSING else field.split(".")[-1]
    assert named in message, message


def test_a_model_without_a_saved_run_cannot_be_resumed(saved, run_checkpoint):
    _, data = run_checkpoint
    with pytest.raises(engine.ModelFileError, match="holds no training run to resume"):
        Trainer.from_checkpoint(saved, data)
