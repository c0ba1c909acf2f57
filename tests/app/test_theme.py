"""View > Theme: System, Light or Dark for the widgets, the canvas and the dashboard's plots, kept between
sessions."""

import re

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF, QSettings
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QApplication

from app.canvas.export import export_png
from app.preferences import THEME_KEY, Preferences
from app.theme import THEMES, ThemeMenu, apply_saved_theme, apply_theme

WINDOW = QPalette.ColorRole.Window


@pytest.fixture(autouse=True)
def platform_look_restored(qapp):
    """Every test leaves the application as the platform made it, for the tests that run after it."""
    background, foreground = pg.getConfigOption("background"), pg.getConfigOption("foreground")
    yield
    apply_theme(qapp, "system")
    pg.setConfigOptions(background=background, foreground=foreground)


def lightness(color) -> int:
    return color.lightness()


def title_lightness(label: pg.LabelItem) -> int:
    """The lightness of the colour a plot title's text is drawn in (pyqtgraph writes it into the HTML)."""
    match = re.search(r"color:(#[0-9a-fA-F]{6,8})", label.item.toHtml())
    return lightness(QColor(match.group(1)))


def choose(menu: ThemeMenu, choice: str, qtbot) -> None:
    """Pick a theme as a person does: the menu's action (triggered as a click on it would)."""
    menu.theme_actions[choice].trigger()
    qtbot.wait(20)  # let the repaints the palette change queued run


def curves_view(window) -> pg.GraphicsView:
    (view,) = window.dashboard.curves.findChildren(pg.GraphicsView)
    return view


