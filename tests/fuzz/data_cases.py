"""Hostile data files: IDX (and IDX folders), pixel CSV, single images and image folders.

- idx: ``engine.datasets.read_idx`` on one file, ``import_idx_folder`` on a folder. Clean: DatasetError.
- csv: ``engine.datasets.import_csv``. Clean: DatasetError.
- image: ``engine.user_files.read_image`` (what Draw > Load reads through) and the app's
  ``app.commands.image_input.read_image`` (``layerlab predict``), in turn. Clean: UserFileError, CommandError.
- image folder: ``engine.datasets.import_image_folder``. Clean: DatasetError (a bad image is skipped and
  listed in the data set's warnings: success).
"""

from __future__ import annotations

import gzip
import os
import random
import struct
import zlib
from pathlib import Path

import numpy as np

from tests.fuzz import base_files
from tests.fuzz import mutations as m
from tests.fuzz.cases import Format, path_kind

# ------------------------------------------------------------------------------------------------- IDX


def read_idx(path: Path):
    return lambda: __import__("engine").datasets.read_idx(path)


def import_idx_folder(folder: Path):
    return lambda: __import__("engine").datasets.import_idx_folder(folder)


def idx_base(rng):
    role = rng.choice(["images", "labels"])
    return role, base_files.idx_bytes(role, rng.random() < 0.5)


def idx_bytes(rng):
    role, data = idx_base(rng)
    what, spoiled = m.mutate_bytes(rng, data)
    return f"{role}: {what}", spoiled


def idx_header(rng):
    """A raw IDX whose header lies: dtype code, dimension count, sizes."""
    code = rng.choice([0x08, 0x08, 0x0C, 0x0D, 0x0E, 0x00, 0x07, 0xFF])
    dims = rng.choice([(2**31,), (2**32 - 1, 2**32 - 1), (0,), (20, 0, 28), (20, 28, 28), (1,) * 16, (2,) * 17,
                       (60_000, 28, 28), (2**16, 2**16), ()])
    payload = bytes(rng.choice([0, 1, 20 * 28 * 28, 4096]))
    ndim = rng.choice([len(dims), len(dims), 0, 255])
    data = bytes([0, 0, code, ndim]) + b"".join(struct.pack(">I", d) for d in dims) + payload
    if rng.random() < 0.3:
        data = gzip.compress(data, mtime=0)
    return f"code 0x{code:02X}, ndim {ndim}, dims {dims[:3]}, {len(payload)} data bytes", data


def idx_gzip(rng):
    role, _ = idx_base(rng)
    raw = base_files.idx_bytes(role, False)
    packed = gzip.compress(raw, mtime=0)
    choice = rng.choice(["cut stream", "body flipped", "crc wrong", "two members", "trailing junk", "not deflate",
                         "claims 2**31 items"])
    if choice == "cut stream":
        packed = packed[: rng.randrange(10, len(packed))]
    elif choice == "body flipped":
        packed = packed[:10] + m.flip_bytes(rng, packed[10:])
    elif choice == "crc wrong":
        packed = packed[:-8] + bytes(8)
    elif choice == "two members":
        packed += packed
    elif choice == "trailing junk":
        packed += rng.randbytes(100)
    elif choice == "not deflate":
        packed = packed[:2] + bytes([99]) + packed[3:]
    else:
        header = bytes([0, 0, 8, 1]) + struct.pack(">I", 2**31)
        packed = gzip.compress(header + bytes(1 << 20), mtime=0)
    return f"{role} gzip: {choice}", packed


def idx_folder(rng: random.Random, folder: Path):
    """An MNIST-like folder with one file spoiled (counts that disagree, a label of 2**31-1, NaN labels...)."""
    root = folder / "idx"
    root.mkdir()
    images = base_files.idx_bytes("images", False)
    labels = base_files.idx_bytes("labels", False)
    choice = rng.choice(["images spoiled", "labels spoiled", "fewer labels", "int32 label 2**31-1", "NaN labels",
                         "labels 2-D", "images 1-D", "special file", "test images only"])
    if choice == "images spoiled":
        images = m.mutate_bytes(rng, images)[1]
    elif choice == "labels spoiled":
        labels = m.mutate_bytes(rng, labels)[1]
    elif choice == "fewer labels":
        labels = _idx(np.arange(7, dtype=np.uint8) % 3)
    elif choice == "int32 label 2**31-1":
        labels = _idx(np.array([0, 1, 2] * 6 + [1, 2**31 - 1], dtype=np.int32))
    elif choice == "NaN labels":
        labels = _idx(np.array([0.0, np.nan, np.inf] * 6 + [1.0, 1.5], dtype=np.float32))
    elif choice == "labels 2-D":
        labels = _idx(np.zeros((20, 3), dtype=np.uint8))
    elif choice == "images 1-D":
        images = _idx(np.zeros(20, dtype=np.uint8))
    (root / "train-images-idx3-ubyte").write_bytes(images)
    if choice == "special file":
        m.make_special(rng.choice([k for k in m.SPECIAL_FILES if k != "missing"]), root / "train-labels-idx1-ubyte")
    else:
        (root / "train-labels-idx1-ubyte").write_bytes(labels)
    if choice == "test images only":
        (root / "t10k-images-idx3-ubyte").write_bytes(images)
    return f"folder: {choice}", import_idx_folder(root)


