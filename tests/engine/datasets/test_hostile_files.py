"""Issue 19 for data sets: FIFOs, devices, EPS, absurd or missing labels, link loops, bad UTF-8, endless downloads.

Every case must end in a clear DatasetError (or a skipped-file note) naming the file, at once: before the fix a
FIFO blocked forever, an int32 label of 2**31 - 1 built 2**31 class names and an endless response filled the
disk. ``finishes`` turns a hang into a failure instead of a stuck test run.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
import threading
import time

import numpy as np
import pytest

from engine.datasets import DatasetError, download_file, import_csv, import_idx_folder, import_image_folder, read_idx
from engine.datasets.registry import REGISTRY, DataFile
from engine.datasets.storage import content_sha256, file_sha256, verify_file

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
needs_dev_zero = pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero on this system")
needs_pillow = pytest.mark.skipif(importlib.util.find_spec("PIL") is None, reason="Pillow is not installed")


def finishes(call, *, fifos=(), seconds: float = 5.0):
    """``call()``'s result (or its exception), failing the test if it is still running after ``seconds``.

    A reader blocked opening a FIFO is released (a writer opens and closes it) so the test run goes on.
    """
    outcome = {}

    def run():
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread below
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        for fifo in fifos:
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
        pytest.fail(f"still running after {seconds} s (blocked on a FIFO or reading without end)")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def _fifo(path):
    os.mkfifo(path)
    return path


def _dev_zero_link(path):
    path.symlink_to("/dev/zero")
    return path


def _idx(array: np.ndarray, code: int) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def _images(count: int) -> np.ndarray:
    return np.zeros((count, 4, 4), dtype=np.uint8)


# ------------------------------------------------------------------------------- F4 / F5: FIFOs and devices


@needs_fifo
def test_read_idx_refuses_a_fifo_without_blocking(tmp_path):
    fifo = _fifo(tmp_path / "train-images-idx3-ubyte")
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte: is a named pipe, not a regular file"):
        finishes(lambda: read_idx(fifo), fifos=[fifo])


@needs_dev_zero
def test_read_idx_refuses_a_link_to_dev_zero(tmp_path):
    with pytest.raises(DatasetError, match=r"zero-idx: is a device, not a regular file"):
        finishes(lambda: read_idx(_dev_zero_link(tmp_path / "zero-idx")))


@needs_fifo
def test_an_idx_folder_names_a_fifo_in_place_of_a_file(tmp_path):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(_idx(_images(3), 0x08))
    fifo = _fifo(tmp_path / "train-labels-idx1-ubyte")
    with pytest.raises(DatasetError, match=r"train-labels-idx1-ubyte: is a named pipe, not a regular file"):
        finishes(lambda: import_idx_folder(tmp_path), fifos=[fifo])


@needs_fifo
@needs_dev_zero
@needs_pillow
def test_an_image_folder_skips_a_fifo_and_a_device_with_a_note(tmp_path):
    from PIL import Image

    (tmp_path / "cat").mkdir()
    (tmp_path / "dog").mkdir()
    Image.new("L", (5, 5), 40).save(tmp_path / "cat" / "good.png")
    Image.new("L", (5, 5), 90).save(tmp_path / "dog" / "good.png")
    fifo = _fifo(tmp_path / "cat" / "pipe.png")
    _dev_zero_link(tmp_path / "cat" / "zero.png")
    data = finishes(lambda: import_image_folder(tmp_path, size=(5, 5), test_fraction=0), fifos=[fifo])
    assert data.num_train == 2
    assert any(w.endswith("pipe.png: skipped (is a named pipe, not a regular file; LayerLab reads only ordinary "
                          "files)") for w in data.warnings)
    assert any("zero.png: skipped (is a device, not a regular file" in w for w in data.warnings)


@needs_fifo
def test_csv_import_refuses_a_fifo_a_device_and_a_folder(tmp_path):
    fifo = _fifo(tmp_path / "pipe.csv")
    with pytest.raises(DatasetError, match=r"pipe\.csv: is a named pipe, not a regular file"):
        finishes(lambda: import_csv(fifo), fifos=[fifo])
    if os.path.exists("/dev/zero"):
        with pytest.raises(DatasetError, match=r"zero\.csv: is a device, not a regular file"):
            finishes(lambda: import_csv(_dev_zero_link(tmp_path / "zero.csv")))
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(DatasetError, match=r"folder\.csv: is a folder, not a file"):
        finishes(lambda: import_csv(tmp_path / "folder.csv"))
    with pytest.raises(DatasetError, match=r"test\.csv: is a folder, not a file"):
        (tmp_path / "ok.csv").write_text("0,1,2,3,4\n1,1,2,3,4\n")
        (tmp_path / "test.csv").mkdir()
        finishes(lambda: import_csv(tmp_path / "ok.csv", test_path=tmp_path / "test.csv"))


@needs_fifo
@needs_dev_zero
def test_checksum_readers_refuse_a_fifo_and_a_device(tmp_path):
    fifo = _fifo(tmp_path / "t10k-labels-idx1-ubyte.gz")
    zero = _dev_zero_link(tmp_path / "train-labels-idx1-ubyte.gz")
    data_file = DataFile("test_labels", fifo.name, "00" * 32, 10, content_sha256="11" * 32)
    for reader in (file_sha256, content_sha256, lambda path: verify_file(path, data_file)):
        with pytest.raises(DatasetError, match=r"t10k-labels-idx1-ubyte\.gz: is a named pipe, not a regular file"):
            finishes(lambda reader=reader: reader(fifo), fifos=[fifo])
        with pytest.raises(DatasetError, match=r"train-labels-idx1-ubyte\.gz: is a device, not a regular file"):
            finishes(lambda reader=reader: reader(zero))


def test_a_gzip_that_unpacks_past_the_limit_is_refused_by_the_content_checksum(tmp_path):
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip.compress(bytes(3_000_000)))  # 3 MB of zeros in about 3 KB
    with pytest.raises(DatasetError, match=r"bomb\.gz: unpacks to more than 1,000,000 bytes"):
        content_sha256(path, max_bytes=1_000_000)


# ------------------------------------------------------------------------------------- F6: EPS in an image folder


EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n{ } loop\n"


@needs_pillow
def test_eps_in_a_class_folder_is_skipped_as_unreadable_and_ghostscript_never_starts(tmp_path, monkeypatch):
    from PIL import EpsImagePlugin, Image

    marker = tmp_path / "ghostscript-ran"
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for name in ("gs", "gswin32c", "gswin64c"):  # whichever name Pillow looks for
        (fake_bin / name).write_text(f"#!/bin/sh\ntouch '{marker}'\nexit 1\n")
        (fake_bin / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}{os.pathsep}{os.environ.get('PATH', '')}")
    opened_as_eps = []
    monkeypatch.setattr(EpsImagePlugin.EpsImageFile, "_open", lambda self: opened_as_eps.append(self))

    (tmp_path / "data" / "cat").mkdir(parents=True)
    Image.new("L", (5, 5), 40).save(tmp_path / "data" / "cat" / "good.png")
    (tmp_path / "data" / "dog").mkdir()
    Image.new("L", (5, 5), 90).save(tmp_path / "data" / "dog" / "good.png")
    (tmp_path / "data" / "cat" / "drawing.png").write_bytes(EPS)
    (tmp_path / "data" / "cat" / "drawing.eps").write_bytes(EPS)
    data = finishes(lambda: import_image_folder(tmp_path / "data", size=(5, 5), test_fraction=0))
    assert data.num_train == 2
    for name in ("drawing.png", "drawing.eps"):
        assert any(w.endswith(f"{name}: skipped (is not an image LayerLab can read (PNG, JPEG, BMP, GIF, TIFF or "
                              f"WebP))") for w in data.warnings), data.warnings
    assert not marker.exists() and opened_as_eps == []


# --------------------------------------------------------------------------------------------- F10: labels


def _idx_folder(folder, labels: np.ndarray, label_code: int, *, images: int | None = None):
    (folder / "train-images-idx3-ubyte").write_bytes(_idx(_images(len(labels) if images is None else images), 0x08))
    (folder / "train-labels-idx1-ubyte").write_bytes(_idx(labels, label_code))


def test_an_int32_label_of_2_31_minus_1_is_refused_before_any_class_name_is_built(tmp_path):
    _idx_folder(tmp_path, np.array([0, 1, 2, 2**31 - 1, 1], dtype=np.int32), 0x0C)
    started = time.perf_counter()
    with pytest.raises(DatasetError, match=r"train-labels-idx1-ubyte, label 3: expected a class index from 0 to "
                                           r"9,999 \(LayerLab imports at most 10,000 classes\); received 2147483647"):
        finishes(lambda: import_idx_folder(tmp_path))
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, 1.5], ids=["nan", "inf", "-inf", "fraction"])
def test_float_labels_that_are_not_class_indices_are_refused_with_their_position(tmp_path, bad):
    _idx_folder(tmp_path, np.array([0.0, 1.0, bad, 1.0], dtype=np.float32), 0x0D)
    with pytest.raises(DatasetError, match=rf"train-labels-idx1-ubyte, label 2: expected a class index .*; "
                                           rf"received {str(np.float32(bad)).replace('+', '')}"):
        finishes(lambda: import_idx_folder(tmp_path))


def test_float_labels_that_are_whole_numbers_are_read(tmp_path):
    _idx_folder(tmp_path, np.array([0.0, 1.0, 2.0, 1.0, 0.0], dtype=np.float64), 0x0E)
    data = import_idx_folder(tmp_path, test_fraction=0)
    assert sorted(data.train_labels.tolist()) == [0, 0, 1, 1, 2] and data.info.class_names == ("0", "1", "2")


@pytest.mark.parametrize("images", [3, 9])
def test_an_idx_pair_with_more_or_fewer_labels_than_images_names_both_counts(tmp_path, images):
    _idx_folder(tmp_path, np.arange(6, dtype=np.uint8) % 2, 0x08, images=images)
    with pytest.raises(DatasetError, match=rf"expected one label per image; received {images} images and 6 labels "
                                           r"\(train-images-idx3-ubyte and train-labels-idx1-ubyte\)"):
        finishes(lambda: import_idx_folder(tmp_path))


@pytest.mark.parametrize("label", ["2147483647", "99999999999", "10000"])
def test_a_csv_label_beyond_the_class_limit_names_its_line_and_value(tmp_path, label):
    (tmp_path / "big.csv").write_text(f"label,a,b,c,d\n0,1,2,3,4\n{label},1,2,3,4\n1,1,1,1,1\n")
    with pytest.raises(DatasetError, match=rf"big\.csv, line 3, column 1 \(the label\): expected a class index "
                                           rf"from 0 to 9,999 .*; received '{label}'"):
        finishes(lambda: import_csv(tmp_path / "big.csv"))


def test_a_csv_value_of_thousands_of_digits_is_refused_with_its_line(tmp_path):
    (tmp_path / "long.csv").write_text("0,1,2,3,4\n1," + "9" * 5000 + ",2,3,4\n")
    with pytest.raises(DatasetError, match=r"long\.csv, line 2, column 2: expected a whole pixel value from 0 to 255"):
        finishes(lambda: import_csv(tmp_path / "long.csv"))


def test_bad_utf8_after_the_first_8_kb_of_a_csv_is_refused_with_its_line(tmp_path):
    rows = ["label," + ",".join(f"p{k}" for k in range(16))] + ["1," + ",".join(["255"] * 16)] * 300
    data = ("\n".join(rows) + "\n").encode()
    assert len(data) > 8192
    data += b"2,\xff\xfe," + b",".join([b"0"] * 15) + b"\n"
    (tmp_path / "late.csv").write_bytes(data)
    with pytest.raises(DatasetError, match=r"late\.csv, line 302: expected a UTF-8 text CSV file; received bytes "
                                           r"that are not UTF-8 text"):
        finishes(lambda: import_csv(tmp_path / "late.csv"))


@needs_pillow
def test_link_loops_in_an_image_folder_are_noted_and_never_followed(tmp_path):
    from PIL import Image

    (tmp_path / "cat" / "inner").mkdir(parents=True)
    Image.new("L", (5, 5), 40).save(tmp_path / "cat" / "a.png")
    Image.new("L", (5, 5), 80).save(tmp_path / "cat" / "inner" / "b.png")
    (tmp_path / "cat" / "inner" / "up").symlink_to("..", target_is_directory=True)  # cat/inner/up -> cat
    (tmp_path / "cat" / "self.png").symlink_to("self.png")  # a link to itself
    (tmp_path / "dog").mkdir()
    Image.new("L", (5, 5), 90).save(tmp_path / "dog" / "c.png")
    data = finishes(lambda: import_image_folder(tmp_path, size=(5, 5), test_fraction=0))
    assert data.num_train == 3  # a.png and inner/b.png, each once, and dog/c.png
    assert any(w.endswith(f"{os.path.join('inner', 'up')}: skipped (a link to a folder; links inside a class folder "
                          f"are not followed)") for w in data.warnings), data.warnings
    assert any(w.endswith("self.png: skipped (is a symbolic link that leads back to itself)")
               for w in data.warnings), data.warnings


# --------------------------------------------------------------------------------------------------- downloads


def test_registered_mirrors_are_https():
    for info in REGISTRY.values():
        if info.format == "generated":  # made by code: nothing to download
            assert not info.files and not info.mirrors, info.name
            continue
        assert info.mirrors and all(m.startswith("https://") for m in info.mirrors), (info.name, info.mirrors)
        assert all(data_file.size > 0 for data_file in info.files), info.name


def test_an_endless_response_is_cut_one_byte_past_the_expected_size_and_leaves_nothing(file_server, tmp_path):
    file_server.endless["/t10k-labels-idx1-ubyte.gz"] = None  # no Content-Length: the body ends when the server says
    dest = tmp_path / "t10k-labels-idx1-ubyte.gz"
    with pytest.raises(DatasetError, match=r"the server sent more than the 4,542 bytes expected; the download "
                                           r"was stopped and discarded"):
        finishes(lambda: download_file(file_server.base_url + dest.name, dest, sha256="00" * 32, expected_size=4542,
                                       retries=0))
    assert list(tmp_path.iterdir()) == []


def test_a_larger_content_length_is_refused_before_reading(file_server, tmp_path):
    file_server.endless["/labels.gz"] = 10**12
    progress = []
    with pytest.raises(DatasetError, match=r"labels\.gz: the server offers 1,000,000,000,000 bytes, more than the "
                                           r"4,542 bytes expected; refused before downloading"):
        finishes(lambda: download_file(file_server.base_url + "labels.gz", tmp_path / "labels.gz", sha256="00" * 32,
                                       expected_size=4542, retries=0, progress=lambda *a: progress.append(a)))
    assert progress == [] and list(tmp_path.iterdir()) == []


def test_fetch_caps_each_file_at_its_registered_size_and_tries_the_next_mirror(file_server, data_dir, monkeypatch):
    from engine import datasets
    from engine.datasets import registry
    from tests.engine.datasets.test_download import _published_set

    info = _published_set(file_server)
    for data_file in info.files:  # the first mirror never stops sending
        file_server.endless[f"/endless/{data_file.filename}"] = None
    info = type(info)(**{**info.__dict__, "mirrors": (file_server.base_url + "endless/", *info.mirrors)})
    monkeypatch.setitem(registry.REGISTRY, "served", info)
    assert finishes(lambda: datasets.load("served")).train_images.shape == (20, 1, 5, 5)
    assert not list((data_dir / "served").glob("*.part"))


def test_download_without_a_known_size_is_capped_too(file_server, tmp_path, monkeypatch):
    from engine.datasets import download

    monkeypatch.setattr(download, "MAX_DOWNLOAD_BYTES", 100_000)
    file_server.endless["/x.bin"] = None
    with pytest.raises(DatasetError, match=r"more than the 100,000 bytes expected"):
        finishes(lambda: download_file(file_server.base_url + "x.bin", tmp_path / "x.bin",
                                       sha256=hashlib.sha256(b"").hexdigest(), retries=0))
    assert list(tmp_path.iterdir()) == []
