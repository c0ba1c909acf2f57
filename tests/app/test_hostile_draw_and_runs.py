"""Issue 19 in the app: hostile files given to Draw > Load, the folders a training run leaves behind, and a
project whose training settings the form cannot show.

- F6: an image file chosen with the Load button is read through ``engine.user_files.read_image``: EPS
  content under a ``.png`` name never starts Ghostscript (a fake ``gs`` first on PATH would leave a
  marker), a FIFO is refused at once, and a symlink to /dev/zero, a truncated or a gigantic image each get
  a message naming the file while the pad keeps its drawing;
- left behind: a run started with the Start button leaves no ``layerlab-run-*`` folder once it finished,
  and Save best still writes its best weights; a window's start sweeps the folders of dead LayerLab
  processes and keeps those of living ones;
- F11: File > Open of a project with ``training.optimizer: 5`` or ``training.epochs: 2**31`` says which
  field was refused and why, and the form shows that field's default, not the previous project's value.
"""

from __future__ import annotations

import os
import struct
import threading
import time
import zlib

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox

import engine
from app.dashboard import install_dashboard
from tests.app.draw_helpers import circle_points, draw_stroke, shown_draw_panel

LEFT = Qt.MouseButton.LeftButton
NO_MODIFIER = Qt.KeyboardModifier.NoModifier

# ------------------------------------------------------------------------------------------- Draw > Load

EPS_THAT_LOOPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 28 28\n{ } loop\n"
EPS_MALFORMED = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 28 28\n/x { 1 0 div } def x (\n"


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_header(width: int, height: int) -> bytes:
    """A grey 8-bit PNG's signature and header claiming ``width`` x ``height`` (no pixels follow)."""
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))


@pytest.fixture
def fake_ghostscript(tmp_path, monkeypatch):
    """A ``gs`` first on PATH that only leaves a marker; Pillow is made to look for Ghostscript afresh."""
    from PIL import EpsImagePlugin

    folder = tmp_path / "bin"
    folder.mkdir()
    marker = tmp_path / "ghostscript-ran"
    script = folder / "gs"
    script.write_text(f"#!/bin/sh\necho \"$@\" >> '{marker}'\nexit 0\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", None)
    monkeypatch.setattr(EpsImagePlugin, "gs_windows_binary", None)
    return marker


@pytest.fixture
def panel(qtbot):
    panel = shown_draw_panel(qtbot)
    assert panel.load_button.isEnabled()
    return panel


def _load_with_the_button(panel, path, monkeypatch) -> tuple[list, float]:
    """Click Load…, choose ``path`` in the file dialog; (the warnings shown, seconds until Load returned)."""
    warnings = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda parent, caption, start, file_filter: (str(path), file_filter))
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *rest: warnings.append((title, text)))
    started = time.monotonic()
    QTest.mouseClick(panel.load_button, LEFT, NO_MODIFIER, panel.load_button.rect().center())
    return warnings, time.monotonic() - started


def _hostile_image(kind: str, folder):
    path = folder / f"{kind}.png"  # every one of them named as a PNG
    if kind == "eps that loops":
        path.write_bytes(EPS_THAT_LOOPS)
    elif kind == "malformed eps":
        path.write_bytes(EPS_MALFORMED)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "link to dev zero":
        path.symlink_to("/dev/zero")
    elif kind == "truncated png":
        from PIL import Image

        noise = np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)  # ~4 KB: it cannot compress
        Image.fromarray(noise).save(path)
        path.write_bytes(path.read_bytes()[:2000])
    elif kind == "gigantic png":
        path.write_bytes(_png_header(9_000, 9_000) + _png_chunk(b"IEND", b""))
    return path


class _FifoRelease:
    """Old code blocked forever opening a FIFO for reading: after ``after`` seconds this opens its other end
    and closes it, so such a test fails on its timing instead of hanging the suite."""

    def __init__(self, path, after: float = 4.0):
        self.path, self.after, self.done = path, after, threading.Event()
        self.thread = threading.Thread(target=self._release, daemon=True)
        self.thread.start()

    def _release(self) -> None:
        if self.done.wait(self.after):
            return
        while not self.done.is_set():
            try:
                descriptor = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # no reader waiting (yet)
                time.sleep(0.05)
                continue
            os.write(descriptor, b"not an image")
            os.close(descriptor)
            return

    def stop(self) -> None:
        self.done.set()
        self.thread.join(5)


@pytest.mark.parametrize("kind", ["eps that loops", "malformed eps", "fifo", "link to dev zero", "truncated png",
                                  "gigantic png"])
