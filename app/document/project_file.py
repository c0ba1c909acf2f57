"""Reading and writing ``.layerlab`` project files; bare ``layerlab-network`` specs open as imports.

Plain functions, no Qt (the screenshot command checks a file before Qt starts). A project is JSON:

    {"format": "layerlab-project", "version": 1,
     "network": {...a layerlab-network spec, docs/spec.md...},
     "layout": {"conv1": [0.0, 90.0], ...},          node centres on the canvas
     "training": {"dataset": "mnist", "epochs": 10, ...}}

An imported data set is kept by name with its content checksum beside it, ``"dataset": "my-digits",
"dataset_sha256": "<64 hex digits>"``: the file stays readable without the set, and the training form says
which set is missing (or that the one here holds other data) when the project opens.

Files come from users and the internet: every problem is a ProjectFileError naming the file and what is
wrong, and writes go to a temporary file that replaces the old one only once it is complete.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import engine

PROJECT_FORMAT = "layerlab-project"
PROJECT_VERSION = 1
PROJECT_SUFFIX = ".layerlab"
# A project is a few kilobytes; refusing huge files keeps a wrong pick from eating memory.
MAX_BYTES = 10 * 1024 * 1024


class ProjectFileError(engine.UserFileError):
    """A project or network file that cannot be read or written; the message names the file and the problem.

    A ``UserFileError`` (``path``, ``problem``), so ``engine.user_files`` raises it directly.
    """


@dataclass(frozen=True)
class Project:
    """What a file holds. ``layout`` and ``training`` are None for a bare network spec (an import)."""

    path: Path
    spec: dict
    layout: dict[str, tuple[float, float]] | None
    training: dict | None

    @property
    def is_import(self) -> bool:
        return self.layout is None

    @property
    def name(self) -> str:
        name = self.spec.get("name")
        return name if isinstance(name, str) and name.strip() else self.path.stem


def read_project(path: str | Path) -> Project:
    """A ``.layerlab`` project or a ``layerlab-network`` spec, checked; ProjectFileError otherwise."""
    path = Path(path)
    return project_from_data(path, read_project_json(path))


def read_project_json(path: str | Path) -> dict:
    """The JSON object in ``path``, read as every user file is (``engine.user_files``): a regular file of at
    most ``MAX_BYTES`` (never a FIFO, a device or ``/dev/zero``), nested at most 64 deep, no giant integers."""
    data = engine.user_files.read_json(path, max_bytes=MAX_BYTES, error=ProjectFileError)
    if not isinstance(data, dict):
        raise ProjectFileError(path, "does not hold a JSON object")
    return data


def project_from_data(path: Path, data: dict) -> Project:
    """The project (or imported spec) that ``data``, read from ``path``, holds; checked as ``read_project`` does."""
    fmt = data.get("format")
    if fmt == engine.SPEC_FORMAT:
        return Project(path, _checked_spec(path, data), None, None)
    if fmt != PROJECT_FORMAT:
        raise ProjectFileError(path, f"is not a LayerLab project or network (format is {fmt!r}, expected "
                                     f"{PROJECT_FORMAT!r} or {engine.SPEC_FORMAT!r})")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ProjectFileError(path, f"has no valid format version (version is {version!r}, expected a whole "
                                     f"number from 1)")
    if version > PROJECT_VERSION:
        raise ProjectFileError(path, f"was saved by a newer LayerLab (project version {version}; this one reads "
                                     f"up to {PROJECT_VERSION}); update LayerLab to open it")
    network = data.get("network")
    if not isinstance(network, dict):
        raise ProjectFileError(path, "has no network (expected an object under 'network')")
    spec = _checked_spec(path, network)
    layout = _checked_layout(path, data.get("layout", {}), [node["id"] for node in spec["nodes"]])
    training = data.get("training", {})
    if not isinstance(training, dict):
        raise ProjectFileError(path, f"has unreadable training settings (expected an object under 'training', "
                                     f"received {training!r:.60})")
    dataset = training.get("dataset", "mnist")
    if not isinstance(dataset, str) or not dataset:
        raise ProjectFileError(path, f"names no data set (training.dataset must be a name such as 'mnist', "
                                     f"received {dataset!r:.60})")
    return Project(path, spec, layout, training)


def project_data(spec: dict, layout: dict, training: dict) -> dict:
    """The JSON object a project file holds."""
    return {
        "format": PROJECT_FORMAT,
        "version": PROJECT_VERSION,
        "network": spec,
        "layout": {node_id: [float(x), float(y)] for node_id, (x, y) in layout.items()},
        "training": training,
    }


def write_project(path: str | Path, spec: dict, layout: dict, training: dict) -> Path:
    """Write atomically: a temporary file beside ``path``, then a rename over it."""
    return write_json_atomically(path, project_data(spec, layout, training))


def write_json_atomically(path: str | Path, data: dict) -> Path:
    """``data`` as JSON through ``engine.atomic_write``: a complete file or the old one, never half of one."""
    path = Path(path)
    encoded = (json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
    try:
        return engine.atomic_write(path, lambda handle: handle.write(encoded))
    except OSError as error:
        raise ProjectFileError(path, f"cannot be written: {error.strerror or error}") from None


def _checked_spec(path: Path, spec: dict) -> dict:
    """The spec if the canvas can hold it: typed nodes with unique ids, edges between them, no cycle.

    Other problems (a kernel that does not fit, a missing Flatten) are the design's, not the file's:
    the canvas shows them on the nodes.
    """
    version = spec.get("version", engine.SPEC_VERSION)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ProjectFileError(path, f"has no valid network version (version is {version!r}, expected a whole "
                                     f"number from 1)")
    if version > engine.SPEC_VERSION:
        raise ProjectFileError(path, f"was saved by a newer LayerLab (network version {version}; this one reads "
                                     f"up to {engine.SPEC_VERSION}); update LayerLab to open it")
    nodes = spec.get("nodes")
    if not isinstance(nodes, list) or not nodes:
        raise ProjectFileError(path, "has no nodes (expected a non-empty list under 'nodes')")
    for index, node in enumerate(nodes):
        if not isinstance(node, dict) or not isinstance(node.get("id"), str) or not isinstance(node.get("type"), str):
            raise ProjectFileError(path, f"node {index} needs a text 'id' and 'type' (received {node!r:.80})")
    try:
        engine.infer_shapes(spec, collect_errors=True)
    except engine.SpecError as error:
        raise ProjectFileError(path, f"holds a network the canvas cannot show: {error}") from None
    except Exception as error:  # noqa: BLE001 - a file from anywhere must end in a message, never a traceback
        raise ProjectFileError(path, f"holds a network the canvas cannot show ({engine.describe_error(error)})") \
            from error
    return spec


def _checked_layout(path: Path, layout, node_ids: list[str]) -> dict[str, tuple[float, float]]:
    """The nodes' positions (the editor lays the network out afresh if one is missing)."""
    if not isinstance(layout, dict):
        raise ProjectFileError(path, f"has an unreadable layout (expected an object under 'layout', "
                                     f"received {layout!r:.60})")
    positions = {}
    for node_id, point in layout.items():
        ok = isinstance(point, list) and len(point) == 2
        ok = ok and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in point)
        if not ok:
            raise ProjectFileError(path, f"has an unreadable position for {node_id!r} (expected [x, y], "
                                         f"received {point!r:.60})")
        if node_id in node_ids:  # positions of nodes that are gone are dropped
            positions[node_id] = (float(point[0]), float(point[1]))
    return positions
