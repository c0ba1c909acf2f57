"""Hostile model files (.llmodel): a checkpoint written by ``layerlab train``, then spoiled.

Reader: ``engine.load_checkpoint(path, restore_optimizer=True)``, then one forward pass of the loaded
network, as ``layerlab predict`` does. Clean: success, or ``engine.UserFileError`` (ModelFileError).
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import zipfile
from pathlib import Path

import numpy as np

from tests.fuzz import base_files
from tests.fuzz import mutations as m
from tests.fuzz.cases import Format, path_kind

FILE_NAME = "model.llmodel"


def read_model(path: Path):
    def read():
        import engine

        checkpoint = engine.load_checkpoint(path, restore_optimizer=True)
        run_once(checkpoint.network)
        return checkpoint

    return read


def run_once(network) -> np.ndarray:
    """One forward pass on zeros: what a loaded model is for."""
    import engine

    report = engine.infer_shapes(network.spec)
    return network.predict(np.zeros((1, *report.input_node.output_shape), dtype=np.float32))


def _members() -> dict[str, bytes]:
    return m.zip_members(base_files.toy_checkpoint())


def _manifest(members: dict[str, bytes]) -> dict:
    return json.loads(members["manifest.json"])


def _rezip(members: dict[str, bytes], manifest=None, manifest_text: bytes | None = None) -> bytes:
    members = dict(members)
    if manifest_text is not None:
        members["manifest.json"] = manifest_text
    elif manifest is not None:
        members["manifest.json"] = m.dumps(manifest).encode("utf-8")
    return m.make_zip(members)


def _state_entry(rng: random.Random, manifest: dict) -> tuple[str, dict]:
    name = rng.choice(sorted(name for name in manifest["arrays"] if name.startswith("state/")))
    return name, manifest["arrays"][name]


def _replace_array(members: dict, manifest: dict, entry: dict, blob: bytes, shape=None, dtype=None) -> None:
    """``entry``'s member replaced by ``blob``, its checksum (and shape, dtype) updated so the reader gets that far."""
    members[entry["file"]] = blob
    entry["sha256"] = hashlib.sha256(blob).hexdigest()
    if shape is not None:
        entry["shape"] = list(shape)
    if dtype is not None:
        entry["dtype"] = dtype


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------------ kinds


def archive_bytes(rng):
    return m.mutate_bytes(rng, base_files.toy_checkpoint())


def manifest_value(under: tuple):
    def make(rng):
        members = _members()
        what, manifest = m.mutate_tree(rng, _manifest(members), under=under)
        return what, _rezip(members, manifest)

    return make


def manifest_text(rng):
    members = _members()
    what, text = m.mutate_text(rng, members["manifest.json"].decode("utf-8"))
    return what, _rezip(members, manifest_text=text)


def manifest_dtype(rng):
    members = _members()
    manifest = _manifest(members)
    manifest["dtype"] = rng.choice([5, None, [], {}, "object", "float16", "complex128", "<U3", "V8", "O", "x" * 300])
    return f"manifest dtype {manifest['dtype']!r:.20}", _rezip(members, manifest)


def zip_method(rng):
    method = rng.choice([99, 12, 14, 93, 95, 98])  # AES, bzip2, LZMA, zstd, xz, PPMd
    return f"compression method {method}", m.patch_zip_headers(base_files.toy_checkpoint(), method=method)


def zip_encrypted(rng):
    return "encrypted flag", m.patch_zip_headers(base_files.toy_checkpoint(), flag_bits=1)


def npy_header(rng):
    members = _members()
    manifest = _manifest(members)
    _, entry = _state_entry(rng, manifest)
    header = rng.choice([
        b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f4',\n",                                 # cut short
        b"\x93NUMPY\x01\x00\x40\x00{'descr': (((((, 'fortran_order': False, 'shape': (2,), }      \n",
        b"\x93NUMPY\x01\x00\x40\x00{'descr': '|O', 'fortran_order': False, 'shape': (2,), }       \n",
        b"\x93NUMPY\x01\x00\x40\x00{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }     \n",
        b"\x93NUMPY\x01\x00\x40\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2**64,), }  \n",
        b"\x93NUMPY\x09\x00\x40\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }      \n",
        b"\x93NUMPY\x01\x00\xff\xff" + b"{" * 200,
        b"\x93NUMPY\x03\x00\x40\x00\x00\x00" + "{'descr': '<f4'}".encode("utf-16"),
        b"PK\x03\x04" + bytes(60),
    ])
    _replace_array(members, manifest, entry, header + bytes(8))
    return "garbage .npy header", _rezip(members, manifest)


