"""Model files: round trips, atomic writes, and clear errors for truncated, tampered and foreign files."""

import io
import json
import zipfile

import numpy as np
import pytest

import engine
from engine import backend
from engine.serialization import load_checkpoint, save
from tests.engine.specs import seed_cnn, sequence_and_decoder_layers, small_cnn_with_everything


def _trained_a_little(spec, xp, steps=2, seed=3):
    net = engine.build(spec, seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(steps):  # moves BatchNormalization's moving statistics off their initial values
        x = rng.standard_normal((4,) + tuple(net.input_shape)).astype(np.float32)
        net.forward(x, training=True)
    return net


def test_round_trip_preserves_spec_weights_buffers_and_outputs(xp, tmp_path):
    net = _trained_a_little(small_cnn_with_everything(), xp)
    path = save(net, tmp_path / "model.llmodel", metadata={"epoch": 2, "note": "ünïcode"})
    checkpoint = load_checkpoint(path)
    loaded = checkpoint.network
    assert checkpoint.metadata == {"epoch": 2, "note": "ünïcode"}
    assert loaded.spec == net.spec
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[name], value, err_msg=name)
    x = np.random.default_rng(0).standard_normal((3, 1, 8, 8)).astype(np.float32)
    np.testing.assert_array_equal(backend.to_host(loaded.forward(x)), backend.to_host(net.forward(x)))


def test_round_trip_of_sequence_and_decoder_layers(xp, tmp_path):
    net = _trained_a_little(sequence_and_decoder_layers(), xp)
    loaded = load_checkpoint(save(net, tmp_path / "model.llmodel")).network
    assert loaded.spec == net.spec
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[name], value, err_msg=name)
    x = np.random.default_rng(0).standard_normal((3, 1, 6, 6)).astype(np.float32)
    np.testing.assert_array_equal(backend.to_host(loaded.forward(x)), backend.to_host(net.forward(x)))


def test_dense_kernels_are_stored_transposed_but_seen_saved_and_loaded_as_in_out(xp, tmp_path):
    """A Dense kernel lives (out, in) in the flat store (fast one-image products) and is (in, out) everywhere
    else: to the user, in state_dict (C-ordered host copies) and in files, as Keras has it."""
    net = engine.build(seed_cnn(), seed=0)
    kernel = net.parameters()["fc1.kernel"]
    assert kernel.shape == (3136, 1024) and kernel.value.T.flags.c_contiguous and kernel.grad.T.flags.c_contiguous
    logical = np.arange(kernel.size, dtype=np.float32).reshape(kernel.shape) / kernel.size
    kernel.value[...] = xp.asarray(logical)
    saved = net.state_dict()["fc1.kernel"]
    assert saved.flags.c_contiguous
    np.testing.assert_array_equal(saved, logical)
    loaded = engine.load(save(net, tmp_path / "seed.llmodel"))
    np.testing.assert_array_equal(backend.to_host(loaded.parameters()["fc1.kernel"].value), logical)


def test_the_file_is_a_zip_of_json_and_npy_without_pickles(tmp_path):
    path = save(engine.build(seed_cnn()), tmp_path / "seed.llmodel")
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["format"] == "layerlab-model" and manifest["version"] == 1
        assert manifest["spec"]["name"] == "seed-cnn"
        for entry in manifest["arrays"].values():
            np.lib.format.read_array(io.BytesIO(archive.read(entry["file"])), allow_pickle=False)


