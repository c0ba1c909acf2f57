"""Driving the main window from tests as a person does: drags from the palette, port-to-port drags, clicks
on nodes, typing into fields and clicking buttons, all through mouse and keyboard events on the real widgets.

One part is played by the helper: the offscreen platform the tests run on ends every drag-and-drop at once
(its drag manager drops nothing), so after the palette has started its drag with a real press and move,
``drag_layer_from_palette`` delivers that drag's data to the canvas as the windowing system would: as drag
enter, move and drop events at the target point.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractSpinBox, QApplication

LEFT = Qt.MouseButton.LeftButton
NO_MODIFIER = Qt.KeyboardModifier.NoModifier


def drag_layer_from_palette(window, layer_type: str, viewport_pos: QPoint) -> str:
    """Press on ``layer_type`` in the palette, drag it over the canvas and drop it at ``viewport_pos``.

    Returns the id of the node the drop added.
    """
    tree = window.palette_dock.tree
    item = next(item for item in tree.findItems(layer_type, Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive))
    tree.scrollToItem(item)
    start = tree.visualItemRect(item).center()
    QTest.mousePress(tree.viewport(), LEFT, NO_MODIFIER, start)
    step = QApplication.startDragDistance() + 2
    for offset in (QPoint(step, 0), QPoint(2 * step, 0)):  # the first move arms the drag, the next starts it
        QTest.mouseMove(tree.viewport(), start + offset)
    assert tree.selectedItems() == [item]
    mime = tree.mimeData([item])  # what the palette's drag carries: the item it was started on
    QTest.mouseRelease(tree.viewport(), LEFT, NO_MODIFIER, start + QPoint(2 * step, 0))
    before = set(window.editor.document.node_ids())
    viewport = window.canvas.viewport()
    position = QPointF(viewport_pos)
    action = Qt.DropAction.CopyAction
    for event_type in (QDragEnterEvent, QDragMoveEvent, QDropEvent):
        event = event_type(position, action, mime, LEFT, NO_MODIFIER)
        QApplication.sendEvent(viewport, event)
        assert event.isAccepted(), f"the canvas refused the {layer_type} at {event_type.__name__}"
    (added,) = set(window.editor.document.node_ids()) - before
    return added


def port_position(window, node_id: str, output: bool) -> QPoint:
    item = window.scene.node_items[node_id]
    port = item.output_port if output else item.input_port
    return window.canvas.mapFromScene(port.scenePos())


def drag_between_ports(window, source: str, target: str) -> None:
    """Press on ``source``'s output port, move the mouse to ``target``'s input port and release there."""
    viewport = window.canvas.viewport()
    start, end = port_position(window, source, output=True), port_position(window, target, output=False)
    assert viewport.rect().contains(start) and viewport.rect().contains(end), "a port is out of sight"
    QTest.mousePress(viewport, LEFT, NO_MODIFIER, start)
    QTest.mouseMove(viewport, (start + end) / 2)
    QTest.mouseMove(viewport, end)
    QTest.mouseRelease(viewport, LEFT, NO_MODIFIER, end)


def click_node(window, node_id: str) -> None:
    """Click a node's body (left of its centre, away from the ports): it becomes the inspector's node."""
    item = window.scene.node_items[node_id]
    point = window.canvas.mapFromScene(item.scenePos() + QPointF(-40, 0))
    QTest.mouseClick(window.canvas.viewport(), LEFT, NO_MODIFIER, point)


def type_into(widget, text: str) -> None:
    """Click into a line edit or spin box, select what it holds, type ``text`` and press Enter."""
    target = widget.lineEdit() if isinstance(widget, QAbstractSpinBox) else widget
    QTest.mouseClick(target, LEFT, NO_MODIFIER, target.rect().center())
    QTest.keyClick(target, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(target, text)
    QTest.keyClick(target, Qt.Key.Key_Return)


def click(button) -> None:
    assert button.isVisible() and button.isEnabled(), f"{button.text()!r} cannot be clicked: {button.toolTip()}"
    QTest.mouseClick(button, LEFT, NO_MODIFIER, button.rect().center())


def wait_until_shown(widget, timeout_ms: int = 5000) -> None:
    waited = 0
    while not widget.isVisible():
        assert waited < timeout_ms, f"{widget} did not open"
        QTest.qWait(10)
        waited += 10


def choose_from_menu(window, *path: str) -> None:
    """Click through the menu bar: ``choose_from_menu(window, "File", "New from Template", "toy-mlp")``.

    Each menu is opened by a click on its title and each item chosen by a click on it (no keyboard
    accelerators: the '&' of a title is ignored when matching).
    """
    bar = window.menuBar()
    title = next(action for action in bar.actions() if action.text().replace("&", "") == path[0])
    QTest.mouseClick(bar, LEFT, NO_MODIFIER, bar.actionGeometry(title).center())
    menu = title.menu()
    wait_until_shown(menu)
    for name in path[1:]:
        action = next(action for action in menu.actions() if action.text().replace("&", "") == name)
        assert action.isEnabled(), f"{name} is disabled"
        QTest.mouseClick(menu, LEFT, NO_MODIFIER, menu.actionGeometry(action).center())
        if action.menu() is None:
            return
        menu = action.menu()
        wait_until_shown(menu)  # a submenu opens from the event loop, a moment after the click
    raise AssertionError(f"{' > '.join(path)} ends in a menu, not an item")


def choose_in_combo(combo, label: str) -> None:
    """Open the combo box's list with a click and click the entry ``label``."""
    index = combo.findText(label)
    assert index >= 0, f"{label!r} is not among {[combo.itemText(i) for i in range(combo.count())]}"
    QTest.mouseClick(combo, LEFT, NO_MODIFIER, combo.rect().center())
    view = combo.view()
    wait_until_shown(view.window())
    model_index = view.model().index(index, 0)
    view.scrollTo(model_index)
    QTest.qWait(QApplication.doubleClickInterval() + 20)  # the open list ignores a click that comes sooner
    point = view.visualRect(model_index).center()
    QTest.mouseMove(view.viewport(), point)  # the list follows the pointer: the entry under it becomes current
    QTest.mouseClick(view.viewport(), LEFT, NO_MODIFIER, point)
    assert combo.currentIndex() == index


