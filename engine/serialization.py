"""Saving and loading models and checkpoints: data, never code.

A model file is a zip archive holding ``manifest.json`` (format name and version, the network spec,
dtype, optional optimizer config and user metadata, and for every array its file, shape, dtype and
SHA-256) and one ``.npy`` per array, read back with ``allow_pickle=False``. Writes go to a temporary
file in the same folder and are renamed over the target, so a crash never leaves half a file and an
existing model is replaced only by a complete one. A truncated, tampered or foreign file raises
``ModelFileError`` naming the file and the problem.

    engine.save(net, "mnist.llmodel", optimizer=opt, metadata={"epoch": 3})
    net = engine.load("mnist.llmodel")
    checkpoint = engine.load_checkpoint("mnist.llmodel", restore_optimizer=True)   # network + optimizer
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import ModelFileError, SpecError
from engine.files import atomic_write
from engine.network import Network

MODEL_FORMAT = "layerlab-model"
MODEL_VERSION = 1
MODEL_SUFFIX = ".llmodel"
MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 16 * 1024 * 1024  # a manifest is small; refuse to parse absurd ones


@dataclass
class Checkpoint:
    """What a model file holds: the network, the optimizer (when saved and asked for) and metadata."""

    network: Network
    optimizer: object | None
    optimizer_config: dict | None
    metadata: dict


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def save(network: Network, path, optimizer=None, metadata: dict | None = None) -> Path:
    """Write ``network`` (spec, weights, buffers) and optionally ``optimizer`` state to ``path`` atomically."""
    path = Path(path)
    arrays: dict[str, np.ndarray] = {f"state/{name}": value for name, value in network.state_dict().items()}
    optimizer_config = None
    if optimizer is not None:
        optimizer_config, optimizer_arrays = optimizer.state_dict()
        arrays.update({f"optimizer/{name}": np.asarray(value) for name, value in optimizer_arrays.items()})
    entries, blobs = {}, []
    for index, (name, value) in enumerate(arrays.items()):
        blob = _npy_bytes(value)
        member = f"arrays/{index:05d}.npy"
        entries[name] = {"file": member, "shape": list(value.shape), "dtype": value.dtype.name,
                         "sha256": hashlib.sha256(blob).hexdigest()}
        blobs.append((member, blob))
    manifest = {
        "format": MODEL_FORMAT,
        "version": MODEL_VERSION,
        "dtype": network.dtype.name,
        "spec": network.spec,
        "optimizer": optimizer_config,
        "metadata": metadata or {},
        "arrays": entries,
    }
    manifest_bytes = json.dumps(manifest, indent=1, sort_keys=True, allow_nan=False).encode("utf-8")

    def write(handle):
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(MANIFEST, manifest_bytes)
            for member, blob in blobs:
                archive.writestr(member, blob)

    try:
        atomic_write(path, write)
    except OSError as exc:
        raise ModelFileError(path, f"cannot write the model file ({exc.strerror or exc})") from None
    return path


def _read_manifest(archive: zipfile.ZipFile, path) -> dict:
    try:
        info = archive.getinfo(MANIFEST)
    except KeyError:
        raise ModelFileError(path, f"not a LayerLab model file (no {MANIFEST} inside)") from None
    if info.file_size > MAX_MANIFEST_BYTES:
        raise ModelFileError(path, f"{MANIFEST} is implausibly large ({info.file_size} bytes)")
    try:
        manifest = json.loads(archive.read(MANIFEST).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelFileError(path, f"{MANIFEST} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MODEL_FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise ModelFileError(path, f"not a LayerLab model file (format {found!r}, expected {MODEL_FORMAT!r})")
    version = manifest.get("version")
    if not isinstance(version, int) or version < 1:
        raise ModelFileError(path, f"unknown model file version {version!r}")
    if version > MODEL_VERSION:
        raise ModelFileError(path, f"saved by a newer LayerLab (model file version {version}; this one reads up "
                                   f"to {MODEL_VERSION}); update LayerLab to open it")
    for field in ("spec", "arrays"):
        if not isinstance(manifest.get(field), dict):
            raise ModelFileError(path, f"{MANIFEST} has no valid {field!r} section")
    return manifest


def _read_array(archive: zipfile.ZipFile, path, name: str, entry) -> np.ndarray:
    if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
        raise ModelFileError(path, f"array {name!r} has a malformed manifest entry")
    try:
        blob = archive.read(entry["file"])
    except KeyError:
        raise ModelFileError(path, f"array {name!r} is missing ({entry['file']} not in the archive)") from None
    if hashlib.sha256(blob).hexdigest() != entry.get("sha256"):
        raise ModelFileError(path, f"array {name!r} does not match its checksum (the file was modified or damaged)")
    try:
        array = np.lib.format.read_array(io.BytesIO(blob), allow_pickle=False)
    except ValueError as exc:
        raise ModelFileError(path, f"array {name!r} cannot be read ({exc})") from None
    if array.dtype.kind not in "fiub" or list(array.shape) != entry.get("shape"):
        raise ModelFileError(path, f"array {name!r} has dtype {array.dtype} and shape {array.shape}, "
                                   f"not what the manifest says")
    return array


def load_checkpoint(path, restore_optimizer: bool = False) -> Checkpoint:
    """Everything in a model file; with ``restore_optimizer`` the optimizer is rebuilt to resume training."""
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise ModelFileError(path, "no such file") from None
    except IsADirectoryError:
        raise ModelFileError(path, "is a folder, not a model file") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelFileError(path, f"not a LayerLab model file, or truncated ({exc})") from None
    with archive:
        try:
            manifest = _read_manifest(archive, path)
            arrays = {name: _read_array(archive, path, name, entry) for name, entry in manifest["arrays"].items()}
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ModelFileError(path, f"the file is damaged or truncated ({exc})") from None
    try:
        network = Network(manifest["spec"], dtype=manifest.get("dtype", "float32"))
    except (SpecError, ValueError) as exc:
        raise ModelFileError(path, f"the network inside is invalid: {exc}") from None
    state = {name[len("state/"):]: value for name, value in arrays.items() if name.startswith("state/")}
    try:
        network.load_state_dict(state)
    except ValueError as exc:
        raise ModelFileError(path, f"the weights do not fit the network: {exc}") from None

    optimizer = None
    optimizer_config = manifest.get("optimizer")
    if restore_optimizer and optimizer_config:
        from engine import optimizers

        optimizer_arrays = {name[len("optimizer/"):]: value for name, value in arrays.items()
                            if name.startswith("optimizer/")}
        try:
            optimizer = optimizers.from_state_dict(network.parameters(), optimizer_config, optimizer_arrays)
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelFileError(path, f"the optimizer state cannot be restored: {exc}") from None
    metadata = manifest.get("metadata") if isinstance(manifest.get("metadata"), dict) else {}
    return Checkpoint(network, optimizer, optimizer_config, metadata)


def load(path) -> Network:
    """The network saved in ``path``, ready for inference or further training."""
    return load_checkpoint(path).network
