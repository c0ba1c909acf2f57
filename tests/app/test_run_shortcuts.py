"""The run controls and the pad from the keyboard: F5 starts (and opens the Train workspace), F6 pauses and
resumes, F10 steps while paused, Shift+F5 stops, Ctrl+Shift+Backspace clears the pad, Ctrl+Alt+Z takes back a
stroke; each is in the Run or Draw menu, enabled exactly when its button is."""

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.app.draw_helpers import draw_stroke, seven_points
from tests.app.gui_helpers import choose_from_menu, click_tab, type_into

TIMEOUT_MS = 60_000
NONE, SHIFT = Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier


def press(window, key, modifiers=NONE) -> None:
    QTest.keyClick(window.focusWidget() or window, key, modifiers)


def test_run_controls_from_the_keyboard(main_window, qtbot):
    window = main_window
    controller, panel = window.dashboard.controller, window.dashboard.training_panel
    choose_from_menu(window, "File", "New from Template", "toy-mlp")  # trains on a 2-D toy set: fast
    click_tab(window.workspaces.tab_bar, "Train")
    type_into(panel.form.epochs, "500")  # long enough to pause, step and stop
    click_tab(window.workspaces.tab_bar, "Design")
    window.canvas.setFocus()
    actions = window.run_actions
    assert actions.start.isEnabled() and not actions.pause.isEnabled() and not actions.stop.isEnabled()

    with qtbot.waitSignal(controller.steps_reported, timeout=TIMEOUT_MS):
        press(window, Qt.Key.Key_F5)
    assert window.workspaces.current == "train"  # Start opens the workspace where the run is watched
    assert not actions.start.isEnabled() and actions.pause.isEnabled() and actions.stop.isEnabled()

    press(window, Qt.Key.Key_F6)
    qtbot.waitUntil(lambda: controller.state == "paused", timeout=TIMEOUT_MS)
    assert actions.pause.text() == "Resume" and actions.step.isEnabled()
    steps = window.dashboard.curves.records[-1].steps
    at_pause = steps[-1]
    press(window, Qt.Key.Key_F10)
    qtbot.waitUntil(lambda: steps[-1] == at_pause + 1, timeout=TIMEOUT_MS)

    press(window, Qt.Key.Key_F6)  # resume
    qtbot.waitUntil(lambda: controller.state == "running", timeout=TIMEOUT_MS)
    assert actions.pause.text() == "Pause"
    with qtbot.waitSignal(controller.run_finished, timeout=TIMEOUT_MS) as finished:
        press(window, Qt.Key.Key_F5, SHIFT)
    assert finished.args[0].reason == "stopped"
    assert actions.start.isEnabled() and not actions.stop.isEnabled()


def test_the_pad_clears_and_takes_back_strokes_from_the_keyboard(main_window, qtbot):
    window = main_window
    pad = window.draw_panel.pad
    draw_stroke(pad, seven_points())
    draw_stroke(pad, [(0.3, 0.6), (0.7, 0.6)])
    assert len(pad.strokes) == 2
    window.canvas.setFocus()
    press(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
    assert len(pad.strokes) == 1
    press(window, Qt.Key.Key_Backspace, Qt.KeyboardModifier.ControlModifier | SHIFT)
    assert len(pad.strokes) == 0
