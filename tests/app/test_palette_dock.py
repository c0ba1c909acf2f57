"""The palette lists every catalog layer type under its group with an icon, its search box filters them,
and dragging an entry carries the layer type to the canvas."""

import pytest

import engine
from app.canvas.view import LAYER_TYPE_MIME
from app.palette_dock import PaletteDock, group_title


@pytest.fixture
def palette(qtbot):
    dock = PaletteDock()
    qtbot.addWidget(dock)
    dock.show()
    return dock


def tree_contents(palette):
    """{group title: [layer types]} as the tree shows them, in order."""
    groups = [palette.tree.topLevelItem(i) for i in range(palette.tree.topLevelItemCount())]
    return {group.text(0): [group.child(j).text(0) for j in range(group.childCount())] for group in groups}


def test_lists_every_layer_type_under_its_group_in_palette_order(palette):
    expected = {}
    for info in engine.layer_types():
        expected.setdefault(group_title(info.group), []).append(info.type)
    contents = tree_contents(palette)
    assert contents == expected
    assert list(contents) == list(expected)  # groups in order of their first layer


def test_descriptions_are_tooltips_and_every_type_has_an_icon(palette):
    for info in engine.layer_types():
        item = palette._items[info.type]
        assert item.toolTip(0).startswith(info.description)
        assert not item.icon(0).isNull()


def test_dragging_an_entry_carries_its_layer_type(palette):
    item = palette._items["MaxPooling2D"]
    mime = palette.tree.mimeData([item])
    assert bytes(mime.data(LAYER_TYPE_MIME)).decode() == "MaxPooling2D"
    assert mime.text() == "MaxPooling2D"
    assert palette.tree.mimeData([palette.tree.topLevelItem(0)]) is None  # a group heading carries nothing


def test_double_clicking_an_entry_asks_to_add_it(palette):
    added = []
    palette.layer_type_activated.connect(added.append)
    palette.tree.itemDoubleClicked.emit(palette._items["Dense"], 0)
    palette.tree.itemDoubleClicked.emit(palette.tree.topLevelItem(0), 0)
    assert added == ["Dense"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("pool", ["MaxPooling2D", "AveragePooling2D"]),
        ("POOL", ["MaxPooling2D", "AveragePooling2D"]),
        ("residual", ["Add"]),  # from the description
        ("conv filters", ["Conv2D", "Conv2DTranspose"]),  # every word must match
        ("merge", ["Add", "Concatenate"]),  # from the group
    ],
)
def test_search_filters_by_name_description_and_group(palette, query, expected):
    palette.filter(query)
    assert palette.visible_layer_types() == expected
    assert not palette.no_match_label.isVisible()


def test_groups_without_matches_are_hidden(palette):
    palette.filter("pool")
    tree = palette.tree
    visible_groups = [
        tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount()) if not tree.topLevelItem(i).isHidden()
    ]
    assert visible_groups == ["Pooling"]


def test_typing_in_the_search_box_filters_and_clearing_restores(palette, qtbot):
    qtbot.keyClicks(palette.search_box, "dropout")
    assert palette.visible_layer_types() == ["Dropout"]
    palette.search_box.clear()
    assert len(palette.visible_layer_types()) == len(engine.layer_types())


def test_no_match_says_so(palette):
    palette.filter("transformer")
    assert palette.visible_layer_types() == []
    assert palette.no_match_label.isVisible()


def test_selection_is_reported_and_cleared_when_filtered_away(palette):
    selections = []
    palette.layer_type_selected.connect(selections.append)
    palette.select_layer_type("Dense")
    assert selections[-1].type == "Dense"
    palette.filter("pool")
    assert selections[-1] is None
    assert palette.selected_layer_type() is None


def test_group_headings_cannot_be_selected(palette):
    heading = palette.tree.topLevelItem(0)
    palette.tree.setCurrentItem(heading)
    assert palette.selected_layer_type() is None
