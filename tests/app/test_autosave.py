"""Autosave and recovery: a recovery copy is written shortly after each edit while there are unsaved changes,
saving removes it, and a copy newer than its project is offered back when the project is opened or at start."""

import os
import time

import pytest
from PySide6.QtWidgets import QMessageBox

from app.document import autosave
from app.document.autosave import (
    AUTOSAVE_DELAY_MS,
    AUTOSAVE_MAX_DELAY_MS,
    Autosaver,
    pending_recoveries,
    recovery_for,
    recovery_path,
)
from app.document.editor import DocumentEditor
from app.document.project_file import read_project


@pytest.fixture
def editor(qapp, seed_spec):
    editor = DocumentEditor()
    editor.open_spec(seed_spec)
    return editor


def test_writes_only_when_there_are_new_unsaved_changes(editor):
    saver = Autosaver(editor)
    assert (saver.delay_ms, saver.max_delay_ms) == (AUTOSAVE_DELAY_MS, AUTOSAVE_MAX_DELAY_MS) == (2_000, 10_000)
    assert not saver.timer.isActive()  # nothing to write until something changes
    assert saver.save_now() is None  # nothing changed
    editor.add_node("Flatten", (300, 0))
    assert saver.timer.isActive()
    path = saver.save_now()
    assert path == recovery_path(None) and path.parent == autosave.recovery_dir()
    recovered = read_project(path)
    assert recovered.spec == editor.document.spec() and recovered.layout == editor.document.positions()
    assert saver.save_now() is None  # nothing new since
    editor.undo_stack.undo()  # back to the opened state: nothing unsaved, so the copy goes
    assert not path.exists()


def test_the_copy_is_written_shortly_after_an_edit(editor, qtbot):
    saver = Autosaver(editor, delay_ms=50)
    editor.add_node("Flatten", (300, 0))
    qtbot.waitUntil(recovery_path(None).exists, timeout=2000)
    del saver


def test_edits_that_never_pause_are_still_saved_within_the_longest_delay(editor, qtbot):
    """Each edit restarts the short wait; the copy still comes at most ``max_delay_ms`` after the first one."""
    saver = Autosaver(editor, delay_ms=300, max_delay_ms=600)
    started = time.monotonic()
    for step in range(30):  # an edit every 50 ms for 1.5 s: never a 300 ms pause
        editor.move_nodes({"input": (float(step), 0.0)})
        qtbot.wait(50)
        if recovery_path(None).exists():
            break
    assert recovery_path(None).exists(), "continuous editing was never saved"
    assert time.monotonic() - started < 1.2
    del saver


def test_saving_removes_the_recovery_file(editor, tmp_path):
    saver = Autosaver(editor)
    project = tmp_path / "net.layerlab"
    saver.set_project_path(project)
    editor.add_node("Flatten", (300, 0))
    path = saver.save_now()
    assert path == recovery_path(project) and path.exists()
    editor.mark_saved()
    assert not path.exists()


def test_a_recovery_copy_counts_only_when_newer_than_its_project(editor, tmp_path):
    project = tmp_path / "net.layerlab"
    project.write_text("{}", encoding="utf-8")
    saver = Autosaver(editor)
    saver.set_project_path(project)
    editor.add_node("Flatten", (300, 0))
    copy = saver.save_now()
    os.utime(project, (copy.stat().st_mtime - 10, copy.stat().st_mtime - 10))
    found = recovery_for(project)
    assert found is not None and found.project_path == project
    assert "net.layerlab, autosaved" in found.describe()
    assert [r.path for r in pending_recoveries()] == [copy]
    os.utime(project, (copy.stat().st_mtime + 10, copy.stat().st_mtime + 10))  # saved after the copy
    assert recovery_for(project) is None and pending_recoveries() == []


def test_a_damaged_recovery_copy_is_dropped(tmp_path):
    path = recovery_path(None)
    path.parent.mkdir(parents=True)
    path.write_text("{half a fi", encoding="utf-8")
    assert pending_recoveries() == []
    assert not path.exists()


def crash_and_restart(main_window, copy):
    """What a crash leaves: the recovery copy on disk, and (after a restart) a window with no changes."""
    content = copy.read_bytes()
    main_window.editor.undo_stack.setClean()
    main_window.project.new_network()
    copy.write_bytes(content)


def test_opening_a_project_offers_its_newer_recovery_copy(main_window, tmp_path):
    project_path = tmp_path / "net.layerlab"
    assert main_window.project.save_to(project_path)
    main_window.editor.add_node_after("Dropout", "conv1")
    copy = main_window.project.autosaver.save_now()
    edited = main_window.editor.document.spec()
    crash_and_restart(main_window, copy)
    os.utime(project_path, (copy.stat().st_mtime - 10, copy.stat().st_mtime - 10))

    asked = []
    main_window.project.ask_to_recover = lambda recovery: asked.append(recovery) or True
    assert main_window.project.open_file(project_path)
    assert asked and asked[0].path == copy
    assert main_window.editor.document.spec() == edited
    assert main_window.isWindowModified() and main_window.project.path == project_path

    main_window.project.ask_to_save_changes = lambda: QMessageBox.StandardButton.Discard
    main_window.project.new_network()
    assert not copy.exists()  # discarded on purpose


def test_declining_recovery_discards_the_copy_and_opens_the_file(main_window, tmp_path):
    project_path = tmp_path / "net.layerlab"
    main_window.project.save_to(project_path)
    saved = main_window.editor.document.spec()
    main_window.editor.add_node("Flatten", (300, 0))
    copy = main_window.project.autosaver.save_now()
    crash_and_restart(main_window, copy)
    os.utime(project_path, (copy.stat().st_mtime - 10, copy.stat().st_mtime - 10))
    main_window.project.ask_to_recover = lambda recovery: False
    assert main_window.project.open_file(project_path)
    assert main_window.editor.document.spec() == saved and not copy.exists()


def test_at_start_an_untitled_recovery_copy_is_offered(main_window):
    main_window.editor.add_node("Flatten", (300, 0))
    edited = main_window.editor.document.spec()
    crash_and_restart(main_window, main_window.project.autosaver.save_now())
    main_window.project.ask_to_recover = lambda recovery: True
    assert main_window.project.offer_recovery_at_start()
    assert main_window.editor.document.spec() == edited and main_window.isWindowModified()
    assert main_window.project.path is None


def test_at_start_temporaries_of_killed_autosaves_are_removed(main_window):
    """An autosave killed mid-write leaves its hidden temporary; the next start clears those whose writer is
    gone (also for a recovery file that was never completed), and leaves a live writer's alone."""
    import subprocess
    import sys

    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()  # a process id that is no longer running: the writer of the litter below
    folder = autosave.recovery_dir()
    folder.mkdir(parents=True, exist_ok=True)
    litter = [folder / f".untitled.layerlab.{finished.pid}.0badf00d.tmp",
              folder / f".0123456789abcdef.layerlab.{finished.pid}.deadbeef.tmp"]
    live = folder / f".fedcba9876543210.layerlab.{os.getppid()}.cafef00d.tmp"  # a running process's save
    for path in (*litter, live):
        path.write_bytes(b"{half a proj")
    assert not main_window.project.offer_recovery_at_start()
    assert not any(path.exists() for path in litter)
    assert live.exists()
