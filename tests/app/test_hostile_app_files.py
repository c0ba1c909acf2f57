"""Hostile and careless files reaching the app (issue 19): each ends in a message that names the file, in
words, and nothing hangs, nothing crashes, no edit is lost.

Driven as a person does: File > Open through the menu (the file dialog answers with the hostile path), Ctrl+V
on the canvas, a start with a recovery folder full of surprises, a start with a FIFO for a settings file.

A test that would hang on the old code instead fails: ``fifo_with_rescue`` makes a FIFO and, if something is
still blocked opening it after a few seconds, opens its other end so the reader sees end-of-file, and says
that it had to.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from app.document import autosave
from app.document.project_file import ProjectFileError, read_project, write_project
from tests.app.gui_helpers import choose_from_menu, drag_layer_from_palette, type_into

EXCEPTION_NAMES = ("Error", "Exception", "Traceback")  # TypeError, RecursionError, OSError ... in a message
RESCUE_AFTER_S = 4.0
DEEP = "[" * 100_000
GIANT_INTEGER = '{"format": "layerlab-project", "version": 1' + "0" * 5000 + "}"


# A separate process, not a thread: QSettings blocks on a FIFO holding Python's lock, so no thread could run.
RESCUER = """
import os, sys, time
path, marker, after = sys.argv[1], sys.argv[2], float(sys.argv[3])
time.sleep(after)
while True:
    try:  # succeeds only while a reader has the FIFO open (or is blocked opening it)
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        open(marker, "w").close()
    except OSError:
        pass
    time.sleep(0.05)