def canvas_background(window) -> int:
    """The lightness most of the canvas shows, read from its pixels (grid dots and nodes are a minority)."""
    image = window.canvas.viewport().grab().toImage()
    samples = sorted(lightness(image.pixelColor(x, 3)) for x in range(0, image.width(), 7))
    return samples[len(samples) // 2]


def node_body(window, node_id: str) -> int:
    """The lightness of a node's body, read where it has no text (its lower right corner)."""
    window.fit_to_view()
    item = window.scene.node_items[node_id]
    point = window.canvas.mapFromScene(item.scenePos() + QPointF(item.body_rect().right() - 12, 14))
    return lightness(window.canvas.viewport().grab().toImage().pixelColor(point))


def test_the_theme_menu_has_three_exclusive_choices_and_starts_on_system(qtbot, main_window):
    menu = ThemeMenu(main_window.preferences, main_window)
    assert [a.text().replace("&", "") for a in menu.actions()] == ["System", "Light", "Dark"]
    assert [menu.theme_actions[c].isChecked() for c in THEMES] == [True, False, False]
    choose(menu, "dark", qtbot)
    assert [menu.theme_actions[c].isChecked() for c in THEMES] == [False, False, True]


def test_light_then_dark_recolours_the_window_the_plots_and_the_canvas(qtbot, main_window):
    app = QApplication.instance()
    menu = ThemeMenu(main_window.preferences, main_window)
    main_window.project.open_template("seed-cnn")
    plot = curves_view(main_window)
    axis = main_window.dashboard.curves.loss_plot.getAxis("left")
    title = main_window.dashboard.curves.loss_plot.titleLabel

    choose(menu, "light", qtbot)
    assert lightness(app.palette().color(WINDOW)) > 200
    assert lightness(plot.backgroundBrush().color()) > 200
    assert lightness(axis.pen().color()) < 100 and lightness(axis.textPen().color()) < 100
    assert title_lightness(title) < 100
    assert canvas_background(main_window) > 200
    assert node_body(main_window, "input") > 200

    choose(menu, "dark", qtbot)
    assert lightness(app.palette().color(WINDOW)) < 80
    assert lightness(plot.backgroundBrush().color()) < 80
    assert lightness(axis.pen().color()) > 150 and lightness(axis.textPen().color()) > 150
    assert title_lightness(title) > 150
    assert canvas_background(main_window) < 80
    # The nodes stand out from the dark canvas, and are not left white.
    assert canvas_background(main_window) < node_body(main_window, "input") < 100
    # A caption coloured by a style sheet's palette(placeholder-text) turns light too (it stayed black).
    key = main_window.dashboard.curves.key
    assert lightness(key.palette().color(key.foregroundRole())) > 150

    choose(menu, "light", qtbot)
    assert lightness(plot.backgroundBrush().color()) > 200 and lightness(axis.pen().color()) < 100
    assert canvas_background(main_window) > 200


def test_a_plot_made_after_the_choice_has_the_themes_colours(qtbot, main_window):
    menu = ThemeMenu(main_window.preferences, main_window)
    choose(menu, "dark", qtbot)
    later = pg.PlotWidget()
    qtbot.addWidget(later)
    assert lightness(later.backgroundBrush().color()) < 80
    assert lightness(later.getPlotItem().getAxis("bottom").pen().color()) > 150


def test_system_returns_to_the_platforms_own_look(qtbot, main_window):
    app = QApplication.instance()
    platform_window = QPalette(app.palette()).color(WINDOW)
    platform_style = app.style().name()
    menu = ThemeMenu(main_window.preferences, main_window)
    choose(menu, "dark", qtbot)
    assert app.palette().color(WINDOW) != platform_window
    choose(menu, "system", qtbot)
    assert app.palette().color(WINDOW) == platform_window and app.style().name() == platform_style
    # The plots follow the platform's palette too.
    base = app.palette().color(QPalette.ColorRole.Base)
    assert curves_view(main_window).backgroundBrush().color() == base


def test_the_choice_survives_a_restart(qtbot, main_window):
    app = QApplication.instance()
    menu = ThemeMenu(main_window.preferences, main_window)
    choose(menu, "dark", qtbot)
    main_window.close()
    apply_theme(app, "system")  # the next session starts with the platform's look...

    preferences = Preferences()  # ...reads what the last one chose
    assert preferences.theme == "dark"
    assert apply_saved_theme(app, preferences) == "dark"
    assert lightness(app.palette().color(WINDOW)) < 80
    next_menu = ThemeMenu(preferences)
    assert next_menu.theme_actions["dark"].isChecked()


def test_an_unknown_stored_theme_reads_as_system():
    QSettings().setValue(THEME_KEY, "purple")
    assert Preferences().theme == "system"
    QSettings().setValue(THEME_KEY, 3)
    assert Preferences().theme == "system"
    with pytest.raises(ValueError):
        Preferences().theme = "purple"


def test_an_exported_picture_stays_a_white_page_in_the_dark_theme(qtbot, main_window, tmp_path):
    menu = ThemeMenu(main_window.preferences, main_window)
    main_window.project.open_template("seed-cnn")
    choose(menu, "dark", qtbot)
    path = export_png(main_window.scene, tmp_path / "design.png")
    image = QImage(str(path))
    scene_rect = main_window.scene.network_rect().adjusted(-24, -24, 24, 24)
    item = main_window.scene.node_items["input"]
    corner = item.scenePos() + QPointF(item.body_rect().right() - 12, 14) - scene_rect.topLeft()
    assert lightness(image.pixelColor(4, 4)) > 240  # the page
    assert lightness(image.pixelColor(round(corner.x() * 2), round(corner.y() * 2))) > 240  # a node's body
    # ...while the canvas on screen is still dark.
    assert canvas_background(main_window) < 80


def test_messages_stay_readable_in_the_dark_theme(qtbot, main_window):
    """The inspector's problem text and the status bar's problem count turn light red on a dark window (a
    fixed dark red has a contrast of about 2:1 there), and dark red again in the light theme."""
    from tests.app.gui_helpers import choose_from_menu, click_node

    main_window.editor.set_fields("conv2", {"kernel_size": 20, "padding": "valid"})
    click_node(main_window, "conv2")
    label = main_window.inspector_dock.problems_label
    assert label.isVisible() and "kernel 20x20" in label.text()
    choose_from_menu(main_window, "View", "Theme", "Dark")
    qtbot.wait(20)
    red = label.palette().color(label.foregroundRole())
    assert red.lightness() > 150 and red.red() > red.green(), red.name()
    assert "#ff8a80" in main_window.totals_label.text()
    choose_from_menu(main_window, "View", "Theme", "Light")
    qtbot.wait(20)
    red = label.palette().color(label.foregroundRole())
    assert red.lightness() < 120 and red.red() > red.green(), red.name()
    assert "#b71c1c" in main_window.totals_label.text()
