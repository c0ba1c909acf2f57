"""Opening network files: a valid one reads; every bad one fails with a message naming the file and the problem."""

import json

import pytest

from app.network_file import MAX_BYTES, NetworkFileError, read_network


def write(tmp_path, content, name="net.json"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def spec(**changes):
    base = {"format": "layerlab-network", "version": 1, "name": "seed", "nodes": [{"id": "input", "type": "Input"}]}
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


def test_reads_a_valid_network(network_file):
    network = read_network(network_file)
    assert network.name == "tiny-mlp"
    assert network.layer_types == ["Input", "Dense", "Dense"]
    assert network.path == network_file


def test_name_defaults_to_the_file_name(tmp_path):
    assert read_network(write(tmp_path, spec(name=None), "my-net.json")).name == "my-net"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "is not valid JSON (Expecting property name enclosed in double quotes at line 1, column 2)"),
        (b"\xff\xfe\x00binary", "is not a text file"),
        ([1, 2], "does not hold a JSON object"),
        (spec(format="keras"), "is not a LayerLab network (format is 'keras', expected 'layerlab-network')"),
        (spec(format=None), "is not a LayerLab network (format is None"),
        (spec(version="1"), "has no valid format version (version is '1'"),
        (spec(version=True), "has no valid format version"),
        (spec(version=2), "was written by a newer LayerLab (format version 2; this one reads up to 1)"),
        (spec(nodes=[]), "has no nodes"),
        (spec(nodes={"id": "x"}), "has no nodes"),
        (spec(nodes=[{"id": "input"}]), "node 0 needs a text 'id' and 'type'"),
    ],
)
def test_bad_files_name_the_file_and_the_problem(tmp_path, content, problem):
    path = write(tmp_path, content)
    with pytest.raises(NetworkFileError) as raised:
        read_network(path)
    assert str(raised.value).startswith(f"{path}: {problem}")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(NetworkFileError, match="no such file"):
        read_network(tmp_path / "absent.json")
    with pytest.raises(NetworkFileError, match="is a folder"):
        read_network(tmp_path)


def test_oversized_file_is_refused_unread(tmp_path):
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.truncate(MAX_BYTES + 1)
    with pytest.raises(NetworkFileError, match="a network file is at most 10 MB"):
        read_network(path)