def test_a_hostile_image_loaded_with_the_button_is_named_and_the_pad_keeps_its_drawing(
        panel, tmp_path, monkeypatch, fake_ghostscript, kind):
    draw_stroke(panel.pad, circle_points())
    drawing, strokes = panel.pad.pixels(), list(panel.pad.strokes)
    path = _hostile_image(kind, tmp_path)
    release = _FifoRelease(path) if kind == "fifo" else None
    try:
        warnings, seconds = _load_with_the_button(panel, path, monkeypatch)
    finally:
        if release:
            release.stop()
    assert not fake_ghostscript.exists(), "Pillow ran Ghostscript"
    assert seconds < 2.0
    assert len(warnings) == 1
    title, text = warnings[0]
    assert title == "Load image" and str(path) in text
    for name in ("Error", "Exception", "Traceback", "errno"):
        assert name not in text
    expected = {"eps that loops": "not an image LayerLab can read", "malformed eps": "not an image LayerLab can read",
                "fifo": "named pipe", "link to dev zero": "device", "truncated png": "damaged",
                "gigantic png": "pixels"}[kind]
    assert expected in text
    np.testing.assert_array_equal(panel.pad.pixels(), drawing)
    assert panel.pad.strokes == strokes


def test_a_good_image_still_loads_with_the_button(panel, tmp_path, monkeypatch, fake_ghostscript):
    from PIL import Image

    ink = np.zeros((28, 28), dtype=np.uint8)
    ink[6:22, 12:16] = 255  # a "1", bright on black
    path = tmp_path / "one.png"
    Image.fromarray(ink).save(path)
    warnings, _ = _load_with_the_button(panel, path, monkeypatch)
    assert warnings == [] and not panel.pad.strokes and panel.pad.pixels().any()


# ------------------------------------------------------------------------------------ run folders left behind

RUN_TIMEOUT_MS = 60_000


def toy_spec():
    return {"name": "toy", "nodes": [
        {"id": "input", "type": "Input", "shape": [2]},
        {"id": "hidden", "type": "Dense", "units": 8, "activation": "tanh"},
        {"id": "logits", "type": "Dense", "units": 2}]}


@pytest.fixture
def temp_dir(tmp_path, monkeypatch):
    """Where tempfile puts folders, for this test only: what a run leaves is counted here, not in /tmp."""
    import tempfile

    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _run_folders(folder) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.startswith("layerlab-run-"))


def _dead_pid() -> int:
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_finished_run_leaves_no_folder_and_save_best_still_writes_its_best_weights(
        qtbot, temp_dir, tmp_path, monkeypatch):
    window = QMainWindow()
    window.setCentralWidget(QLabel("canvas"))
    dashboard = install_dashboard(window, toy_spec, lambda: "toy:spiral")
    panel, controller = dashboard.training_panel, dashboard.controller
    made = []  # each run's folder, and whether it existed as the run started
    controller.run_started.connect(lambda run: made.append((run.checkpoint_dir, run.checkpoint_dir.is_dir())))
    window.show()
    try:
        for _ in range(2):  # a second run on the same controller: its folder goes too
            with qtbot.waitSignal(controller.run_finished, timeout=RUN_TIMEOUT_MS):
                QTest.mouseClick(panel.start_button, LEFT, NO_MODIFIER, panel.start_button.rect().center())
            qtbot.waitUntil(lambda: not _run_folders(temp_dir), timeout=10_000)
        assert [(folder.parent, existed) for folder, existed in made] == [(temp_dir, True)] * 2
        saved = tmp_path / "best.llmodel"
        monkeypatch.setattr(QFileDialog, "getSaveFileName",
                            lambda parent, caption, start, file_filter: (str(saved), file_filter))
        QTest.mouseClick(panel.save_best_button, LEFT, NO_MODIFIER, panel.save_best_button.rect().center())
        assert panel.status.text().startswith("Saved"), panel.status.text()
        checkpoint = engine.load_checkpoint(saved)
        assert checkpoint.metadata["best"] is True and checkpoint.network.spec["name"] == "toy"
    finally:
        assert dashboard.shutdown(timeout_ms=20_000)
        window.close()
        window.deleteLater()
    assert not _run_folders(temp_dir)


def test_a_window_closed_mid_run_leaves_no_folder(qtbot, temp_dir):
    window = QMainWindow()
    window.setCentralWidget(QLabel("canvas"))
    dashboard = install_dashboard(window, toy_spec, lambda: "toy:spiral")
    dashboard.training_panel.form.epochs.setValue(1000)
    window.show()
    panel = dashboard.training_panel
    QTest.mouseClick(panel.start_button, LEFT, NO_MODIFIER, panel.start_button.rect().center())
    qtbot.waitUntil(lambda: dashboard.controller.state == "running" and bool(_run_folders(temp_dir)),
                    timeout=RUN_TIMEOUT_MS)
    assert dashboard.shutdown(timeout_ms=20_000)  # what the main window's closeEvent does
    window.close()
    window.deleteLater()
    assert not _run_folders(temp_dir)


