"""Small things a person notices: counts read "1 layer", file dialogs open where the last file was, and a
long message in the status bar ends in "…" before the totals instead of running into them."""

from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from tests.app.gui_helpers import choose_from_menu, drag_between_ports, drag_layer_from_palette


def test_one_layer_is_one_layer(main_window):
    QTest.keyClick(main_window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)  # File > New: an Input alone
    assert main_window.totals_label.text().startswith("1 layer · 0 parameters · ")
    # An Input alone cannot classify MNIST: the one problem Problems lists is counted in the totals too.
    assert main_window.problems_dock.count() == 1 and ">1 problem</span>" in main_window.totals_label.text()
    assert "1 layer ·" in main_window.summary_dock.totals_label.text()


def test_a_long_refusal_ends_before_the_totals(main_window, qtbot):
    main_window.resize(1000, 720)  # a small window: the message has less room than it needs
    qtbot.waitUntil(lambda: main_window.width() == 1000)
    QTest.keyClick(main_window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    viewport = main_window.canvas.viewport()
    input_at = main_window.canvas.mapFromScene(main_window.scene.node_items["input"].scenePos())
    dense = drag_layer_from_palette(main_window, "Dense", input_at + QPoint(0, min(120, viewport.height() // 3)))
    drag_between_ports(main_window, "input", dense)  # 1x28x28 into Dense: refused, with a long reason
    status = main_window.statusBar()
    full = status.full_message()
    assert full.startswith(f"Cannot connect input → {dense}: {dense}: Dense expects a flat input")
    shown = status.currentMessage()
    assert shown.endswith("…") and full.startswith(shown[:-1])
    assert status.toolTip() == full
    right_edge = status.fontMetrics().horizontalAdvance(shown) + 6
    assert right_edge < main_window.totals_label.x()  # ends before the totals


def test_file_dialogs_open_in_the_folder_last_used(main_window, network_file, tmp_path, monkeypatch):
    asked = []

    def open_dialog(parent, caption, start, file_filter):
        asked.append(start)
        return str(network_file), file_filter

    def save_dialog(parent, caption, suggested, file_filter):
        asked.append(str(Path(suggested).parent))
        return "", ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", open_dialog)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)
    choose_from_menu(main_window, "File", "Open…")  # nothing remembered yet: the home folder
    assert asked == [str(Path.home())]
    choose_from_menu(main_window, "File", "Export Picture…")  # the folder the network came from
    choose_from_menu(main_window, "File", "Open…")
    assert asked[1:] == [str(network_file.parent)] * 2
