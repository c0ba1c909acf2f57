"""Checks run by test_workspace_fit.py in a process of its own, on an offscreen screen of 1280x720 logical
pixels at the scale factor the outer test chose (QT_SCALE_FACTOR must be set before Qt starts, hence the
process). Not collected on its own: its name does not start with ``test_``.

Every workspace, and in Train every dashboard tab, is opened by clicking its tab; then every button and field
of the training controls and of the Draw panel must be wholly in sight, and in Design the canvas must have at
least 40 % of the window.
"""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QProgressBar,
    QWidget,
)

from tests.app.gui_helpers import click_tab, hidden_part

WIDTH, HEIGHT = 1280, 720
MIN_CANVAS_SHARE = 0.40


def editable_widgets(parent) -> list:
    kinds = (QAbstractButton, QComboBox, QAbstractSpinBox, QLineEdit, QProgressBar)  # check boxes are buttons
    found = [widget for widget in parent.findChildren(QWidget) if isinstance(widget, kinds) and not widget.isHidden()]
    # A spin box's or combo box's own line edit is part of it; the box itself is checked.
    return [widget for widget in found if not isinstance(widget.parentWidget(), (QAbstractSpinBox, QComboBox))]


def assert_in_sight(widgets, where: str) -> None:
    problems = [problem for widget in widgets if (problem := hidden_part(widget))]
    assert not problems, f"{where}: " + "; ".join(problems)


def training_controls(window) -> list:
    panel = window.dashboard.training_panel
    return [panel.start_button, panel.pause_button, panel.step_button, panel.stop_button, panel.progress,
            panel.status, panel.save_button, panel.save_best_button, *editable_widgets(panel.form)]


def draw_controls(window) -> list:
    panel = window.draw_panel
    return [panel.pad, panel.preview, panel.bars, *editable_widgets(panel)]


def test_the_window_opens_inside_the_screen(main_window):
    screen = QGuiApplication.primaryScreen().availableGeometry()
    assert screen.contains(main_window.frameGeometry()), (main_window.frameGeometry(), screen)


def test_every_workspace_and_dashboard_tab_fits_1280x720(main_window, qtbot):
    window = main_window
    window.resize(WIDTH, HEIGHT)
    qtbot.waitUntil(lambda: window.width() == WIDTH and window.height() == HEIGHT)
    workspace_tabs = window.workspaces.tab_bar

    click_tab(workspace_tabs, "Design")
    qtbot.wait(50)
    canvas = window.canvas.viewport()
    share = canvas.width() * canvas.height() / (WIDTH * HEIGHT)
    assert share >= MIN_CANVAS_SHARE, f"the canvas has {share:.0%} of the window ({canvas.size()})"
    assert_in_sight(draw_controls(window), "Design workspace, Draw panel")

    click_tab(workspace_tabs, "Train")
    qtbot.wait(50)
    views = window.dashboard.views
    shown_tabs = [index for index in range(views.count()) if views.isTabVisible(index)]  # not those that don't apply
    for index in shown_tabs:
        title = views.tabText(index)
        click_tab(views.tabBar(), title)
        qtbot.wait(50)
        assert_in_sight(training_controls(window), f"Train workspace, {title} tab, training controls")
        assert_in_sight(draw_controls(window), f"Train workspace, {title} tab, Draw panel")

    # A run fills the views' captions with long words ("weights of conv1.kernel: 11 snapshot(s), steps 21-180,
    # ..."): however long a panel's text, it must not push the training form out of sight.
    long_text = "a caption as long as a run's, " * 12
    for label in views.findChildren(QLabel):
        label.setText(long_text)
    for index in shown_tabs:
        title = views.tabText(index)
        click_tab(views.tabBar(), title)
        qtbot.wait(50)
        assert_in_sight(training_controls(window), f"Train workspace, {title} tab, long captions, training controls")

    click_tab(workspace_tabs, "Design")  # back again: the canvas has its room back
    qtbot.wait(50)
    canvas = window.canvas.viewport()
    assert canvas.width() * canvas.height() / (WIDTH * HEIGHT) >= MIN_CANVAS_SHARE
