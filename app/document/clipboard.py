"""Copied nodes as plain JSON data: what Copy puts on the clipboard and what Paste and Duplicate read.

The payload travels as the clipboard's text and names its own format ("layerlab-nodes"). The clipboard
is shared with other programs, so a payload is checked like a file before it is used.

    payload = copy_payload(document, ["conv1", "pool1"])   # the nodes, the edges between them, positions
    nodes, edges, positions = pasted_nodes(payload, taken=document.node_ids())   # fresh ids: conv2, pool2
"""

from __future__ import annotations

import copy
import json
import math
import re

import engine
from app.document.new_nodes import unique_id

PAYLOAD_FORMAT = "layerlab-nodes"
PAYLOAD_VERSION = 1
MAX_TEXT_CHARS = 10 * 1024 * 1024  # as much as a project file may hold; copied nodes are a few kilobytes


class ClipboardError(ValueError):
    """The clipboard holds no LayerLab nodes (or a damaged copy of them)."""


def copy_payload(document, node_ids) -> dict:
    chosen = [node_id for node_id in document.node_ids() if node_id in set(node_ids)]
    return {
        "format": PAYLOAD_FORMAT,
        "version": PAYLOAD_VERSION,
        "nodes": [document.node(node_id) for node_id in chosen],
        "edges": [[s, t] for s, t in document.edges() if s in chosen and t in chosen],
        "positions": {node_id: list(document.position(node_id)) for node_id in chosen},
    }


def payload_to_text(payload: dict) -> str:
    return json.dumps(payload, indent=1)


def payload_from_text(text: str) -> dict:
    """The payload in the clipboard's text, parsed as a file is (``engine.user_files.parse_json``: a depth
    limit, no giant integers) and checked; ClipboardError in words otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise ClipboardError("the clipboard holds no LayerLab nodes")
    if len(text) > MAX_TEXT_CHARS:
        raise ClipboardError(f"the clipboard holds {len(text):,} characters of text, far more than copied LayerLab "
                             f"nodes; nothing was pasted")
    try:
        payload = engine.user_files.parse_json(text)
    except engine.user_files.JsonError as error:
        if not text.lstrip().startswith(("{", "[")):  # ordinary text someone copied: no need to say why
            raise ClipboardError("the clipboard holds no LayerLab nodes") from None
        raise ClipboardError(f"the clipboard text {error}; nothing was pasted") from None
    check_payload(payload)
    return payload


def check_payload(payload) -> None:
    if not isinstance(payload, dict) or payload.get("format") != PAYLOAD_FORMAT:
        raise ClipboardError("the clipboard holds no LayerLab nodes")
    if payload.get("version") != PAYLOAD_VERSION:
        raise ClipboardError(f"the copied nodes come from another LayerLab version (version "
                             f"{payload.get('version')!r}; this one reads {PAYLOAD_VERSION})")
    nodes, edges, positions = payload.get("nodes"), payload.get("edges"), payload.get("positions")
    if not isinstance(nodes, list) or not all(
        isinstance(n, dict) and isinstance(n.get("id"), str) and isinstance(n.get("type"), str) for n in nodes
    ):
        raise ClipboardError("the copied nodes are damaged: each needs a text 'id' and 'type'")
    ids = [node["id"] for node in nodes]
    if len(set(ids)) != len(ids):
        raise ClipboardError("the copied nodes are damaged: an id appears twice")
    if not isinstance(edges, list) or not all(
        isinstance(e, list) and len(e) == 2 and e[0] in ids and e[1] in ids and e[0] != e[1] for e in edges
    ):
        raise ClipboardError("the copied nodes are damaged: an edge names a node that was not copied")
    if not isinstance(positions, dict) or not all(
        isinstance(positions.get(i), list) and len(positions[i]) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in positions[i])
        for i in ids
    ):
        raise ClipboardError("the copied nodes are damaged: every node needs an [x, y] position")


def _prefix(node_id: str) -> str:
    """'conv12' -> 'conv': a copy is named like its original, with the next free number."""
    return re.sub(r"\d+$", "", node_id) or "node"


def pasted_nodes(payload: dict, taken, offset=(0.0, 0.0)):
    """The payload's nodes with fresh ids, their edges renamed to match, and positions shifted by ``offset``."""
    check_payload(payload)
    taken = set(taken)
    renamed = {}
    for node in payload["nodes"]:
        renamed[node["id"]] = unique_id(_prefix(node["id"]), taken)
        taken.add(renamed[node["id"]])
    nodes = []
    for node in payload["nodes"]:
        node = copy.deepcopy(node)
        node["id"] = renamed[node["id"]]
        nodes.append(node)
    edges = [(renamed[s], renamed[t]) for s, t in payload["edges"]]
    positions = {
        renamed[old]: (payload["positions"][old][0] + offset[0], payload["positions"][old][1] + offset[1])
        for old in renamed
    }
    return nodes, edges, positions


def payload_centre(payload: dict) -> tuple[float, float]:
    points = list(payload["positions"].values())
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
