"""The Run and Draw menus: keyboard shortcuts for the training controls and the draw pad, from any workspace.

    run_actions = RunActions(window, training_panel, draw_panel)
    menu_bar.addMenu(run_actions.run_menu); menu_bar.addMenu(run_actions.draw_menu)

Each action presses its button (``click()``), so a shortcut does exactly what the click does, and is enabled
exactly when its button is: an event filter follows each button's enabled state, and Pause's text (Pause or
Resume) follows the run's state.
The buttons stay the one place where the run's state decides what can be pressed.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractButton, QMainWindow, QMenu

# As debuggers bind them: F5 runs, Shift+F5 stops, F10 steps; F6 pauses and resumes.
START_KEY, PAUSE_KEY, STEP_KEY, STOP_KEY = "F5", "F6", "F10", "Shift+F5"
CLEAR_PAD_KEY, UNDO_STROKE_KEY = "Ctrl+Shift+Backspace", "Ctrl+Alt+Z"


class ButtonAction(QAction):
    """A menu action that presses ``button`` and mirrors its enabled state (and, if ``follow_text``, its text)."""

    def __init__(self, button: QAbstractButton, text: str, shortcut: str, parent: QObject,
                 follow_text: bool = False):
        super().__init__(text, parent)
        self.button = button
        self.follow_text = follow_text
        self.setShortcut(QKeySequence(shortcut))
        # The window's shortcut, whichever dock has the focus (and whether the button shows or not).
        self.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.triggered.connect(self._press)
        button.installEventFilter(self)
        self.follow()

    def _press(self) -> None:
        if self.button.isEnabled():
            self.button.click()

    def follow(self) -> None:
        self.setEnabled(self.button.isEnabled())
        if self.follow_text:
            self.setText(self.button.text())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.button and event.type() == QEvent.Type.EnabledChange:
            self.follow()
        return False


class RunActions(QObject):
    def __init__(self, window: QMainWindow, training_panel, draw_panel):
        super().__init__(window)
        self.start = ButtonAction(training_panel.start_button, "&Start Training", START_KEY, window)
        self.pause = ButtonAction(training_panel.pause_button, "&Pause", PAUSE_KEY, window, follow_text=True)
        self.step = ButtonAction(training_panel.step_button, "S&tep (One Batch)", STEP_KEY, window)
        self.stop = ButtonAction(training_panel.stop_button, "St&op", STOP_KEY, window)
        # setText sends the button no event a filter sees: Pause / Resume follows the run's state, after the
        # training panel has relabelled its button (its slot was connected first).
        training_panel.controller.state_changed.connect(lambda _state: self.pause.follow())
        self.run_menu = QMenu("&Run", window)
        self.run_menu.addActions([self.start, self.pause, self.step, self.stop])

        self.clear_pad = ButtonAction(draw_panel.clear_button, "&Clear Pad", CLEAR_PAD_KEY, window)
        self.undo_stroke = ButtonAction(draw_panel.undo_button, "&Undo Stroke", UNDO_STROKE_KEY, window)
        # A colour model's picture instead of a drawing: enabled only then (Ctrl+V pastes in the Draw panel).
        image_input = draw_panel.image_input
        self.open_image = ButtonAction(image_input.open_button, "&Open Image…", "", window)
        self.paste_image = ButtonAction(image_input.paste_button, "&Paste Image", "", window)
        self.draw_menu = QMenu("&Draw", window)
        self.draw_menu.addActions([self.clear_pad, self.undo_stroke])
        self.draw_menu.addSeparator()
        self.draw_menu.addActions([self.open_image, self.paste_image])
        window.addActions([self.start, self.pause, self.step, self.stop, self.clear_pad, self.undo_stroke])
