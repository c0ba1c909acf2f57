"""The layer palette (left dock): every layer type the engine knows, grouped, with a search box.

Groups appear in the order of their first layer in ``engine.layer_types()``, which is palette order.
Drag a type onto the canvas to add it there; double-click it to add it after the selected node.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

import engine
from app.canvas.view import LAYER_TYPE_MIME
from app.formatting import group_title
from app.layer_icons import layer_icon


def layer_type_mime_data(layer_type: str) -> QMimeData:
    """What a palette drag carries (the canvas reads LAYER_TYPE_MIME; other programs get the name)."""
    mime = QMimeData()
    mime.setData(LAYER_TYPE_MIME, layer_type.encode("utf-8"))
    mime.setText(layer_type)
    return mime


class PaletteTree(QTreeWidget):
    """The tree of layer types; dragging an entry carries its type name."""

    def mimeTypes(self):
        return [LAYER_TYPE_MIME]

    def mimeData(self, items):
        names = [item.text(0) for item in items if item.parent() is not None]
        return layer_type_mime_data(names[0]) if names else None


class PaletteDock(QDockWidget):
    # The LayerTypeInfo picked, or None when nothing is selected (cleared, or filtered away).
    layer_type_selected = Signal(object)
    layer_type_activated = Signal(str)  # double-clicked: add it after the selected node

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Layers", parent)
        self.setObjectName("PaletteDock")
        self._infos = {info.type: info for info in engine.layer_types()}
        self._items: dict[str, QTreeWidgetItem] = {}

        self.search_box = QLineEdit()
        self.search_box.setPlaceholderText("Search layers")
        self.search_box.setClearButtonEnabled(True)
        self.tree = PaletteTree()
        self.tree.setHeaderHidden(True)
        self.tree.setIndentation(12)
        self.tree.setIconSize(QSize(20, 20))
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        # Double-click adds the layer: it must not also fold a group.
        self.tree.setExpandsOnDoubleClick(False)
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
        self.tree.itemDoubleClicked.connect(self._item_double_clicked)

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
                item.setIcon(0, layer_icon(info.type))
                item.setToolTip(0, f"{info.description}\nDrag onto the canvas, or double-click to add it after "
                                   f"the selected layer.")
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

    def _item_double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        if item.parent() is not None:
            self.layer_type_activated.emit(item.text(0))

    def _emit_selection(self) -> None:
        self.layer_type_selected.emit(self.selected_layer_type())
