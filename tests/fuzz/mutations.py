"""Ways to spoil a valid file: bytes, JSON values and text, zip archives, and the special files of a file system.

Every function takes a ``random.Random`` so a case is made again, byte for byte, from its seed.
"""

from __future__ import annotations

import io
import json
import os
import random
import struct
import zipfile
import zlib
from pathlib import Path

# ------------------------------------------------------------------------------------------------ bytes


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(0, max(1, len(data)))]


def flip_bytes(rng: random.Random, data: bytes, *, head: int | None = None) -> bytes:
    """1 to 8 random bytes replaced (within the first ``head`` bytes when given: headers break differently)."""
    spoiled = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        spoiled[rng.randrange(min(len(data), head or len(data)))] = rng.randrange(256)
    return bytes(spoiled)


def insert_garbage(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.randbytes(rng.randint(1, 64)) + data[at:]


def zero_range(rng: random.Random, data: bytes) -> bytes:
    start = rng.randrange(len(data))
    end = min(len(data), start + rng.randint(1, 256))
    return data[:start] + bytes(end - start) + data[end:]


def append_garbage(rng: random.Random, data: bytes) -> bytes:
    return data + rng.randbytes(rng.randint(1, 4096))


BYTE_MUTATIONS = {
    "truncated": truncate,
    "bytes flipped": flip_bytes,
    "header bytes flipped": lambda rng, data: flip_bytes(rng, data, head=64),
    "garbage inserted": insert_garbage,
    "range zeroed": zero_range,
    "garbage appended": append_garbage,
}


def mutate_bytes(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    name = rng.choice(sorted(BYTE_MUTATIONS))
    return name, BYTE_MUTATIONS[name](rng, data)


# ------------------------------------------------------------------------------------------------- JSON


class Raw:
    """JSON text put verbatim where a value goes: what json.dumps cannot write (5000 digits, NaN, '[' * 10**5)."""

    def __init__(self, text: str):
        self.text = text


def deep_nesting(depth: int, opener: str = "[") -> Raw:
    closer = {"[": "]", "{": "}"}[opener]
    if opener == "{":
        return Raw('{"a":' * depth + "1" + closer * depth)
    return Raw(opener * depth + closer * depth)


def giant_int(digits: int) -> Raw:
    return Raw("9" * digits)


def hostile_value(rng: random.Random):
    """A value of the wrong type or an absurd size for whatever field it lands in."""
    choices = [
        [], {}, True, False, None, -1, 0, 1, 3, 2**31 - 1, 2**31, 2**32, 2**63, -(2**31), 10**30, 20_000,
        0.5, -0.0, 1e308, -1e308, 5e-324, "", "x", "Dense", "same", "relu", "A" * 300, "\u0000", "\ud800",
        "../../etc/passwd", [1, 2], [2**31, 2**31], [0, -1], [[[]]], {"name": "adam"}, {"a": 1}, [0] * 1000,
        Raw("NaN"), Raw("Infinity"), Raw("-Infinity"), Raw("1e400"), giant_int(5000), giant_int(31),
        deep_nesting(rng.choice([100, 1000, 100_000])), deep_nesting(rng.choice([100, 10_000]), "{"),
    ]
    return rng.choice(choices)


def dumps(value) -> str:
    """JSON text of ``value``, with every ``Raw`` written verbatim."""
    raws: list[str] = []

    def placeholder(item):
        if isinstance(item, Raw):
            raws.append(item.text)
            return f"@@raw{len(raws) - 1}@@"
        if isinstance(item, dict):
            return {key: placeholder(inner) for key, inner in item.items()}
        if isinstance(item, list):
            return [placeholder(inner) for inner in item]
        return item

    text = json.dumps(placeholder(value))
    for index, raw in enumerate(raws):
        text = text.replace(f'"@@raw{index}@@"', raw, 1)
    return text


def _slots(value, path=()):
    """(path) of every value inside ``value``, the root included."""
    yield path
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _slots(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _slots(inner, (*path, index))


def _get(value, path):
    for step in path:
        value = value[step]
    return value


def mutate_tree(rng: random.Random, tree, *, under: tuple = ()) -> tuple[str, object]:
    """A deep copy of ``tree`` with one value replaced, removed, duplicated or added (below ``under``)."""
    tree = json.loads(json.dumps(tree))
    slots = [path for path in _slots(_get(tree, under), under)]
    path = rng.choice(slots)
    operation = rng.choice(["replace", "replace", "replace", "remove", "add", "wrap"])
    if not path or (operation == "add" and not isinstance(_get(tree, path), dict)):
        operation = "replace" if path else "add"
    if operation == "add" and isinstance(_get(tree, path), dict):
        key = rng.choice(["nodes", "edges", "type", "id", "units", "shape", "format", "version", "spec", "arrays",
                          "optimizer", "recovery", "layout", "training", "x" * 300])
        _get(tree, path)[key] = hostile_value(rng)
        return f"added {key[:20]!r} at {_where(path)}", tree
    parent, key = _get(tree, path[:-1]), path[-1]
    if operation == "remove":
        del parent[key]
        return f"removed {_where(path)}", tree
    if operation == "wrap":
        parent[key] = [parent[key]]
        return f"wrapped {_where(path)} in a list", tree
    parent[key] = hostile_value(rng)
    return f"replaced {_where(path)}", tree


def _where(path) -> str:
    return "/".join(str(step) for step in path) or "the root"


TEXT_MUTATIONS = {
    "deep nesting": lambda rng, text: "[" * rng.choice([1000, 100_000]) + text,
    "object nesting": lambda rng, text: '{"a":' * 100_000 + text,
    "giant integer": lambda rng, text: text.replace("1", "9" * rng.choice([4301, 5000, 100_000]), 1),
    "NaN literal": lambda rng, text: text.replace("1", rng.choice(["NaN", "Infinity", "-Infinity", "1e400"]), 1),
    "invalid UTF-8": lambda rng, text: None,  # bytes level: see mutate_text
    "byte-order mark": lambda rng, text: "\ufeff" + text,
    "truncated text": lambda rng, text: text[: rng.randrange(len(text))],
    "trailing garbage": lambda rng, text: text + rng.choice(["}", "]", "x", "\x00", ",{}"]),
    "not an object": lambda rng, text: rng.choice(["[]", "null", "5", '"text"', "true", ""]),
}


def mutate_text(rng: random.Random, text: str) -> tuple[str, bytes]:
    name = rng.choice(sorted(TEXT_MUTATIONS))
    if name == "invalid UTF-8":
        data = text.encode("utf-8")
        at = rng.randrange(len(data))
        return name, data[:at] + rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80"]) + data[at:]
    return name, TEXT_MUTATIONS[name](rng, text).encode("utf-8")


# -------------------------------------------------------------------------------------------------- zip

# A .npy of 2**28 float32 zeros (1 GiB) deflates to about 1 MB; its CRC-32 and SHA-256 were computed once
# (zlib.crc32 and hashlib.sha256 over the 128-byte header and 2**30 zero bytes) so no case hashes 1 GiB.
BOMB_NPY_HEADER = (b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (268435456,), }"
                   + b" " * 52 + b"\n")
BOMB_CRC32 = 0x310F4655
BOMB_SHA256 = "e0ea2ee9fe9a1ebb5ff67505cb1fd7acb9010c7cb614ae0f19e48373a9912389"
BOMB_SIZE = len(BOMB_NPY_HEADER) + 2**30


def bomb_deflate() -> bytes:
    """Raw deflate of BOMB_NPY_HEADER + 1 GiB of zeros, built from one repeated block (no 1 GiB buffer)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(BOMB_NPY_HEADER) + compressor.flush(zlib.Z_FULL_FLUSH)
    # After a full flush the compressor forgets its history, so each MiB of zeros compresses the same way.
    block = compressor.compress(bytes(1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return head + block * 1024 + compressor.flush(zlib.Z_FINISH)


def zip_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def make_zip(members: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, blob in members.items():
            archive.writestr(name, blob)
    return buffer.getvalue()


def add_raw_deflated_member(archive_bytes: bytes, name: str, deflated: bytes, crc: int, size: int) -> bytes:
    """``archive_bytes`` with one more member whose deflate stream is given (too big to compress in a case)."""
    buffer = io.BytesIO(archive_bytes)
    with zipfile.ZipFile(buffer, "a") as archive:
        info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.CRC, info.compress_size, info.file_size = crc, len(deflated), size
        # Write the local header and the stream ourselves; zipfile records the entry for the central directory.
        archive.fp.seek(archive.start_dir)
        info.header_offset = archive.fp.tell()
        archive.fp.write(info.FileHeader(zip64=False))
        archive.fp.write(deflated)
        archive.start_dir = archive.fp.tell()
        archive.filelist.append(info)
        archive.NameToInfo[name] = info
        archive._didModify = True
    return buffer.getvalue()


def patch_zip_headers(data: bytes, *, method: int | None = None, flag_bits: int | None = None) -> bytes:
    """Every local and central header given compression ``method`` and/or extra ``flag_bits`` (1 = encrypted)."""
    spoiled = bytearray(data)
    for signature, flags_at, method_at in ((b"PK\x03\x04", 6, 8), (b"PK\x01\x02", 8, 10)):
        start = 0
        while (start := spoiled.find(signature, start)) != -1:
            if flag_bits is not None:
                flags = struct.unpack_from("<H", spoiled, start + flags_at)[0]
                struct.pack_into("<H", spoiled, start + flags_at, flags | flag_bits)
            if method is not None:
                struct.pack_into("<H", spoiled, start + method_at, method)
            start += 4
    return bytes(spoiled)


# ----------------------------------------------------------------------------------------- special files

SPECIAL_FILES = ("fifo", "symlink to /dev/zero", "symlink loop", "folder", "missing", "empty")


def make_special(kind: str, path: Path) -> Path:
    """``path`` made into one of SPECIAL_FILES (a FIFO blocks an open; /dev/zero never ends; ...)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink to /dev/zero":
        os.symlink("/dev/zero", path)
    elif kind == "symlink loop":
        os.symlink(path.name, path)
    elif kind == "folder":
        path.mkdir()
        (path / "inside.txt").write_text("a folder, not a file\n", encoding="utf-8")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind != "missing":
        raise ValueError(kind)
    return path
