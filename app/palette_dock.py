"""The layer palette (left dock): every layer type the engine knows, grouped, with a search box.

Groups appear in the order of their first layer in ``engine.layer_types()``, which is palette order.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDockWidget, QLabel, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

import engine


def group_title(group: str) -> str:
    """'normalisation/regularisation' -> 'Normalisation / regularisation'."""
    return (group[:1].upper() + group[1:]).replace("/", " / ")


class PaletteDock(QDockWidget):
    # The LayerTypeInfo picked, or None when nothing is selected (cleared, or filtered away).
    layer_type_selected = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Layers", parent)
        self.setObjectName("PaletteDock")
        self._infos = {info.type: info for info in engine.layer_types()}
        self._items: dict[str, QTreeWidgetItem] = {}

        self.search_box = QLineEdit()
        self.search_box.setPlaceholderText("Search layers")
        self.search_box.setClearButtonEnabled(True)
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setIndentation(12)
        self.no_match_label = QLabel("No layer matches your search.")
        self.no_match_label.setWordWrap(True)
        self.no_match_label.hide()
        self._fill_tree()

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.search_box)
        layout.addWidget(self.no_match_label)
        layout.addWidget(self.tree)
        self.setWidget(body)

        self.search_box.textChanged.connect(self.filter)
        self.tree.itemSelectionChanged.connect(self._emit_selection)

    def _fill_tree(self) -> None:
        for group in dict.fromkeys(info.group for info in self._infos.values()):
            members = [info for info in self._infos.values() if info.group == group]
            group_item = QTreeWidgetItem(self.tree, [group_title(group)])
            group_item.setFlags(Qt.ItemFlag.ItemIsEnabled)  # a heading: not selectable
            font = group_item.font(0)
            font.setBold(True)
            group_item.setFont(0, font)
            for info in members:
                item = QTreeWidgetItem(group_item, [info.type])
                item.setToolTip(0, info.description)
                self._items[info.type] = item
        self.tree.expandAll()

    def filter(self, text: str) -> None:
        """Show the layer types whose name, group or description contain every word of ``text``."""
        words = text.lower().split()
        selected = self.selected_layer_type()
        for name, item in self._items.items():
            info = self._infos[name]
            haystack = f"{info.type} {info.group} {info.description}".lower()
            item.setHidden(not all(word in haystack for word in words))
        for index in range(self.tree.topLevelItemCount()):
            group_item = self.tree.topLevelItem(index)
            children = [group_item.child(row) for row in range(group_item.childCount())]
            group_item.setHidden(all(child.isHidden() for child in children))
        # Qt drops hidden items from selectedItems() without a signal; clear it for real so the
        # inspector hears of it and the item does not come back selected when the filter is cleared.
        if selected is not None and self._items[selected.type].isHidden():
            self.tree.clearSelection()
        self.no_match_label.setVisible(not self.visible_layer_types())

    def visible_layer_types(self) -> list[str]:
        return [name for name, item in self._items.items() if not item.isHidden()]

    def select_layer_type(self, name: str) -> None:
        self.tree.setCurrentItem(self._items[name])

    def selected_layer_type(self):
        """The selected LayerTypeInfo, or None."""
        selected = self.tree.selectedItems()
        return self._infos.get(selected[0].text(0)) if selected else None

    def reset(self) -> None:
        self.search_box.clear()
        self.tree.clearSelection()

    def _emit_selection(self) -> None:
        self.layer_type_selected.emit(self.selected_layer_type())
