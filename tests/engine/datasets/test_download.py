"""Downloads against a local HTTP server on 127.0.0.1 (never the internet): verified, resumable, atomic."""

import gzip
import hashlib
import json
import socket

import numpy as np
import pytest

from engine import datasets
from engine.datasets import DatasetError, download_file, registry
from engine.datasets.registry import DataFile, DatasetInfo

PAYLOAD = bytes(np.random.default_rng(7).integers(0, 256, 300_000, dtype=np.uint8))
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


def test_good_download_lands_atomically_with_progress(file_server, tmp_path):
    file_server.files["/data.bin"] = PAYLOAD
    calls = []
    dest = download_file(file_server.base_url + "data.bin", tmp_path / "data.bin", sha256=PAYLOAD_SHA,
                         progress=lambda done, total: calls.append((done, total)))
    assert dest.read_bytes() == PAYLOAD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.bin"]  # no .part left
    assert calls[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_wrong_checksum_keeps_nothing_and_says_so(file_server, tmp_path):
    file_server.files["/data.bin"] = PAYLOAD[:-1] + b"!"
    with pytest.raises(DatasetError, match=rf"data\.bin: checksum mismatch: expected SHA-256 {PAYLOAD_SHA}"):
        download_file(file_server.base_url + "data.bin", tmp_path / "data.bin", sha256=PAYLOAD_SHA)
    assert list(tmp_path.iterdir()) == []


def test_dropped_connection_keeps_the_part_and_the_next_try_resumes(file_server, tmp_path):
    file_server.files["/data.bin"] = PAYLOAD
    file_server.drop_after["/data.bin"] = 100_000
    url = file_server.base_url + "data.bin"
    with pytest.raises(DatasetError, match=r"connection dropped.*100,000 bytes kept in .*data\.bin\.part"):
        download_file(url, tmp_path / "data.bin", sha256=PAYLOAD_SHA, retries=0)
    assert (tmp_path / "data.bin.part").stat().st_size == 100_000
    assert not (tmp_path / "data.bin").exists()

    calls = []
    download_file(url, tmp_path / "data.bin", sha256=PAYLOAD_SHA, progress=lambda d, t: calls.append((d, t)))
    assert (tmp_path / "data.bin").read_bytes() == PAYLOAD
    assert file_server.requests[-1] == ("/data.bin", "bytes=100000-")
    assert calls[0][0] > 100_000 and calls[-1] == (len(PAYLOAD), len(PAYLOAD))  # counts from the resume point
    assert not (tmp_path / "data.bin.part").exists()


def test_a_drop_mid_file_is_resumed_within_one_call(file_server, tmp_path):
    file_server.files["/data.bin"] = PAYLOAD
    file_server.drop_after["/data.bin"] = 123_457
    download_file(file_server.base_url + "data.bin", tmp_path / "data.bin", sha256=PAYLOAD_SHA)
    assert (tmp_path / "data.bin").read_bytes() == PAYLOAD
    assert [rng for _, rng in file_server.requests] == [None, "bytes=123457-"]


def test_a_server_ignoring_range_restarts_cleanly(file_server, tmp_path):
    file_server.files["/data.bin"] = PAYLOAD
    file_server.honour_range = False
    (tmp_path / "data.bin.part").write_bytes(PAYLOAD[:5000])
    download_file(file_server.base_url + "data.bin", tmp_path / "data.bin", sha256=PAYLOAD_SHA)
    assert (tmp_path / "data.bin").read_bytes() == PAYLOAD


def test_offline_is_a_clear_error(closed_port_url, tmp_path):
    with pytest.raises(DatasetError, match="offline or unreachable"):
        download_file(closed_port_url + "data.bin", tmp_path / "data.bin", sha256=PAYLOAD_SHA)
    assert list(tmp_path.iterdir()) == []


def test_a_server_that_never_answers_times_out(tmp_path):
    with socket.socket() as silent:  # accepts connections (backlog) but never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/data.bin"
        with pytest.raises(DatasetError, match="offline or unreachable"):
            download_file(url, tmp_path / "data.bin", sha256=PAYLOAD_SHA, timeout=0.3)


def _published_set(server) -> DatasetInfo:
    """A tiny registered data set served by ``server`` as the official mirror."""
    rng = np.random.default_rng(3)
    arrays = {"train_images": rng.integers(0, 256, (20, 5, 5), dtype=np.uint8),
              "train_labels": np.arange(20, dtype=np.uint8) % 3,
              "test_images": rng.integers(0, 256, (6, 5, 5), dtype=np.uint8),
              "test_labels": np.arange(6, dtype=np.uint8) % 3}
    files = []
    for role, array in arrays.items():
        header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
        body = gzip.compress(header + array.tobytes(), mtime=0)
        server.files[f"/mirror/{role}-idx.gz"] = body
        files.append(DataFile(role, f"{role}-idx.gz", hashlib.sha256(body).hexdigest(), len(body)))
    return DatasetInfo(name="served", title="Served test set", shape=(1, 5, 5), class_names=("a", "b", "c"),
                       source="tests", license="CC0", files=tuple(files), mirrors=(server.base_url + "mirror/",))


def test_load_downloads_a_registered_set_into_the_data_dir(file_server, data_dir, monkeypatch):
    info = _published_set(file_server)
    monkeypatch.setitem(registry.REGISTRY, "served", info)
    assert not {s.name: s for s in datasets.list_datasets()}["served"].available_offline
    calls = []
    served = datasets.load("served", progress=lambda done, total: calls.append((done, total)))
    assert served.train_images.shape == (20, 1, 5, 5) and served.test_labels.tolist() == [0, 1, 2, 0, 1, 2]
    total = sum(f.size for f in info.files)
    assert calls[-1] == (total, total) and all(t == total for _, t in calls)
    assert sorted(p.name for p in (data_dir / "served").iterdir()) == sorted(f.filename for f in info.files)
    status = {s.name: s for s in datasets.list_datasets()}["served"]
    assert status.available_offline and json.loads(json.dumps(status.to_dict()))["location"] == str(data_dir / "served")

    # A second process (no memory cache) reads the files without the network.
    datasets.clear_cache()
    requests_before = len(file_server.requests)
    datasets.load("served", download=False)
    assert len(file_server.requests) == requests_before


def test_load_offline_names_the_folder_and_files_to_place_by_hand(closed_port_url, data_dir, monkeypatch):
    info = DatasetInfo(name="faraway", title="Far away set", shape=(1, 5, 5), class_names=("a", "b"),
                       source="tests", license="CC0", mirrors=(closed_port_url,),
                       files=(DataFile("train_images", "train-images-idx3-ubyte.gz", "ab" * 32, 10),
                              DataFile("train_labels", "train-labels-idx1-ubyte.gz", "cd" * 32, 10),
                              DataFile("test_images", "t10k-images-idx3-ubyte.gz", "ef" * 32, 10),
                              DataFile("test_labels", "t10k-labels-idx1-ubyte.gz", "01" * 32, 10)))
    monkeypatch.setitem(registry.REGISTRY, "faraway", info)
    with pytest.raises(DatasetError) as caught:
        datasets.load("faraway")
    message = str(caught.value)
    assert "Could not download Far away set" in message and "offline or unreachable" in message
    assert f"put these files in {data_dir / 'faraway'}" in message
    for data_file in info.files:
        assert data_file.filename in message and data_file.sha256 in message
    assert "LAYERLAB_DATA_DIR" in message


def test_a_mirror_with_a_bad_file_falls_back_to_the_next(file_server, data_dir, monkeypatch, closed_port_url):
    info = _published_set(file_server)
    for data_file in info.files:  # the first mirror serves wrong bytes for every file
        file_server.files[f"/bad/{data_file.filename}"] = b"wrong"
    info = DatasetInfo(**{**info.__dict__, "mirrors": (closed_port_url, file_server.base_url + "bad/",
                                                        *info.mirrors)})
    monkeypatch.setitem(registry.REGISTRY, "served", info)
    assert datasets.load("served").train_images.shape == (20, 1, 5, 5)
