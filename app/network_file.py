"""Reading a network file (format "layerlab-network", documented in docs/spec.md) for the window to open.

Only the file's envelope is checked here: JSON, format name, version, a list of typed nodes. Whether the
network itself is valid (shapes, edges, parameters) is the engine's judgement (``engine.infer_shapes``).
Files come from users and the internet, so every problem is a NetworkFileError naming the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from engine import SPEC_FORMAT as NETWORK_FORMAT
from engine import SPEC_VERSION as NEWEST_VERSION

# A spec is a few kilobytes; refusing huge files keeps a wrong pick from eating memory.
MAX_BYTES = 10 * 1024 * 1024


class NetworkFileError(ValueError):
    """A network file that cannot be opened; the message names the file and the problem."""


@dataclass(frozen=True)
class NetworkFile:
    path: Path
    name: str
    spec: dict

    @property
    def layer_types(self) -> list[str]:
        return [node["type"] for node in self.spec["nodes"]]


def read_network(path: str | Path) -> NetworkFile:
    path = Path(path)

    def problem(text: str) -> NetworkFileError:
        return NetworkFileError(f"{path}: {text}")

    try:
        size = path.stat().st_size
        if path.is_dir():
            raise problem("is a folder, not a network file")
        if size > MAX_BYTES:
            raise problem(f"is {size / 1e6:.0f} MB; a network file is at most {MAX_BYTES // (1024 * 1024)} MB")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise problem("no such file") from None
    except UnicodeDecodeError:
        raise problem("is not a text file (not UTF-8)") from None
    except OSError as error:
        raise problem(error.strerror or str(error)) from None
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as error:
        raise problem(f"is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})") from None
    if not isinstance(spec, dict):
        raise problem("does not hold a JSON object")
    if spec.get("format") != NETWORK_FORMAT:
        raise problem(f"is not a LayerLab network (format is {spec.get('format')!r}, expected {NETWORK_FORMAT!r})")
    version = spec.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise problem(f"has no valid format version (version is {version!r}, expected a whole number from 1)")
    if version > NEWEST_VERSION:
        raise problem(
            f"was written by a newer LayerLab (format version {version}; this one reads up to {NEWEST_VERSION})"
        )
    nodes = spec.get("nodes")
    if not isinstance(nodes, list) or not nodes:
        raise problem("has no nodes (expected a non-empty list under 'nodes')")
    for index, node in enumerate(nodes):
        if not isinstance(node, dict) or not isinstance(node.get("id"), str) or not isinstance(node.get("type"), str):
            raise problem(f"node {index} needs a text 'id' and 'type' (received {node!r:.80})")
    name = spec.get("name")
    return NetworkFile(path=path, name=name if isinstance(name, str) and name.strip() else path.stem, spec=spec)
