"""engine.atomic_write: all or nothing, the permissions a normal write would give, no litter, links kept."""

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from engine import atomic_write
from engine.files import STALE_SECONDS, remove_stale_temporaries


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


def test_a_save_killed_outright_leaves_litter_that_the_next_save_removes(tmp_path):
    """SIGKILL cannot be caught: the killed writer's temporary stays until a later save sees its pid is gone."""
    target = tmp_path / "model.llmodel"
    atomic_write(target, lambda f: f.write(b"good"))
    writer = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from engine import atomic_write
        def slow(handle):
            handle.write(b"x" * 100_000)
            handle.flush()
            print("writing", flush=True)
            time.sleep(60)
        atomic_write({str(target)!r}, slow)
    """)], stdout=subprocess.PIPE, cwd=Path(__file__).parents[2])
    try:
        assert writer.stdout.readline() == b"writing\n"
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=30)
    finally:
        writer.kill()
        writer.stdout.close()
    litter = [p for p in tmp_path.iterdir() if p.name != "model.llmodel"]
    assert len(litter) == 1 and litter[0].name.startswith(".model.llmodel.") and str(writer.pid) in litter[0].name
    assert target.read_bytes() == b"good"

    atomic_write(target, lambda f: f.write(b"better"))
    assert [p.name for p in tmp_path.iterdir()] == ["model.llmodel"] and target.read_bytes() == b"better"


def test_temporaries_of_running_processes_and_other_files_are_left_alone(tmp_path):
    target = tmp_path / "notes.json"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        in_progress = tmp_path / f".notes.json.{sleeper.pid}.0123abcd.tmp"
        in_progress.write_bytes(b"a save in progress")
        unrelated = [tmp_path / ".notes.json.backup", tmp_path / ".other.json.999999.0123abcd.tmp",
                     tmp_path / ".notes.json.not ours.tmp"]
        for path in unrelated:
            path.write_bytes(b"keep")
        old_style = tmp_path / ".notes.json.k3j_9x2a.tmp"  # mkstemp's name, from before the pid was in it
        old_style.write_bytes(b"x")
        recent_old_style = tmp_path / ".notes.json.abcdefgh.tmp"
        recent_old_style.write_bytes(b"x")
        os.utime(old_style, (time.time() - 2 * STALE_SECONDS,) * 2)
        assert remove_stale_temporaries(target) == [old_style]
        assert in_progress.exists() and recent_old_style.exists() and all(path.exists() for path in unrelated)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert remove_stale_temporaries(target) == [in_progress]


def test_saving_through_a_symbolic_link_writes_its_target_and_keeps_the_link(tmp_path):
    (tmp_path / "models").mkdir()
    real = tmp_path / "models" / "real.llmodel"
    real.write_bytes(b"old")
    link = tmp_path / "link.llmodel"
    link.symlink_to(real)
    atomic_write(link, lambda f: f.write(b"new"))
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() == b"new" and link.read_bytes() == b"new"
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["real.llmodel"]


def test_a_save_never_replaces_a_device_a_pipe_or_a_folder(tmp_path):
    fifo = tmp_path / "model.llmodel"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.llmodel"
    folder.mkdir()
    for target in (fifo, folder, Path("/dev/null")):
        with pytest.raises(OSError, match="not a regular file"):
            atomic_write(target, lambda handle: handle.write(b"data"))
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and folder.is_dir()
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_an_os_error_is_described_without_its_number():
    from engine import describe_error

    described = describe_error(OSError(28, "No space left on device", "/tmp/model.llmodel"))
    assert described == "no space left on device (/tmp/model.llmodel)"
