"""Valid files of every format, made here once per process (never fetched): what the fuzz cases mutate.

Each function is cached: the benchmark makes them in its parent process before it forks a child per
case, so no case pays for them.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import io
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "resources" / "examples"
IMAGE_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP")


@functools.cache
def scratch() -> Path:
    """A folder for the valid files, removed when the process ends."""
    folder = Path(tempfile.mkdtemp(prefix="layerlab-fuzz-base-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


def example_spec(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


@functools.cache
def toy_checkpoint() -> bytes:
    """A model file written by ``layerlab train --checkpoint-dir``: toy-mlp, Adam state and the trainer's state."""
    from app.cli import main

    folder = scratch() / "toy-run"
    folder.mkdir(exist_ok=True)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(["train", str(EXAMPLES / "toy-mlp.json"), "--dataset", "toy:spiral", "--epochs", "1", "--quiet",
                     "--output", str(folder / "out.llmodel"), "--checkpoint-dir", str(folder)])
    if code != 0:
        raise RuntimeError("the valid toy run failed: the fuzz cases need its checkpoint")
    return (folder / "last.llmodel").read_bytes()


@functools.cache
def mnist_model() -> bytes:
    """An untrained softmax regression for 1x28x28 images, as ``engine.save`` writes it."""
    import engine

    path = scratch() / "mnist.llmodel"
    engine.save(engine.build(example_spec("softmax-regression"), seed=0), path)
    return path.read_bytes()


def digit_pixels(size: int = 28) -> np.ndarray:
    """A dark 7 on light paper, uint8 (size, size), like a scanned digit."""
    pixels = np.full((size, size), 230, dtype=np.uint8)
    top, stroke = size // 5, max(2, size // 10)
    pixels[top : top + stroke, size // 5 : size - size // 5] = 20
    for row in range(top, size - size // 6):
        column = size - size // 5 - (row - top) // 2
        pixels[row, max(0, column - stroke) : column] = 20
    return pixels


@functools.cache
def image_bytes(fmt: str, mode: str = "L", size: int = 28) -> bytes:
    """The digit encoded as ``fmt`` (one of IMAGE_FORMATS) in Pillow mode ``mode``."""
    from PIL import Image

    image = Image.fromarray(digit_pixels(size), "L")
    if mode != "L":
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@functools.cache
def foreign_image_bytes(fmt: str) -> bytes:
    """The digit in a format Pillow reads but LayerLab should not (ICO, PCX, TGA, PPM, SGI, IM, ...)."""
    from PIL import Image

    image = Image.fromarray(digit_pixels(), "L")
    buffer = io.BytesIO()
    image.convert("RGB" if fmt in ("ICO", "SGI") else "L").save(buffer, format=fmt)
    return buffer.getvalue()


@functools.cache
def idx_bytes(role: str, compressed: bool) -> bytes:
    """``images`` (20, 28, 28) or ``labels`` (20,) uint8 as written by engine.datasets.write_idx."""
    from engine.datasets import write_idx

    rng = np.random.default_rng(0)
    array = (rng.integers(0, 256, (20, 28, 28)) if role == "images" else np.arange(20) % 3).astype(np.uint8)
    path = scratch() / f"{role}-idx{3 if role == 'images' else 1}-ubyte{'.gz' if compressed else ''}"
    write_idx(path, array)
    return path.read_bytes()


def csv_text(rows: int = 12, side: int = 4, header: bool = True) -> str:
    """A Kaggle-style pixel CSV: label then side*side pixel values per row."""
    rng = np.random.default_rng(1)
    lines = ["label," + ",".join(f"pixel{i}" for i in range(side * side))] if header else []
    for row in range(rows):
        lines.append(",".join([str(row % 3)] + [str(v) for v in rng.integers(0, 256, side * side)]))
    return "\n".join(lines) + "\n"


def project(spec_name: str = "toy-mlp") -> dict:
    """A valid .layerlab project as the app writes it."""
    from app.document.project_file import project_data

    spec = example_spec(spec_name)
    layout = {node["id"]: (0.0, 90.0 * index) for index, node in enumerate(spec["nodes"])}
    training = {"dataset": "toy:spiral" if spec_name == "toy-mlp" else "mnist", "epochs": 3, "batch_size": 32,
                "optimizer": {"name": "adam", "lr": 0.02}, "validation": 0.1, "seed": 0}
    return project_data(spec, layout, training)
