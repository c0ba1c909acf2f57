"""The dashboard's plots in the theme's colours: pyqtgraph's global background and foreground for plots made
later, and the same colours given to every plot that already exists.

pyqtgraph bakes its foreground into an axis's pens and a title's HTML when they are made, so a new global
option alone changes nothing on screen. ``recolor_plots`` walks every pyqtgraph view in every top-level
window and re-colours what still wears the old default colours; a colour a panel chose on purpose (a run's
curve, a bar's brush, an axis given its own pen) is left alone, so no panel needs to know about themes.

    apply_plot_colors(QApplication.instance().palette())   # from app.theme.apply_theme
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from app.canvas.style import mix

# How far the axes' colour sits from the text colour towards the background: axes and tick labels a little
# softer than text, so the curves stay what the eye goes to first.
AXIS_SOFTENING = 0.25


def plot_colors(palette: QPalette) -> tuple[QColor, QColor]:
    """(background, foreground) for plots under ``palette``: its Base, and its Text softened towards Base."""
    background = palette.color(QPalette.ColorRole.Base)
    foreground = mix(palette.color(QPalette.ColorRole.Text), background, AXIS_SOFTENING)
    return background, foreground


def apply_plot_colors(palette: QPalette) -> None:
    """Make ``palette``'s plot colours pyqtgraph's defaults, and re-colour the plots already shown."""
    old_background = pg.mkColor(pg.getConfigOption("background"))
    old_foreground = pg.mkColor(pg.getConfigOption("foreground"))
    background, foreground = plot_colors(palette)
    pg.setConfigOptions(background=background, foreground=foreground)
    recolor_plots(old_background, old_foreground)


def pyqtgraph_views() -> list[pg.GraphicsView]:
    """Every pyqtgraph view (PlotWidget, GraphicsLayoutWidget...) in every top-level window."""
    views = []
    for top in QApplication.topLevelWidgets():
        if isinstance(top, pg.GraphicsView):
            views.append(top)
        views.extend(top.findChildren(pg.GraphicsView))
    return views


def recolor_plots(old_background: QColor, old_foreground: QColor) -> None:
    """Give every existing plot pyqtgraph's current default colours where it wore ``old_*`` ones."""
    new_foreground = pg.mkColor(pg.getConfigOption("foreground"))
    defaults = {old_foreground.rgba(), new_foreground.rgba()}  # an axis that never had a pen reads the new one
    for view in pyqtgraph_views():
        if view.backgroundBrush().color().rgba() == old_background.rgba():
            view.setBackground("default")
        for item in view.scene().items():
            _recolor_item(item, defaults)


def _recolor_item(item, defaults: set[int]) -> None:
    if isinstance(item, pg.AxisItem):
        # setPen() / setTextPen() with no argument take the default foreground, labels included.
        if item.pen().color().rgba() in defaults:
            item.setPen()
        if item.textPen().color().rgba() in defaults:
            item.setTextPen()
    elif isinstance(item, pg.LabelItem):
        # A title or caption with no colour of its own is drawn in the default foreground, baked into its
        # HTML when its text was set: setting the same text again bakes the new one.
        if item.opts.get("color") is None:
            item.setText(item.text)
    elif isinstance(item, pg.BarGraphItem):
        pen = item.opts.get("pen")
        if pen is not None and pg.mkPen(pen).color().rgba() in defaults:
            item.setOpts(pen=pg.getConfigOption("foreground"))
