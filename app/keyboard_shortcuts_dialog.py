"""Help > Keyboard Shortcuts: every menu command that has a shortcut, grouped by menu, with a search field.

The list is read from the window's menu bar each time the dialog opens (menus and submenus, walked down), so
a command added to a menu with a shortcut appears here without this file being edited.

    KeyboardShortcutsDialog(window).exec()
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

PATH_SEPARATOR = " › "


@dataclass(frozen=True)
class ShortcutEntry:
    menu_path: tuple[str, ...]  # ("Edit",) or ("View", "Theme")
    command: str  # the action's text as a person reads it: no '&' mnemonics, no trailing '…'
    keys: tuple[str, ...]  # each shortcut in the platform's own words ("Ctrl+Z", "⌘Z")

    @property
    def menu(self) -> str:
        return PATH_SEPARATOR.join(self.menu_path)


def plain_text(text: str) -> str:
    """A menu text as read: mnemonics gone ('&&' is a literal '&'), no trailing ellipsis."""
    text = text.replace("&&", "\0").replace("&", "").replace("\0", "&")
    return text.removesuffix("…").removesuffix("...").strip()


def shortcut_entries(window: QMainWindow) -> list[ShortcutEntry]:
    """The menu bar's commands that have a shortcut, in menu order."""
    entries: list[ShortcutEntry] = []
    for action in window.menuBar().actions():
        if action.menu() is not None:
            _walk(action.menu(), (plain_text(action.text()),), entries, set())
    return entries


def _walk(menu: QMenu, path: tuple[str, ...], entries: list[ShortcutEntry], seen: set[int]) -> None:
    if id(menu) in seen:  # a menu reachable twice (or from itself) is listed once
        return
    seen.add(id(menu))
    for action in menu.actions():
        if action.isSeparator() or not action.isVisible():  # a hidden command's shortcut does nothing
            continue
        submenu = action.menu()
        if submenu is not None:
            _walk(submenu, (*path, plain_text(action.text())), entries, seen)
            continue
        keys = tuple(key.toString(QKeySequence.SequenceFormat.NativeText) for key in action.shortcuts()
                     if not key.isEmpty())
        if keys:
            entries.append(ShortcutEntry(path, plain_text(action.text()), keys))


class KeyboardShortcutsDialog(QDialog):
    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.setObjectName("KeyboardShortcutsDialog")
        self.setWindowTitle("Keyboard Shortcuts")
        self.entries = shortcut_entries(window)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search commands and keys")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)

        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Command", "Shortcut"])
        self.tree.setRootIsDecorated(False)
        self.tree.setEditTriggers(QTreeWidget.EditTrigger.NoEditTriggers)
        self.tree.setSelectionMode(QTreeWidget.SelectionMode.NoSelection)
        self.tree.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # typing goes to the search field
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(False)
        self._fill()

        self.nothing_found = QLabel("No command matches.")
        self.nothing_found.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.nothing_found.hide()

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.close_button = buttons.button(QDialogButtonBox.StandardButton.Close)

        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.nothing_found)
        layout.addWidget(buttons)
        self.resize(480, 520)
        self.search.setFocus()

    def _fill(self) -> None:
        groups: dict[str, QTreeWidgetItem] = {}
        for entry in self.entries:
            group = groups.get(entry.menu)
            if group is None:
                group = QTreeWidgetItem(self.tree, [entry.menu])
                font = group.font(0)
                font.setBold(True)
                group.setFont(0, font)
                group.setFirstColumnSpanned(True)
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                group.setExpanded(True)
                groups[entry.menu] = group
            row = QTreeWidgetItem(group, [entry.command, ", ".join(entry.keys)])
            row.setFlags(Qt.ItemFlag.ItemIsEnabled)
            row.setData(0, Qt.ItemDataRole.UserRole, entry)
        self.tree.expandAll()

    def rows(self) -> list[QTreeWidgetItem]:
        """Every command row (under its menu's group row), shown or hidden."""
        return [group.child(i) for group in self._groups() for i in range(group.childCount())]

    def visible_entries(self) -> list[ShortcutEntry]:
        return [row.data(0, Qt.ItemDataRole.UserRole) for row in self.rows()
                if not row.isHidden() and not row.parent().isHidden()]

    def _groups(self) -> list[QTreeWidgetItem]:
        return [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]

    def _filter(self, text: str) -> None:
        """Keep the rows whose menu, command or keys contain every word typed (case ignored)."""
        words = text.casefold().split()
        for group in self._groups():
            shown = 0
            for i in range(group.childCount()):
                row = group.child(i)
                entry: ShortcutEntry = row.data(0, Qt.ItemDataRole.UserRole)
                haystack = " ".join((entry.menu, entry.command, *entry.keys)).casefold()
                row.setHidden(not all(word in haystack for word in words))
                shown += not row.isHidden()
            group.setHidden(shown == 0)
        self.nothing_found.setVisible(not self.visible_entries())