def array_bomb(rng):
    """An array member that inflates to 1 GiB from about 1 MB (the issue's F5), checksum and size honest."""
    members = _members()
    manifest = _manifest(members)
    _, entry = _state_entry(rng, manifest)
    del members[entry["file"]]
    entry.update(sha256=m.BOMB_SHA256, shape=[2**28], dtype="float32")
    archive = _rezip(members, manifest)
    return "array inflating to 1 GiB", m.add_raw_deflated_member(archive, entry["file"], _bomb(), m.BOMB_CRC32,
                                                                 m.BOMB_SIZE)


_BOMB: list[bytes] = []


def _bomb() -> bytes:
    if not _BOMB:
        _BOMB.append(m.bomb_deflate())
    return _BOMB[0]


def array_lies(rng):
    members = _members()
    manifest = _manifest(members)
    name, entry = _state_entry(rng, manifest)
    array = np.lib.format.read_array(io.BytesIO(members[entry["file"]]))
    choice = rng.choice(["shape", "dtype", "fortran", "scalar", "empty", "int", "bool", "float16"])
    if choice == "shape":
        _replace_array(members, manifest, entry, _npy(array.reshape(-1)[::-1].copy()), shape=[array.size])
    elif choice == "dtype":
        _replace_array(members, manifest, entry, _npy(array.astype("complex64")), dtype="complex64")
    elif choice == "fortran":
        _replace_array(members, manifest, entry, _npy(np.asfortranarray(array.T)), shape=array.T.shape)
    elif choice == "scalar":
        _replace_array(members, manifest, entry, _npy(np.float32(1.0)), shape=[])
    elif choice == "empty":
        _replace_array(members, manifest, entry, _npy(np.zeros((0,), np.float32)), shape=[0])
    else:
        dtype = {"int": "int64", "bool": "bool", "float16": "float16"}[choice]
        _replace_array(members, manifest, entry, _npy(array.astype(dtype)), dtype=dtype)
    return f"{name} with another {choice}", _rezip(members, manifest)


def nonfinite_weights(rng):
    members = _members()
    manifest = _manifest(members)
    name, entry = _state_entry(rng, manifest)
    array = np.lib.format.read_array(io.BytesIO(members[entry["file"]])).copy()
    value = rng.choice([np.nan, np.inf, -np.inf])
    array.reshape(-1)[rng.randrange(array.size)] = value
    _replace_array(members, manifest, entry, _npy(array))
    return f"{name} holds {value}", _rezip(members, manifest)


def member_games(rng):
    members = _members()
    manifest = _manifest(members)
    choice = rng.choice(["missing member", "no manifest", "directory entry", "10,000 members", "path traversal",
                         "not a zip", "deflated", "empty zip"])
    if choice == "missing member":
        del members[_state_entry(rng, manifest)[1]["file"]]
    elif choice == "no manifest":
        del members["manifest.json"]
    elif choice == "directory entry":
        members["manifest.json/"] = b""
        entry = _state_entry(rng, manifest)[1]
        entry["file"] = "arrays/"
        members["arrays/"] = b""
    elif choice == "10,000 members":
        members.update({f"junk/{index}": b"" for index in range(10_000)})
    elif choice == "path traversal":
        entry = _state_entry(rng, manifest)[1]
        entry["file"] = "../../../etc/passwd"
    elif choice == "not a zip":
        return choice, json.dumps(manifest).encode("utf-8")
    elif choice == "deflated":
        return choice, m.make_zip(members, compression=zipfile.ZIP_DEFLATED)
    else:
        return choice, m.make_zip({})
    return choice, _rezip(members, manifest)


KINDS = {
    "archive bytes": archive_bytes,
    "manifest value": manifest_value(()),
    "manifest spec value": manifest_value(("spec",)),
    "manifest arrays value": manifest_value(("arrays",)),
    "optimizer state value": manifest_value(("optimizer",)),
    "trainer metadata value": manifest_value(("metadata",)),
    "manifest text": manifest_text,
    "manifest dtype": manifest_dtype,
    "zip compression method": zip_method,
    "zip encrypted flag": zip_encrypted,
    "garbage .npy header": npy_header,
    "array inflating to 1 GiB": array_bomb,
    "array not as the manifest says": array_lies,
    "non-finite weights": nonfinite_weights,
    "zip members": member_games,
}

FORMATS = [
    Format(
        name="model",
        kinds={kind: path_kind(FILE_NAME, read_model, make) for kind, make in KINDS.items()},
        read_path=read_model,
        file_name=FILE_NAME,
        clean_errors=lambda: (__import__("engine").UserFileError,),
        must_refuse=frozenset({"non-finite weights"}),
    ),
]


def random_model_bytes(rng: random.Random) -> tuple[str, bytes]:
    """One hostile model file of any kind (the CLI's cases use it)."""
    kind = rng.choice(sorted(KINDS))
    what, data = KINDS[kind](rng)
    return f"{kind}: {what}", data
