"""App tests run offscreen (no display, no windows popping up) unless QT_QPA_PLATFORM says otherwise, on one
Full HD screen (offscreen_screen.json: the offscreen platform's own is 800x800, smaller than the window a
first launch opens on a desktop); test_workspace_fit.py checks a 1280x720 screen at scales 1 and 2.

Every test gets its own settings (recent files) and recovery folder, so tests never touch the user's,
and a message box nobody expected fails the test instead of waiting forever for a click.
"""

import os

# Must happen before pytest-qt creates the QApplication, which reads it once.
if os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
    screen = os.path.join(os.path.dirname(os.path.abspath(__file__)), "offscreen_screen.json")
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={screen}"

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def garbage_collected_on_the_gui_thread(qapp):
    """As in the app (app/gui_thread_gc.py): no automatic collection, which could run on a worker thread and
    deadlock PySide6; what a test leaves behind (windows, their menus) is collected here, on this thread."""
    import gc

    from app.gui_thread_gc import install_gui_thread_gc

    install_gui_thread_gc(qapp)
    gc.disable()
    yield
    gc.collect()
    gc.enable()  # the engine's tests, which run later in the same session, keep Python's default


@pytest.fixture(autouse=True)
def isolated_user_files(tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    from app.document import autosave

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    monkeypatch.setattr(autosave, "recovery_dir", lambda: tmp_path / "recovery")


@pytest.fixture(autouse=True)
def no_unexpected_dialogs(monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    def refuse(parent, title, text, *rest):
        raise AssertionError(f"a message box opened that the test did not expect: {title}: {text}")

    for name in ("question", "warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, name, refuse)


@pytest.fixture
def main_window(qtbot):
    from PySide6.QtWidgets import QMessageBox

    from app.main_window import MainWindow

    window = MainWindow()
    # Closing at teardown must not stop to ask about unsaved changes.
    window.project.ask_to_save_changes = lambda: QMessageBox.StandardButton.Discard
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.fixture
def network_file(tmp_path):
    """A small valid network file, as written by hand from issue 3's format."""
    path = tmp_path / "tiny-mlp.json"
    path.write_text(
        '{"format": "layerlab-network", "version": 1, "name": "tiny-mlp", "nodes": ['
        '{"id": "input", "type": "Input", "shape": [784]}, {"id": "hidden", "type": "Dense", "units": 32, '
        '"activation": "relu"}, {"id": "logits", "type": "Dense", "units": 10}]}',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def seed_spec():
    import json

    import resources

    return json.loads(resources.examples()["seed-cnn"].read_text(encoding="utf-8"))


@pytest.fixture
def softmax_spec():
    """The softmax-regression example's file: the quickest network the CLI's training tests train."""
    import resources

    return str(resources.examples()["softmax-regression"])
