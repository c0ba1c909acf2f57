"""Saving and loading models and checkpoints: data, never code.

A model file is a zip archive holding ``manifest.json`` (format name and version, the network spec,
dtype, optional optimizer config and user metadata, and for every array its file, shape, dtype and
SHA-256) and one ``.npy`` per array, read back with ``allow_pickle=False``. Writes go through
``atomic_write``, so a crash never leaves half a file and an existing model is replaced only by a
complete one.

What the reader guarantees, whatever the file holds (see ``engine.model_archive`` for the archive checks):

- every failure is a ``ModelFileError`` naming the file and the array or field at fault, never another
  exception: a FIFO, a device or a link to ``/dev/zero`` is refused before it is read, a file over
  ``MAX_MODEL_BYTES`` too, the manifest is parsed with a depth limit and no giant integers;
- memory stays bounded by what the network inside needs: its spec is checked by shape inference before
  any weight is allocated, and every array entry (name, shape, dtype, compression method, encryption,
  declared size) is checked against that network before any member is decompressed, then read in
  bounded chunks, so a small file claiming a gigabyte of zeros is refused having read almost nothing;
- the weights it returns are finite, within ``MAX_WEIGHT_MAGNITUDE``, and give finite outputs for an
  ordinary input (a model whose readings would be NaN is refused, naming the node); a restored optimizer's
  state is finite too.

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

from engine.errors import ModelFileError, SpecError, describe_error
from engine.files import atomic_write
from engine.model_archive import (
    MAX_MODEL_BYTES,
    MAX_WEIGHT_MAGNITUDE,
    check_entry,
    member_info,
    open_archive,
    read_array,
    read_member,
)
from engine.network import DTYPES, Network
from engine.shapes import infer_shapes
from engine.user_files import JsonError, open_regular, parse_json, reading

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


def load_checkpoint(path, restore_optimizer: bool = False) -> Checkpoint:
    """Everything in a model file; with ``restore_optimizer`` the optimizer is rebuilt to resume training.

    Any problem with the file is a ``ModelFileError`` naming the file and the array or field at fault.
    """
    path = Path(path)
    with open_regular(path, max_bytes=MAX_MODEL_BYTES, error=ModelFileError) as stream:
        archive = open_archive(stream, path)
        with archive, reading(path, error=ModelFileError, what="the file is damaged or truncated"):
            manifest = _read_manifest(archive, path)
            network = _build_network(manifest, path)
            optimizer_config = manifest.get("optimizer")
            restoring = bool(restore_optimizer and optimizer_config)
            state_entries, optimizer_entries = _checked_entries(archive, path, manifest["arrays"], network, restoring)
            # Every entry is checked before any member is decompressed; then one array at a time.
            state = {entry.name: read_array(archive, path, entry, MAX_WEIGHT_MAGNITUDE) for entry in state_entries}
            network.load_state_dict({name[len("state/"):]: value for name, value in state.items()})
            del state
            _check_outputs_are_finite(network, path)
            optimizer = None
            if restoring:
                arrays = {entry.name[len("optimizer/"):]: read_array(archive, path, entry, None)
                          for entry in optimizer_entries}
                optimizer = _restore_optimizer(network, optimizer_config, arrays, path)
    metadata = manifest.get("metadata") if isinstance(manifest.get("metadata"), dict) else {}
    return Checkpoint(network, optimizer, optimizer_config, metadata)


def load(path) -> Network:
    """The network saved in ``path``, ready for inference or further training."""
    return load_checkpoint(path).network


def _read_manifest(archive: zipfile.ZipFile, path) -> dict:
    info = member_info(archive, path, MANIFEST, "the manifest")
    if info.file_size > MAX_MANIFEST_BYTES:
        raise ModelFileError(path, f"{MANIFEST} is implausibly large ({info.file_size:,} bytes)")
    try:
        manifest = parse_json(bytes(read_member(archive, path, info, "the manifest")))
    except JsonError as exc:
        raise ModelFileError(path, f"{MANIFEST} {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MODEL_FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise ModelFileError(path, f"not a LayerLab model file (format {found!r:.60}, expected {MODEL_FORMAT!r})")
    version = manifest.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(path, f"unknown model file version {version!r:.60}")
    if version > MODEL_VERSION:
        raise ModelFileError(path, f"saved by a newer LayerLab (model file version {version}; this one reads up "
                                   f"to {MODEL_VERSION}); update LayerLab to open it")
    for field in ("spec", "arrays"):
        if not isinstance(manifest.get(field), dict):
            raise ModelFileError(path, f"{MANIFEST} has no valid {field!r} section")
    dtype = manifest.get("dtype", "float32")
    if dtype not in DTYPES:
        raise ModelFileError(path, f"the manifest's 'dtype' is {dtype!r:.60}; LayerLab networks are "
                                   f"{' or '.join(DTYPES)}")
    if manifest.get("optimizer") is not None and not isinstance(manifest["optimizer"], dict):
        raise ModelFileError(path, "the manifest's 'optimizer' section is not an object")
    return manifest


def _build_network(manifest: dict, path) -> Network:
    """The network the manifest's spec describes; its size is checked against the file's before it is built."""
    spec, dtype = manifest["spec"], np.dtype(manifest.get("dtype", "float32"))
    try:
        report = infer_shapes(spec)  # allocates nothing; refuses a design whose memory cannot fit
        needed = report.total_params * dtype.itemsize
        if needed > MAX_MODEL_BYTES:
            raise ModelFileError(path, f"the network inside needs {needed:,} bytes of weights, more than a model "
                                       f"file may hold ({MAX_MODEL_BYTES:,})")
        return Network(spec, dtype=dtype.name)
    except (SpecError, ValueError) as exc:
        raise ModelFileError(path, f"the network inside is invalid: {exc}") from None
    except MemoryError:
        raise ModelFileError(path, "the network inside needs more memory than this computer has") from None


def _checked_entries(archive, path, entries: dict, network: Network, restoring: bool):
    """(state entries, optimizer entries) as ``ArrayEntry``s: names, shapes, dtypes and member sizes all
    match what ``network`` expects. Nothing is decompressed here."""
    expected = {f"state/{name}": tuple(p.shape) for name, p in network.parameters().items()}
    expected.update({f"state/{name}": tuple(b.shape) for name, b in network.buffers().items()})
    parameter_shapes = {name: tuple(p.shape) for name, p in network.parameters().items()}
    missing = sorted(set(expected) - set(entries))
    if missing:
        raise ModelFileError(path, f"array {missing[0]!r} is missing from the manifest (the network inside "
                                   f"needs it)")
    state, optimizer = [], []
    for name, entry in entries.items():
        if name in expected:
            state.append(check_entry(archive, path, name, entry, expected[name], network.dtype))
        elif name.startswith("optimizer/"):
            parameter = name[len("optimizer/"):].rpartition(".")[0]
            if parameter not in parameter_shapes:
                raise ModelFileError(path, f"array {name!r} is optimizer state for {parameter!r:.80}, which is not "
                                           f"a parameter of the network inside")
            if restoring:
                optimizer.append(check_entry(archive, path, name, entry, parameter_shapes[parameter], network.dtype))
        else:
            raise ModelFileError(path, f"array {name!r:.80} is not a parameter or buffer of the network inside")
    return state, optimizer


def _check_outputs_are_finite(network: Network, path) -> None:
    """Refuse weights that are finite one by one but overflow together (two layers of 1e20 make 1e40).

    One ordinary input (values in [0, 1), as images are fed) goes through the network; a node whose
    output is not finite means every reading of this model would be NaN, so nothing is read from it.
    """
    rng = np.random.default_rng(0)
    x = rng.random((1, *network.input_shape)).astype(network.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        outputs = network.forward(x, return_all=True)
    xp = network.xp
    for node_id in network.order:
        if not bool(xp.isfinite(outputs[node_id]).all()):
            raise ModelFileError(path, f"the weights make node {node_id!r} compute values that are not finite "
                                       f"(they overflow) from an ordinary input: the model is damaged")


def _restore_optimizer(network: Network, config: dict, arrays: dict, path):
    from engine import optimizers

    try:
        return optimizers.from_state_dict(network.parameters(), config, arrays)
    except Exception as exc:  # noqa: BLE001 - any complaint about a saved optimizer means the file is bad
        raise ModelFileError(path, f"the optimizer state cannot be restored: {describe_error(exc)}") from None