def _idx(array: np.ndarray) -> bytes:
    code = {np.dtype(np.uint8): 8, np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D}[array.dtype]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


# ------------------------------------------------------------------------------------------------- CSV


def read_csv(path: Path):
    return lambda: __import__("engine").datasets.import_csv(path)


def csv_bytes(rng):
    return m.mutate_bytes(rng, base_files.csv_text().encode("utf-8"))


def csv_values(rng):
    """One value replaced by something that is not a pixel or a label."""
    lines = base_files.csv_text().splitlines()
    row = rng.randrange(1, len(lines))
    fields = lines[row].split(",")
    column = rng.choice([0, 0, rng.randrange(len(fields))])
    fields[column] = rng.choice(["nan", "inf", "-1", "256", "1e400", "9" * 5000, str(2**31 - 1), str(2**63),
                                 "0x10", "1.5", "", " ", '"5"', "\u0663", "\x00", "NaN", "-0", "+3"])
    lines[row] = ",".join(fields)
    return f"line {row + 1}, column {column + 1} = {fields[column][:12]!r}", ("\n".join(lines) + "\n").encode("utf-8")


def csv_shape(rng):
    text = base_files.csv_text()
    choice = rng.choice(["ragged row", "header only", "blank lines", "bad UTF-8 after 8 KB", "quoted newline",
                         "100,000 columns", "one huge field", "NUL bytes", "no header, 1 column", "CR only"])
    if choice == "ragged row":
        text += "1,2,3\n"
    elif choice == "header only":
        text = text.splitlines()[0] + "\n"
    elif choice == "blank lines":
        text = "\n\n" + text.replace("\n", "\n\n")
    elif choice == "bad UTF-8 after 8 KB":
        data = base_files.csv_text(rows=300).encode("utf-8")
        return choice, data[:9000] + b"\xff\xfe" + data[9000:]
    elif choice == "quoted newline":
        text = text.replace(",", ',"1\n2",', 1)
    elif choice == "100,000 columns":
        text = "0," + ",".join(["0"] * 100_000) + "\n"
    elif choice == "one huge field":
        text += "1," + "7" * (4 * 1024**2) + "\n"
    elif choice == "NUL bytes":
        text = text.replace("\n", "\x00\n", 3)
    elif choice == "no header, 1 column":
        text = "1\n2\n3\n"
    else:
        text = text.replace("\n", "\r")
    return choice, text.encode("utf-8")


# ------------------------------------------------------------------------------------------------ images

# Formats Pillow knows and LayerLab must not take for an image a person meant (or must read harmlessly).
FOREIGN = ("ICO", "PCX", "TGA", "PPM", "SGI", "IM", "DDS", "XBM")
EPS_LOOP = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 28 28\n{ } loop\n"
EPS_BROKEN = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 28 28\n(unclosed string\n%%EOF\n"


def read_image_engine(path: Path):
    return lambda: __import__("engine").user_files.read_image(path)


def read_image_predict(path: Path):
    def read():
        from app.commands.image_input import read_image

        return read_image(str(path), (1, 28, 28))

    return read


def read_image_any(path: Path):
    """Both image readers, one after the other (a special file goes to each): the engine's clean refusal
    lets the app's reader run; what the app's reader does is the outcome."""
    engine_reader, predict_reader = read_image_engine(path), read_image_predict(path)

    def read():
        import engine

        try:
            engine_reader()
        except engine.UserFileError:
            pass
        return predict_reader()

    return read


def image_file(rng) -> tuple[str, bytes]:
    """Hostile image bytes of any kind (image folders and the CLI use it too)."""
    choice = rng.choice(["mutated", "mutated", "mutated", "valid mode", "EPS", "foreign", "size lie", "bomb", "text"])
    fmt = rng.choice(base_files.IMAGE_FORMATS)
    if choice == "mutated":
        what, data = m.mutate_bytes(rng, base_files.image_bytes(fmt))
        return f"{fmt} {what}", data
    if choice == "valid mode":
        mode = rng.choice(["RGBA", "RGB", "P", "1", "I;16", "LA", "CMYK", "F"])
        fmt = {"CMYK": "JPEG", "F": "TIFF", "I;16": "PNG", "LA": "PNG"}.get(mode, fmt)
        if fmt == "JPEG" and mode in ("RGBA", "P", "1", "LA"):
            fmt = "PNG"
        if fmt == "WEBP" and mode not in ("RGB", "RGBA"):
            fmt = "PNG"
        if fmt == "BMP" and mode in ("LA", "I;16", "F"):
            fmt = "PNG"
        return f"valid {fmt} in mode {mode}", base_files.image_bytes(fmt, mode)
    if choice == "EPS":
        return "EPS content named .png", rng.choice([EPS_LOOP, EPS_BROKEN])
    if choice == "foreign":
        foreign = rng.choice(FOREIGN)
        try:
            return f"{foreign} image", base_files.foreign_image_bytes(foreign)
        except (OSError, KeyError, ValueError):  # a Pillow without that writer: an empty file instead
            return f"{foreign} (not writable here)", b""
    if choice == "size lie":
        return _size_lie(rng)
    if choice == "bomb":
        return "PNG of 30,000 x 30,000 zeros", _png_bomb()
    return "text named .png", rng.choice([b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"%PDF-1.4\n", b"GIF89a",
                                          b"\x89PNG\r\n\x1a\n", b"BM" + bytes(60), b"II*\x00" + bytes(8)])


def _size_lie(rng) -> tuple[str, bytes]:
    width, height = rng.choice([(2**31 - 1, 1), (65_535, 65_535), (0, 28), (100_000, 100_000), (1, 2**31 - 1)])
    png = bytearray(base_files.image_bytes("PNG"))
    ihdr = png[12:29]  # b"IHDR" + 13 bytes of header data
    ihdr[4:12] = struct.pack(">II", width, height)
    png[12:29] = ihdr
    png[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))  # a valid CRC: the lie reaches the decoder
    return f"PNG claiming {width} x {height}", bytes(png)