"""


class Rescue:
    """A FIFO at ``path``; ``rescued`` is True if a reader blocked on it had to be set free."""

    def __init__(self, path: Path):
        self.path, self._marker = path, path.with_name(path.name + ".rescued")
        os.mkfifo(path)
        self._process = subprocess.Popen([sys.executable, "-c", RESCUER, str(path), str(self._marker),
                                          str(RESCUE_AFTER_S)])

    @property
    def rescued(self) -> bool:
        return self._marker.exists()

    def stop(self) -> None:
        self._process.kill()
        self._process.wait()


@contextlib.contextmanager
def fifo_with_rescue(path: Path):
    rescue = Rescue(path)
    try:
        yield rescue
    finally:
        rescue.stop()


def assert_in_words(text: str) -> None:
    assert not any(name in text for name in EXCEPTION_NAMES), f"a Python exception name in: {text}"


@pytest.fixture
def warnings(monkeypatch):
    """Message boxes the window opened, as (title, text): here they are expected."""
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *rest: shown.append((title, text)))
    return shown


def open_through_the_menu(window, monkeypatch, path) -> float:
    """File > Open…, the dialog answering ``path``; the seconds it took."""
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: (str(path), "All files (*)"))
    started = time.monotonic()
    choose_from_menu(window, "File", "Open…")
    return time.monotonic() - started


# -- File > Open (F2, F3, F4, F5, F11) -----------------------------------------------------------------------

@pytest.mark.parametrize("case", ["deep JSON", "giant integer", "symlink to /dev/zero", "300-character name"])
def test_file_open_refuses_a_hostile_file_with_a_message_naming_it(main_window, tmp_path, monkeypatch, warnings,
                                                                   case):
    main_window.editor.add_node("Flatten", (300, 0))  # unsaved work that must survive
    before = main_window.editor.document.spec()
    path = tmp_path / "hostile.layerlab"
    if case == "deep JSON":
        path.write_text(DEEP, encoding="utf-8")
        problem = "nested 100,000 levels deep"
    elif case == "giant integer":
        path.write_text(GIANT_INTEGER, encoding="utf-8")
        problem = "an integer of 5,001 digits"
    elif case == "symlink to /dev/zero":
        path.symlink_to("/dev/zero")
        problem = "is a device, not a regular file"
    else:
        path = tmp_path / ("n" * 300 + ".layerlab")
        problem = "the name is too long for this system"

    seconds = open_through_the_menu(main_window, monkeypatch, path)

    assert seconds < 3
    [(title, text)] = warnings
    assert title == "Cannot open file" and text.startswith(f"{path}: ") and problem in text
    assert_in_words(text)
    assert main_window.editor.document.spec() == before and main_window.isWindowModified()


def test_file_open_of_a_fifo_does_not_hang(main_window, tmp_path, monkeypatch, warnings):
    path = tmp_path / "pipe.layerlab"
    with fifo_with_rescue(path) as rescue:
        seconds = open_through_the_menu(main_window, monkeypatch, path)
    assert not rescue.rescued and seconds < 3
    [(title, text)] = warnings
    assert title == "Cannot open file" and text == f"{path}: is a named pipe, not a regular file; LayerLab reads " \
                                                   f"only ordinary files"


# -- Ctrl+V (F2, F3) ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "problem"), [
    (DEEP, "the clipboard text is nested 100,000 levels deep; LayerLab reads JSON at most 64 levels deep"),
    ('{"format": "layerlab-nodes", "version": 1, "nodes": [{"id": "d", "type": "Dense", "units": ' + "7" * 5000
     + '}], "edges": [], "positions": {"d": [0, 0]}}',
     "the clipboard text holds an integer of 5,000 digits; LayerLab reads integers of at most 30 digits"),
])
def test_ctrl_v_of_hostile_text_says_why_and_pastes_nothing(main_window, text, problem):
    QGuiApplication.clipboard().setText(text)
    main_window.activateWindow()
    canvas = main_window.canvas.viewport()
    QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, canvas.rect().topLeft()
                     + canvas.rect().center() / 8)  # empty canvas: the canvas has the focus
    QTest.keyClick(canvas, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    message = main_window.statusBar().full_message()
    assert message == f"Nothing to paste: {problem}; nothing was pasted"
    assert main_window.editor.undo_stack.count() == 0


def test_a_json_field_refuses_deep_text_and_keeps_its_value(qtbot):
    from app.field_editors import JsonEditor

    editor = JsonEditor()
    qtbot.addWidget(editor)
    editor.show()
    qtbot.waitExposed(editor)
    edited = []
    editor.value_edited.connect(edited.append)
    editor.set_value([1, 2])
    QGuiApplication.clipboard().setText("[" * 5000 + "]" * 5000)
    line = editor.line
    QTest.mouseClick(line, Qt.MouseButton.LeftButton)
    QTest.keyClick(line, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(line, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(line, Qt.Key.Key_Return)
    assert edited == [] and editor.value() == [1, 2]
    assert "nested 5,000 levels deep" in line.toolTip()
    type_into(line, "[3, 4]")
    assert edited == [[3, 4]] and line.toolTip() == ""


# -- the recovery folder at start (F2, F4, F12) ---------------------------------------------------------------

def good_recovery_copy(seed_spec) -> Path:
    path = autosave.recovery_path(None)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_project(path, seed_spec, {}, {"dataset": "mnist"})
    return path


@pytest.mark.parametrize("entry", ["deep JSON", "folder", "FIFO", "giant integer"])
def test_a_recovery_entry_that_cannot_be_read_never_stops_the_start(main_window, seed_spec, entry):
    """What gui.py does at start: offer the newest recovery copy. The bad entry is skipped, named once in the
    status bar, and the good copy beside it is still offered."""
    good = good_recovery_copy(seed_spec)
    bad = autosave.recovery_dir() / "x.layerlab"
    offered = []
    main_window.project.ask_to_recover = lambda recovery: offered.append(recovery.path) or False
    rescue = None
    if entry == "deep JSON":
        bad.write_text(DEEP, encoding="utf-8")
    elif entry == "giant integer":
        bad.write_text(GIANT_INTEGER, encoding="utf-8")
    elif entry == "folder":
        bad.mkdir()
    else:
        rescue = Rescue(bad)
    try:
        started = time.monotonic()
        main_window.project.offer_recovery_at_start()
        seconds = time.monotonic() - started
    finally:
        if rescue:
            rescue.stop()
    assert not (rescue and rescue.rescued) and seconds < 3
    assert offered == [good]
    message = main_window.statusBar().full_message()
    assert message.startswith(f"A recovery file could not be read and was skipped: {bad}: ")
    assert_in_words(message)
    assert bad.is_dir() if entry == "folder" else not os.path.lexists(bad)  # only copies are removed


def test_every_launch_after_a_bad_recovery_entry_still_starts(qtbot, seed_spec):
    """F12: a folder named x.layerlab in the recovery folder made every launch exit 1."""
    from app.main_window import MainWindow

    (autosave.recovery_dir() / "x.layerlab").mkdir(parents=True)
    for _launch in range(2):
        window = MainWindow()
        window.project.ask_to_save_changes = lambda: QMessageBox.StandardButton.Discard
        qtbot.addWidget(window)
        window.show()
        assert not window.project.offer_recovery_at_start()
        assert "x.layerlab: is a folder, not a file" in window.statusBar().full_message()
        window.close()


# -- autosave after an edit (not on a fixed minute) -----------------------------------------------------------

def test_an_edit_on_the_canvas_reaches_the_recovery_file_within_seconds(main_window, qtbot):
    copy = autosave.recovery_path(None)
    assert not copy.exists()
    node = drag_layer_from_palette(main_window, "Dropout", main_window.canvas.viewport().rect().center())
    started = time.monotonic()
    qtbot.waitUntil(copy.exists, timeout=3000)
    assert time.monotonic() - started < 3
    assert node in [n["id"] for n in read_project(copy).spec["nodes"]]


# -- settings (F4, F12) ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [5, 2.5, True, QSize(3, 4), {"a": 1}, [1, 2]])
def test_a_recent_files_setting_of_the_wrong_type_does_not_break_file_open(main_window, tmp_path, monkeypatch,
                                                                           network_file, seed_spec, value):
    project = tmp_path / "mine.layerlab"
    write_project(project, seed_spec, {}, {"dataset": "mnist"})
    QSettings().setValue("recent_files", value)  # as another program, or a hand edit, left it
    main_window.recent_menu.aboutToShow.emit()  # File > Open Recent lists nothing rather than failing
    assert [a.text() for a in main_window.recent_menu.actions()] == ["No recent files"]
    open_through_the_menu(main_window, monkeypatch, project)
    assert main_window.project.path == project
    assert main_window.project.recent_files.paths() == [project.absolute()]


def settings_file() -> Path:
    """Where this test's QSettings() keeps its file (tests/app/conftest.py points it at the test's folder)."""
    return Path(QSettings().fileName())


def test_a_fifo_for_the_settings_file_starts_on_default_settings_and_says_so(qtbot):
    from app.main_window import MainWindow

    path = settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with fifo_with_rescue(path) as rescue:
        started = time.monotonic()
        window = MainWindow()
        seconds = time.monotonic() - started
        window.project.ask_to_save_changes = lambda: QMessageBox.StandardButton.Discard
        qtbot.addWidget(window)
        window.show()
        assert not rescue.rescued and seconds < RESCUE_AFTER_S
        message = window.statusBar().full_message()
        assert message.startswith(f"Settings not read: {path}: is a named pipe, not a regular file")
        assert "started with default settings" in message
        window.close()  # saving the window's layout goes to the scratch settings, not into the FIFO
        assert not rescue.rescued
    assert Path(path).is_fifo()


def test_a_huge_settings_file_is_not_read(qtbot):
    from app.main_window import MainWindow

    path = settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.truncate(64 * 1024 * 1024)
    window = MainWindow()
    window.project.ask_to_save_changes = lambda: QMessageBox.StandardButton.Discard
    qtbot.addWidget(window)
    assert window.statusBar().full_message().startswith(f"Settings not read: {path}: is 67.1 MB")
    window.close()
    assert path.stat().st_size == 64 * 1024 * 1024  # left as it was


# -- a 300-character network name (F11) -----------------------------------------------------------------------

def test_save_as_of_a_network_with_a_300_character_name_works(main_window, tmp_path, monkeypatch, seed_spec):
    name = "a/very:long " + "n" * 300
    source = tmp_path / "long.json"
    source.write_text(json.dumps({**seed_spec, "name": name}), encoding="utf-8")
    open_through_the_menu(main_window, monkeypatch, source)  # a bare network: Save As names it after the network
    suggested = []

    def save_dialog(parent, caption, proposed, file_filter):
        suggested.append(proposed)
        return proposed, file_filter  # the person accepts the name offered

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)
    choose_from_menu(main_window, "File", "Save As…")
    [proposed] = suggested
    saved = Path(proposed)
    assert saved.parent == tmp_path and saved.name.startswith("a-very-long nnnn") and saved.suffix == ".layerlab"
    assert len(saved.name.encode()) <= 130
    assert read_project(saved).spec["name"] == name  # the name itself is kept whole
    assert main_window.project.path == saved and not main_window.isWindowModified()


def test_project_file_error_is_a_user_file_error():
    import engine

    assert issubclass(ProjectFileError, engine.UserFileError)
    error = ProjectFileError("/x/p.layerlab", "no such file")
    assert (error.path, error.problem, str(error)) == ("/x/p.layerlab", "no such file", "/x/p.layerlab: no such file")


def test_a_bad_settings_file_and_a_bad_recovery_entry_are_both_said(qtbot):
    from app.main_window import MainWindow

    path = settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.truncate(64 * 1024 * 1024)
    bad = autosave.recovery_dir() / "x.layerlab"
    bad.mkdir(parents=True)
    window = MainWindow()
    window.project.ask_to_save_changes = lambda: QMessageBox.StandardButton.Discard
    qtbot.addWidget(window)
    window.project.offer_recovery_at_start()  # what gui.py does once the window is shown
    message = window.statusBar().full_message()
    assert message.startswith(f"A recovery file could not be read and was skipped: {bad}: ")
    assert f"Settings not read: {path}: is 67.1 MB" in message
    window.close()
