"""engine.user_files: the one bounded, typed reader every file a user gives us goes through."""

from __future__ import annotations

import io
import os
import re
import threading
import time

import numpy as np
import pytest
from PIL import Image

from engine import UserFileError, user_files
from engine.user_files import JsonError, parse_json

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and devices are POSIX")

PYTHON_ERROR_NAMES = re.compile(r"\b\w+(Error|Exception)\b")


def assert_plain_words(message: str) -> None:
    assert not PYTHON_ERROR_NAMES.search(message.replace("UserFileError", "")), message


def finishes_within(seconds: float, call):
    """Run ``call`` on a thread; fail (instead of hanging the suite) if it has not finished in time."""
    outcome = {}

    def run():
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def test_a_fifo_is_refused_at_once_and_never_blocks(tmp_path):
    fifo = tmp_path / "spec.json"
    os.mkfifo(fifo)
    with pytest.raises(UserFileError, match="named pipe") as caught:
        finishes_within(2, lambda: user_files.read_json(fifo, max_bytes=1024))
    assert str(fifo) in str(caught.value)


def test_a_link_to_an_endless_device_is_refused_before_reading(tmp_path):
    link = tmp_path / "model.llmodel"
    link.symlink_to("/dev/zero")
    with pytest.raises(UserFileError, match="a device, not a regular file"):
        finishes_within(2, lambda: user_files.read_bytes(link, max_bytes=1024))


def test_folders_loops_and_missing_files_are_named_in_words(tmp_path):
    loop = tmp_path / "loop.json"
    loop.symlink_to(loop)
    cases = {tmp_path: "is a folder", loop: "leads back to itself", tmp_path / "gone.json": "no such file"}
    for path, words in cases.items():
        with pytest.raises(UserFileError, match=words) as caught:
            user_files.read_text(path, max_bytes=1024)
        assert caught.value.path == str(path)
        assert_plain_words(str(caught.value))


def test_the_size_limit_is_the_formats_whatever_the_file_claims(tmp_path):
    path = tmp_path / "big.json"
    path.write_bytes(b" " * 2048)
    with pytest.raises(UserFileError, match="at most 1.0 KB"):
        user_files.read_bytes(path, max_bytes=1000)
    assert user_files.read_bytes(path, max_bytes=4096) == b" " * 2048
    with pytest.raises(UserFileError, match="is 2,048 bytes; this kind of file is at most 2,047 bytes"):
        user_files.read_bytes(path, max_bytes=2047)  # rounded, both would read "2.0 KB"


def test_text_that_is_not_utf8_names_the_byte(tmp_path):
    path = tmp_path / "latin.json"
    path.write_bytes(b'{"name": "' + b"a" * 9000 + b'\xe9"}')
    with pytest.raises(UserFileError, match="byte 9,010"):
        user_files.read_json(path, max_bytes=1 << 20)


def test_deep_nesting_is_refused_without_recursion_and_fast():
    started = time.perf_counter()
    for text in ("[" * 100_000, '{"a":' * 100_000, "[" * 100_000 + "]" * 100_000):
        with pytest.raises(JsonError, match="100,000 levels deep"):
            parse_json(text)
    assert time.perf_counter() - started < 2
    assert parse_json("[" * 64 + "]" * 64) is not None
    # brackets inside strings are text, not nesting
    assert parse_json('{"note": "' + "[" * 1000 + '\\"{{{"}')["note"].startswith("[[[")


def test_giant_integers_and_numbers_beyond_a_float_are_refused():
    with pytest.raises(JsonError, match="integer of 5,000 digits"):
        parse_json('{"units": ' + "9" * 5000 + "}")
    for literal in ("1e400", "-1e400", "NaN", "Infinity", "-Infinity"):
        with pytest.raises(JsonError):
            parse_json(f"[{literal}]")
    thirty_digits = 10**29 + 1
    assert parse_json(f'{{"units": {thirty_digits}, "rate": 1e-300}}')["units"] == thirty_digits


def test_invalid_json_says_where():
    with pytest.raises(JsonError, match="line 2, column 1"):
        parse_json('{"a": 1,\n}')


def test_reading_turns_a_librarys_exception_into_the_callers_error(tmp_path):
    class ProjectError(UserFileError):
        pass

    with pytest.raises(ProjectError, match="cannot be read") as caught:
        with user_files.reading(tmp_path / "x", error=ProjectError):
            raise NotImplementedError("compression method 99 is not supported")
    assert "compression method 99" in str(caught.value)
    assert_plain_words(str(caught.value))
    with pytest.raises(ProjectError, match="own words"):  # the caller's own error passes through unchanged
        with user_files.reading(tmp_path / "x", error=ProjectError):
            raise ProjectError(tmp_path / "x", "own words")


def test_an_adapter_for_an_error_of_one_message_is_not_wrapped_twice(tmp_path):
    class DataError(Exception):
        pass

    def adapter(path, problem):
        return DataError(f"{path}: {problem}")

    path = tmp_path / "digit.png"
    path.write_bytes(b"not an image at all")
    with pytest.raises(DataError) as caught:
        user_files.read_image(path, error=adapter)
    assert str(caught.value) == f"{path}: is not an image LayerLab can read (PNG, JPEG, BMP, GIF, TIFF or WebP)"


def png_bytes(size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.zeros(size[::-1], np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def test_images_open_as_the_formats_a_person_means(tmp_path):
    path = tmp_path / "digit.png"
    path.write_bytes(png_bytes())
    assert user_files.read_image(path).size == (8, 8)


def test_postscript_named_png_never_starts_ghostscript(tmp_path, monkeypatch):
    marker = tmp_path / "ghostscript-ran"
    fake_gs = tmp_path / "bin" / "gs"
    fake_gs.parent.mkdir()
    fake_gs.write_text(f"#!/bin/sh\ntouch {marker}\nsleep 30\n")
    fake_gs.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_gs.parent}{os.pathsep}{os.environ['PATH']}")
    path = tmp_path / "digit.png"
    path.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 28 28\n{ } loop\nshowpage\n")
    with pytest.raises(UserFileError, match="not an image LayerLab can read") as caught:
        finishes_within(5, lambda: user_files.read_image(path))
    assert not marker.exists()
    assert_plain_words(str(caught.value))


def test_a_decompression_bomb_is_refused_by_its_header(tmp_path, monkeypatch):
    monkeypatch.setattr(user_files, "MAX_IMAGE_PIXELS", 100 * 100)
    path = tmp_path / "huge.png"
    path.write_bytes(png_bytes((200, 200)))
    with pytest.raises(UserFileError, match="200 x 200 pixels"):
        user_files.read_image(path)