_PNG_BOMB: list[bytes] = []


def _png_bomb() -> bytes:
    if not _PNG_BOMB:
        side = 30_000
        compressor = zlib.compressobj(9)
        row = bytes(side + 1)  # filter byte + pixels
        body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()

        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

        header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
        _PNG_BOMB.append(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return _PNG_BOMB[0]


def image_kind(reader):
    return path_kind("digit.png", reader, image_file)


# --------------------------------------------------------------------------------------------- image folders


def read_image_folder(folder: Path):
    return lambda: __import__("engine").datasets.import_image_folder(folder, size=(28, 28))


def image_folder(rng: random.Random, folder: Path):
    """Two classes of three valid digits, and one hostile thing somewhere in them."""
    root = folder / "digits"
    for name in ("three", "seven"):
        (root / name).mkdir(parents=True)
        for index in range(3):
            (root / name / f"{index}.png").write_bytes(base_files.image_bytes("PNG"))
    where = root / rng.choice(["three", "seven"])
    choice = rng.choice(["hostile image", "hostile image", "special file", "link to the class's parent",
                         "deep folders", "class is a FIFO", "unknown test class", "every image bad", "long name"])
    if choice == "hostile image":
        what, data = image_file(rng)
        (where / "bad.png").write_bytes(data)
        choice = what
    elif choice == "special file":
        kind = rng.choice([k for k in m.SPECIAL_FILES if k != "missing"])
        m.make_special(kind, where / "bad.png")
        choice = kind
    elif choice == "link to the class's parent":
        os.symlink("..", where / "loop")
    elif choice == "deep folders":
        deep = where
        for _ in range(200):
            deep = deep / "d"
        deep.mkdir(parents=True)
        (deep / "x.png").write_bytes(base_files.image_bytes("PNG"))
    elif choice == "class is a FIFO":
        os.mkfifo(root / "fifo-class")
    elif choice == "unknown test class":
        for split, names in (("train", ("three",)), ("test", ("three", "four"))):
            for name in names:
                (root / split / name).mkdir(parents=True)
                (root / split / name / "0.png").write_bytes(base_files.image_bytes("PNG"))
    elif choice == "every image bad":
        for path in root.rglob("*.png"):
            path.write_bytes(m.truncate(rng, path.read_bytes()))
    else:
        (where / ("n" * 250 + ".png")).write_bytes(base_files.image_bytes("PNG"))
    return choice, read_image_folder(root)


FORMATS = [
    Format(
        name="idx",
        kinds={"file bytes": path_kind("train-images-idx3-ubyte", read_idx, idx_bytes),
               "header lies": path_kind("train-images-idx3-ubyte", read_idx, idx_header),
               "gzip garbage": path_kind("train-images-idx3-ubyte.gz", read_idx, idx_gzip),
               "folder import": idx_folder},
        read_path=read_idx,
        file_name="train-images-idx3-ubyte",
        clean_errors=lambda: (__import__("engine").datasets.DatasetError,),
    ),
    Format(
        name="csv",
        kinds={"file bytes": path_kind("digits.csv", read_csv, csv_bytes),
               "values": path_kind("digits.csv", read_csv, csv_values),
               "shape": path_kind("digits.csv", read_csv, csv_shape)},
        read_path=read_csv,
        file_name="digits.csv",
        clean_errors=lambda: (__import__("engine").datasets.DatasetError,),
    ),
    Format(
        name="image",
        kinds={"engine read_image": image_kind(read_image_engine),
               "predict's read_image": image_kind(read_image_predict)},
        read_path=read_image_any,
        file_name="digit.png",
        clean_errors=lambda: (__import__("engine").UserFileError,
                              __import__("app.commands.command_error", fromlist=["CommandError"]).CommandError),
    ),
    Format(
        name="image folder",
        kinds={"class folders": image_folder},
        read_path=read_image_folder,
        file_name="digits",
        clean_errors=lambda: (__import__("engine").datasets.DatasetError,),
    ),
]