def click_tab(tab_bar, title: str) -> None:
    """Click the tab called ``title`` (the '&' of a title ignored), as a person does; it must be in sight."""
    titles = [tab_bar.tabText(index).replace("&", "") for index in range(tab_bar.count())]
    index = titles.index(title)
    rect = tab_bar.tabRect(index)
    assert tab_bar.isVisible() and tab_bar.rect().contains(rect), f"the {title} tab is out of sight: {rect}"
    QTest.mouseClick(tab_bar, LEFT, NO_MODIFIER, rect.center())
    assert tab_bar.currentIndex() == index


def open_workspace(window, title: str) -> None:
    """Click the workspace tab ``title`` ("Design" or "Train") at the menu bar's right."""
    click_tab(window.workspaces.tab_bar, title)


def hidden_part(widget) -> str | None:
    """Why ``widget`` is not wholly in sight, or None when it is: it must show, have a size, and lie inside
    every ancestor up to its window (a scroll area's viewport, a splitter's pane, a dock, the window)."""
    name = widget.objectName() or getattr(widget, "text", lambda: "")() or type(widget).__name__
    if not widget.isVisible():
        return f"{name} is hidden"
    if widget.width() <= 0 or widget.height() <= 0:
        return f"{name} has no size ({widget.width()}x{widget.height()})"
    rect = widget.rect()
    child, parent = widget, widget.parentWidget()
    while parent is not None:
        rect = rect.translated(child.pos())
        if not parent.rect().contains(rect):
            return f"{name} at {rect} lies outside its {type(parent).__name__} {parent.objectName()!r} {parent.rect()}"
        if parent.isWindow():
            break
        child, parent = parent, parent.parentWidget()
    return None


def shown_dashboard(qtbot, width: int = 1280, height: int = 800):
    """A window holding only the training dashboard (no spec to train), shown: (window, dashboard)."""
    from PySide6.QtWidgets import QLabel, QMainWindow

    from app.dashboard import install_dashboard

    window = QMainWindow()
    window.setCentralWidget(QLabel("canvas"))
    dashboard = install_dashboard(window, lambda: {})
    window.resize(width, height)
    qtbot.addWidget(window)
    window.show()
    return window, dashboard