def test_the_app_sweeps_the_run_folders_of_dead_processes_at_start(qtbot, temp_dir):
    from app.main_window import MainWindow

    dead = temp_dir / f"layerlab-run-{_dead_pid()}-k2x9_a"
    living = temp_dir / f"layerlab-run-{os.getppid()}-q7m1_b"  # pytest's parent: alive while we run
    older = temp_dir / "layerlab-run-z81kq0_c"  # an older LayerLab's: whose it is cannot be known
    for folder in (dead, living, older):
        folder.mkdir()
        (folder / "best.llmodel").write_bytes(b"x" * 1000)
    link = temp_dir / f"layerlab-run-{_dead_pid()}-link"
    link.symlink_to(living, target_is_directory=True)

    window = MainWindow()
    window.project.ask_to_save_changes = lambda: QMessageBox.StandardButton.Discard
    qtbot.addWidget(window)
    assert not dead.exists()
    assert (living / "best.llmodel").exists() and (older / "best.llmodel").exists()
    assert link.is_symlink()  # a link is never followed nor removed


# ------------------------------------------------------------------------ a project's training settings


def _project_file(folder, name: str, training: dict):
    import json

    path = folder / f"{name}.layerlab"
    path.write_text(json.dumps({"format": "layerlab-project", "version": 1, "network": toy_spec(), "layout": {},
                                "training": training}), encoding="utf-8")
    return path


def _open_with_the_menu(window, path, monkeypatch) -> None:
    from tests.app.gui_helpers import choose_from_menu

    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda parent, caption, start, file_filter: (str(path), file_filter))
    choose_from_menu(window, "File", "Open…")


def _form_notes(form) -> str:
    """What the form says in words (its labels that are not hidden)."""
    return "\n".join(label.text() for label in form.findChildren(QLabel) if label.text() and not label.isHidden())


def test_a_project_whose_training_fields_the_form_cannot_show_says_which_and_shows_the_defaults(
        main_window, tmp_path, monkeypatch):
    form = main_window.dashboard.training_panel.form
    good = _project_file(tmp_path, "good", {"dataset": "toy:xor", "epochs": 7, "batch_size": 20, "seed": 3,
                                            "optimizer": {"name": "sgd", "lr": 0.05}, "l2": 0.001,
                                            "early_stopping_patience": 4})
    _open_with_the_menu(main_window, good, monkeypatch)
    assert (form.epochs.value(), form.batch_size.value(), form.optimizer.currentText()) == (7, 20, "SGD")
    assert "training." not in _form_notes(form)

    bad = _project_file(tmp_path, "bad", {"dataset": "toy:spiral", "optimizer": 5, "epochs": 2**31,
                                          "batch_size": "big", "seed": 9, "l2": -1,
                                          "early_stopping_patience": 2.5})
    _open_with_the_menu(main_window, bad, monkeypatch)
    notes = _form_notes(form)
    assert "training.optimizer: 5 is neither an optimizer's name" in notes
    assert "training.epochs: 2147483648 is beyond the largest, 1000; the form shows the default, 2" in notes
    assert 'training.batch_size: "big" is not a whole number; the form shows the default, 50' in notes
    assert "training.l2: -1 is below the smallest, 0" in notes
    assert "training.early_stopping_patience: 2.5 is not a whole number" in notes
    for name in ("Error", "Exception", "Traceback"):
        assert name not in notes
    # Each refused field shows its default, a good one its value, and nothing is left from the project before.
    assert (form.optimizer.currentText(), form.learning_rate.value(), form.epochs.value(), form.batch_size.value(),
            form.l2.value(), form.early_stopping.value()) == ("Adam", 0.001, 2, 50, 0.0, 0)
    assert (form.seed.value(), form.dataset.currentData()) == (9, "toy:spiral")
    assert main_window.windowTitle().startswith("bad")
    settings = form.settings()  # what Start would train with: what the form shows
    assert (settings.config.epochs, settings.config.batch_size, settings.config.optimizer["name"]) == (2, 50, "Adam")

    _open_with_the_menu(main_window, good, monkeypatch)
    assert "training." not in _form_notes(form) and form.epochs.value() == 7


def test_refused_training_settings_are_listed_in_problems_until_a_field_is_set(main_window, tmp_path, monkeypatch):
    from tests.app.gui_helpers import type_into

    bad = _project_file(tmp_path, "bad", {"dataset": "toy:spiral", "epochs": 2**31})
    _open_with_the_menu(main_window, bad, monkeypatch)
    problems = main_window.problems_dock
    assert any("training.epochs: 2147483648 is beyond the largest" in text for text in problems.messages())
    assert "1 problem" in main_window.totals_label.text()
    form = main_window.dashboard.training_panel.form
    type_into(form.epochs, "12")  # the person sets the field: the project now holds what the form shows
    assert not any("training." in text for text in problems.messages())
    assert main_window.editor.document.training_settings["epochs"] == 12
