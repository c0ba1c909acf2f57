"""Help > Keyboard Shortcuts: every command in the menu bar that has a shortcut, grouped by menu, searchable."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QMainWindow

from app.keyboard_shortcuts_dialog import KeyboardShortcutsDialog


def native(keys: str) -> str:
    return QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText)


def add_action(menu, text, *shortcuts) -> QAction:
    action = QAction(text, menu)
    action.setShortcuts([QKeySequence(key) for key in shortcuts])
    menu.addAction(action)
    return action


@pytest.fixture
def window(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    file_menu = window.menuBar().addMenu("&File")
    add_action(file_menu, "&Open…", "Ctrl+O")
    add_action(file_menu, "Export &Picture...", "Ctrl+E")
    add_action(file_menu, "Print Preview")  # no shortcut: not listed
    file_menu.addSeparator()
    add_action(file_menu, "&Quit", "Ctrl+Q")
    edit_menu = window.menuBar().addMenu("&Edit")
    add_action(edit_menu, "&Undo", "Ctrl+Z")
    add_action(edit_menu, "&Delete", "Del", "Backspace")
    add_action(edit_menu, "Rock && &Roll", "Ctrl+R")
    theme_menu = window.menuBar().addMenu("&View").addMenu("&Theme")
    add_action(theme_menu, "&Dark", "Ctrl+Shift+D")
    window.show()
    qtbot.waitExposed(window)
    return window


def open_dialog(qtbot, window) -> KeyboardShortcutsDialog:
    dialog = KeyboardShortcutsDialog(window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def shown_rows(dialog) -> list[tuple[str, str, str]]:
    """(menu, command, shortcut) as the tree shows them, for the rows not filtered out."""
    rows = []
    for g in range(dialog.tree.topLevelItemCount()):
        group = dialog.tree.topLevelItem(g)
        if group.isHidden():
            continue
        for i in range(group.childCount()):
            row = group.child(i)
            if not row.isHidden():
                rows.append((group.text(0), row.text(0), row.text(1)))
    return rows


def test_every_menu_shortcut_is_listed_under_its_menu(qtbot, window):
    dialog = open_dialog(qtbot, window)
    assert shown_rows(dialog) == [
        ("File", "Open", native("Ctrl+O")),
        ("File", "Export Picture", native("Ctrl+E")),
        ("File", "Quit", native("Ctrl+Q")),
        ("Edit", "Undo", native("Ctrl+Z")),
        ("Edit", "Delete", f"{native('Del')}, {native('Backspace')}"),
        ("Edit", "Rock & Roll", native("Ctrl+R")),
        ("View › Theme", "Dark", native("Ctrl+Shift+D")),
    ]
    assert dialog.windowTitle() == "Keyboard Shortcuts"


def test_a_command_added_later_is_listed_the_next_time_it_opens(qtbot, window):
    first = open_dialog(qtbot, window)
    assert "Zoom In" not in [command for _, command, _ in shown_rows(first)]
    first.close()
    view_menu = window.menuBar().actions()[2].menu()
    add_action(view_menu, "Zoom &In", "Ctrl++")
    hidden = add_action(view_menu, "Secret", "Ctrl+Alt+S")
    hidden.setVisible(False)  # its shortcut does nothing, so it is not listed
    second = open_dialog(qtbot, window)
    commands = [(menu, command) for menu, command, _ in shown_rows(second)]
    assert ("View", "Zoom In") in commands and ("View", "Secret") not in commands


def test_typing_in_the_search_field_filters_the_rows(qtbot, window):
    dialog = open_dialog(qtbot, window)
    qtbot.keyClicks(dialog.search, "undo")
    assert shown_rows(dialog) == [("Edit", "Undo", native("Ctrl+Z"))]

    dialog.search.clear()
    qtbot.keyClicks(dialog.search, "theme")  # a menu's name finds its commands
    assert shown_rows(dialog) == [("View › Theme", "Dark", native("Ctrl+Shift+D"))]

    dialog.search.clear()
    qtbot.keyClicks(dialog.search, native("Ctrl+Q").lower())  # so does a key
    assert [command for _, command, _ in shown_rows(dialog)] == ["Quit"]
    assert not dialog.nothing_found.isVisible()

    dialog.search.clear()
    qtbot.keyClicks(dialog.search, "nothing like this")
    assert shown_rows(dialog) == [] and dialog.nothing_found.isVisible()

    dialog.search.clear()
    assert len(shown_rows(dialog)) == 7


def test_the_table_is_read_only_and_close_closes_it(qtbot, window):
    dialog = open_dialog(qtbot, window)
    row = dialog.tree.topLevelItem(0).child(0)
    assert not row.flags() & Qt.ItemFlag.ItemIsEditable
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible() and dialog.result() == QDialog.DialogCode.Rejected


def test_the_main_windows_own_shortcuts_are_listed(qtbot, main_window):
    dialog = open_dialog(qtbot, main_window)
    commands = {(menu, command): keys for menu, command, keys in shown_rows(dialog)}
    assert commands[("File", "Save")] == main_window.save_action.shortcut().toString(
        QKeySequence.SequenceFormat.NativeText)
    assert ("Edit", "Undo") in commands and ("View", "Fit to View") in commands


def test_help_lists_the_run_pad_and_workspace_shortcuts(qtbot, main_window):
    """Help > Keyboard Shortcuts, clicked through the menu bar, opens the list with the run controls', the
    pad's and the workspaces' keys."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from tests.app.gui_helpers import choose_from_menu

    seen = {}

    def read_and_close():
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, KeyboardShortcutsDialog)
        seen.update({(menu, command): keys for menu, command, keys in shown_rows(dialog)})
        dialog.accept()

    QTimer.singleShot(200, read_and_close)
    choose_from_menu(main_window, "Help", "Keyboard Shortcuts")
    native = QKeySequence.SequenceFormat.NativeText
    assert seen[("Run", "Start Training")] == QKeySequence("F5").toString(native)
    assert seen[("Run", "Pause")] == QKeySequence("F6").toString(native)
    assert seen[("Run", "Step (One Batch)")] == QKeySequence("F10").toString(native)
    assert seen[("Run", "Stop")] == QKeySequence("Shift+F5").toString(native)
    assert seen[("Draw", "Clear Pad")] == QKeySequence("Ctrl+Shift+Backspace").toString(native)
    assert seen[("Draw", "Undo Stroke")] == QKeySequence("Ctrl+Alt+Z").toString(native)
    assert seen[("View", "Design Workspace")] == QKeySequence("Ctrl+1").toString(native)
    assert seen[("View", "Train Workspace")] == QKeySequence("Ctrl+2").toString(native)
