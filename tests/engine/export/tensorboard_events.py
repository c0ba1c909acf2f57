"""Reading TensorBoard event files back with tensorboardX's own protos (tensorboard itself is not a dependency).

    events = read_run("runs/2026-12-07_06-13-10")     # every Event of every events.out.tfevents.* file there
    scalars(events)["train/loss"]                     # [(step, value), ...] in file order
    histograms(events)["weights/conv1.kernel"]        # [(step, HistogramProto), ...]
    graph(events)                                     # the GraphDef, or None
    texts(events)["design"]                           # [(step, text), ...]

An event file is a TFRecord: each record is an 8-byte little-endian length, a 4-byte CRC of the length, the
data (a serialized Event), and a 4-byte CRC of the data. The CRCs are not checked here.
"""

from __future__ import annotations

import struct
from pathlib import Path


def read_records(path) -> list[bytes]:
    data = Path(path).read_bytes()
    records, position = [], 0
    while position < len(data):
        (length,) = struct.unpack("<Q", data[position:position + 8])
        start = position + 12
        records.append(data[start:start + length])
        position = start + length + 4
    return records


def read_run(folder) -> list:
    from tensorboardX.proto import event_pb2

    events = []
    for path in sorted(Path(folder).glob("events.out.tfevents.*")):
        for record in read_records(path):
            event = event_pb2.Event()
            event.ParseFromString(record)
            events.append(event)
    return events


def scalars(events) -> dict[str, list[tuple[int, float]]]:
    found: dict[str, list] = {}
    for event in events:
        for value in event.summary.value:
            if value.HasField("simple_value"):
                found.setdefault(value.tag, []).append((event.step, value.simple_value))
    return found


def histograms(events) -> dict[str, list]:
    found: dict[str, list] = {}
    for event in events:
        for value in event.summary.value:
            if value.HasField("histo"):
                found.setdefault(value.tag, []).append((event.step, value.histo))
    return found


def texts(events) -> dict[str, list[tuple[int, str]]]:
    found: dict[str, list] = {}
    for event in events:
        for value in event.summary.value:
            if value.metadata.plugin_data.plugin_name == "text":
                found.setdefault(value.tag, []).append((event.step, value.tensor.string_val[0].decode()))
    return found


def graph(events):
    from tensorboardX.proto import graph_pb2

    for event in events:
        if event.graph_def:
            graph_def = graph_pb2.GraphDef()
            graph_def.ParseFromString(event.graph_def)
            return graph_def
    return None
