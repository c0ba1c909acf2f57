"""Preferences kept between sessions: window size and each workspace's dock layout, the last data set, recent
files, and the first-run guide once dismissed. Each test has its own settings folder (tests/app/conftest.py),
so a window closed in a test is the "previous session" of the next window it opens."""

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox

from app.main_window import MainWindow
from app.preferences import GEOMETRY_KEY, Preferences, use_scratch_settings
from app.workspaces import CURRENT_KEY, LAYOUT_KEY
from tests.app.gui_helpers import click_tab


def open_window(qtbot, size=None) -> MainWindow:
    window = MainWindow()
    window.project.ask_to_save_changes = lambda: QMessageBox.StandardButton.Discard
    qtbot.addWidget(window)
    if size:
        window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_a_first_launch_has_nothing_to_restore(qtbot):
    window = open_window(qtbot)
    assert not Preferences().restore_window(window)
    assert (window.width(), window.height()) == (1280, 800)
    assert Preferences().last_dataset is None


def test_window_size_and_each_workspace_layout_come_back_next_session(qtbot):
    first = open_window(qtbot, (1000, 700))
    first.resizeDocks([first.palette_dock], [260], Qt.Orientation.Horizontal)
    first.problems_dock.hide()
    qtbot.wait(50)
    palette_width = first.palette_dock.width()
    click_tab(first.workspaces.tab_bar, "Train")
    first.resizeDocks([first.draw_dock], [360], Qt.Orientation.Horizontal)
    qtbot.wait(50)
    draw_width_in_train = first.draw_dock.width()
    first.close()
    assert QSettings().contains(GEOMETRY_KEY) and QSettings().value(CURRENT_KEY) == "train"

    second = open_window(qtbot)
    assert (second.width(), second.height()) == (1000, 700)
    # It opens where it was left: Train, with its own layout.
    assert second.workspaces.current == "train" and second.workspaces.tab_bar.currentIndex() == 1
    assert second.training_dock.isVisible() and not second.canvas.isVisible()
    assert abs(second.draw_dock.width() - draw_width_in_train) <= 2
    click_tab(second.workspaces.tab_bar, "Design")
    qtbot.wait(50)
    assert not second.problems_dock.isVisible() and second.canvas.isVisible()
    assert abs(second.palette_dock.width() - palette_width) <= 2


def test_a_window_saved_on_a_bigger_screen_opens_inside_this_one(qtbot):
    first = open_window(qtbot)
    first.resize(3000, 1600)  # as if saved on a 4K screen; this one is Full HD
    first.move(900, 500)
    qtbot.wait(50)
    first.close()

    second = open_window(qtbot)
    screen = QGuiApplication.primaryScreen().availableGeometry()
    assert screen.contains(second.frameGeometry()), (second.frameGeometry(), screen)
    assert second.width() >= screen.width() - 20  # as big as fits, not shrunk to the default


def test_a_window_that_is_not_closed_saves_nothing(qtbot):
    window = open_window(qtbot)
    window.editor.add_node("Flatten", (300, 0))
    window.project.ask_to_save_changes = lambda: QMessageBox.StandardButton.Cancel
    window.close()  # cancelled: the session goes on
    assert not QSettings().contains(GEOMETRY_KEY)
    window.project.ask_to_save_changes = lambda: QMessageBox.StandardButton.Discard


def test_a_layout_from_another_version_or_damaged_is_ignored(qtbot):
    settings = QSettings()
    settings.setValue(GEOMETRY_KEY, b"not a geometry")
    settings.setValue(LAYOUT_KEY.format("design"), b"not a layout")
    settings.setValue(CURRENT_KEY, "design")
    settings.sync()
    window = open_window(qtbot)
    assert (window.width(), window.height()) == (1280, 800)
    assert window.palette_dock.isVisible() and window.problems_dock.isVisible() and window.canvas.isVisible()
    assert not window.training_dock.isVisible()


def test_the_last_image_data_set_is_selected_next_session(qtbot):
    first = open_window(qtbot)
    first.dashboard.training_panel.form.select_dataset("fashion-mnist")
    assert first.editor.document.training_settings["dataset"] == "fashion-mnist"
    first.close()
    assert Preferences().last_dataset == "fashion-mnist"

    second = open_window(qtbot)
    assert second.editor.document.training_settings["dataset"] == "fashion-mnist"
    assert second.dashboard.training_panel.form.dataset.currentData() == "fashion-mnist"
    assert not second.isWindowModified()  # remembering is not an edit


def test_a_toy_or_unknown_last_data_set_leaves_mnist(qtbot):
    for remembered in ("toy:spiral", "no-such-set"):
        Preferences().last_dataset = remembered
        window = open_window(qtbot)
        assert window.editor.document.training_settings["dataset"] == "mnist", remembered
        window.close()


def test_scratch_settings_leave_the_real_ones_alone(tmp_path):
    real = QSettings()
    real.setValue("marker", "real")
    real.sync()
    folder = use_scratch_settings()
    try:
        scratch = QSettings()
        assert scratch.value("marker") is None
        assert scratch.fileName().startswith(folder)
    finally:
        # Back to this test's own folder, as conftest set it, for the teardown of other fixtures.
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    assert QSettings().value("marker") == "real"


def test_recent_files_come_back_next_session(qtbot, tmp_path):
    first = open_window(qtbot)
    older, newer = tmp_path / "older.layerlab", tmp_path / "newer.layerlab"
    assert first.project.save_to(older) and first.project.save_to(newer)
    first.close()

    second = open_window(qtbot)
    assert second.project.recent_files.paths() == [newer, older]
    second.recent_menu.aboutToShow.emit()  # what opening File > Open Recent does
    actions = second.recent_menu.actions()
    assert [action.text() for action in actions] == ["newer.layerlab", "older.layerlab"]
    actions[1].trigger()
    assert second.windowTitle() == "older.layerlab[*] — LayerLab"


def test_a_single_recent_file_written_by_an_earlier_session_reads_as_one_path(qtbot, tmp_path):
    # An earlier process wrote one path; INI settings read it back as a plain string, not a one-item list.
    # (Within one process QSettings hands back the list it cached, so the file is written here directly.)
    only = tmp_path / "only.layerlab"
    settings_file = Path(QSettings().fileName())
    settings_file.parent.mkdir(parents=True, exist_ok=True)
    settings_file.write_text(f"[General]\nrecent_files={only}\n", encoding="utf-8")
    assert open_window(qtbot).project.recent_files.paths() == [only]


def test_the_dismissed_guide_stays_dismissed_next_session(qtbot):
    first = open_window(qtbot)
    assert first.show_guide_on_first_run()
    first.guide.close_button.click()
    assert not first.guide.isVisible()
    first.close()

    second = open_window(qtbot)
    assert not second.show_guide_on_first_run()
    assert not second.guide.isVisible()
    second.guide_action.trigger()  # Help > Getting Started still brings it back
    assert second.guide.isVisible()
