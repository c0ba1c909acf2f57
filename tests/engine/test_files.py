"""engine.atomic_write: all or nothing, and the permissions a normal write would give."""

import os
import stat

import pytest

from engine import atomic_write


def test_new_files_get_the_usual_permissions_and_old_files_keep_theirs(tmp_path):
    target = tmp_path / "out.bin"
    atomic_write(target, lambda f: f.write(b"one"))
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    target.chmod(0o640)
    atomic_write(target, lambda f: f.write(b"two"))
    assert target.read_bytes() == b"two" and stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    def fail(handle):
        handle.write(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, fail)
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["out.bin"]