def test_save_is_atomic_and_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "model.llmodel"
    net = engine.build(seed_cnn())
    save(net, path)
    before = path.read_bytes()

    def explode(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("engine.serialization._npy_bytes", lambda a: b"x" * 10)
    monkeypatch.setattr("os.fsync", explode)
    with pytest.raises(engine.ModelFileError, match="cannot write the model file"):
        save(net, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.llmodel"]  # no temporary left behind


@pytest.fixture
def saved(tmp_path):
    return save(engine.build(small_cnn_with_everything()), tmp_path / "model.llmodel")


def _rewrite(path, mutate):
    """Copy the archive with ``mutate(name, data) -> data or None (drop)`` applied to each member."""
    with zipfile.ZipFile(path) as archive:
        members = [(name, archive.read(name)) for name in archive.namelist()]
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members:
            data = mutate(name, data)
            if data is not None:
                archive.writestr(name, data)


def test_truncated_file(saved):
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) // 2])
    with pytest.raises(engine.ModelFileError, match="model.llmodel: .*(truncated|damaged)"):
        engine.load(saved)


def test_tampered_array(saved):
    def flip_a_byte(name, data):
        if name.endswith("00001.npy"):
            data = data[:-1] + bytes([data[-1] ^ 0xFF])
        return data

    _rewrite(saved, flip_a_byte)
    with pytest.raises(engine.ModelFileError, match="does not match its checksum"):
        engine.load(saved)


def test_pickled_array_is_refused_even_with_a_matching_checksum(saved):
    import hashlib

    evil = io.BytesIO()
    np.lib.format.write_array(evil, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    evil = evil.getvalue()

    def swap(name, data):
        if name == "manifest.json":
            manifest = json.loads(data)
            entry = next(e for e in manifest["arrays"].values() if e["file"].endswith("00000.npy"))
            entry["sha256"] = hashlib.sha256(evil).hexdigest()
            return json.dumps(manifest).encode()
        return evil if name.endswith("00000.npy") else data

    _rewrite(saved, swap)
    with pytest.raises(engine.ModelFileError, match="array 'state/conv.kernel' holds .* dtype object"):
        engine.load(saved)


def test_foreign_newer_and_missing_files(saved, tmp_path):
    not_zip = tmp_path / "notes.llmodel"
    not_zip.write_text("hello")
    with pytest.raises(engine.ModelFileError, match="notes.llmodel: not a LayerLab model file"):
        engine.load(not_zip)
    with pytest.raises(engine.ModelFileError, match="no such file"):
        engine.load(tmp_path / "absent.llmodel")

    def newer(name, data):
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["version"] = 7
            return json.dumps(manifest).encode()
        return data

    _rewrite(saved, newer)
    with pytest.raises(engine.ModelFileError, match="newer LayerLab"):
        engine.load(saved)


def test_missing_array_and_wrong_shape(saved):
    _rewrite(saved, lambda name, data: None if name.endswith("00002.npy") else data)
    with pytest.raises(engine.ModelFileError, match="is missing"):
        engine.load(saved)


def test_invalid_spec_inside(saved):
    def break_spec(name, data):
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["spec"]["nodes"][1].update(kernel_size=50, padding="valid")
            return json.dumps(manifest).encode()
        return data

    _rewrite(saved, break_spec)
    with pytest.raises(engine.ModelFileError, match="the network inside is invalid: conv: kernel 50x50"):
        engine.load(saved)


@pytest.mark.parametrize("optimizer_name", ["adam", "momentum", "rmsprop"])
def test_optimizer_state_is_saved_so_training_resumes_exactly(xp, tmp_path, optimizer_name):
    """3 steps, save, load, 3 more steps == 6 steps straight (weights, moments, iteration count)."""
    rng = np.random.default_rng(0)
    batches = [(rng.standard_normal((4, 1, 8, 8)).astype(np.float32), rng.integers(0, 3, 4)) for _ in range(6)]
    spec = small_cnn_with_everything()
    spec["nodes"][10]["rate"] = 0.0  # dropout masks are not part of the saved state

    def train(net, opt, steps):
        for x, labels in steps:
            _, dlogits = engine.losses.softmax_cross_entropy(net.forward(x, training=True), xp.asarray(labels))
            net.backward(dlogits, input_grad=False)
            opt.step()

    straight = engine.build(spec, seed=4)
    straight_opt = engine.optimizers.get(optimizer_name, straight.parameters(), lr=1e-2)
    train(straight, straight_opt, batches)

    first = engine.build(spec, seed=4)
    first_opt = engine.optimizers.get(optimizer_name, first.parameters(), lr=1e-2)
    train(first, first_opt, batches[:3])
    save(first, tmp_path / "half.llmodel", optimizer=first_opt)
    resumed = load_checkpoint(tmp_path / "half.llmodel", restore_optimizer=True)
    assert resumed.optimizer.iterations == 3
    train(resumed.network, resumed.optimizer, batches[3:])
    for name, value in straight.state_dict().items():
        np.testing.assert_array_equal(resumed.network.state_dict()[name], value, err_msg=name)
