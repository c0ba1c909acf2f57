"""View > Theme: System, Light or Dark, for the whole window: widgets, the canvas and the dashboard's plots.

    apply_saved_theme(app, preferences)           # at start-up, before or after the window is made
    view_menu.addMenu(ThemeMenu(preferences, window))

Light and Dark use the Fusion style, which draws everything from the palette (the Windows and macOS styles
keep some colours of their own), with Qt's own Fusion light and dark palettes. System returns to the style
and palette the platform gave the application, remembered the first time a theme is applied.

Setting the application palette sends every widget and every graphics scene a PaletteChange, so widgets
that paint themselves from ``palette()`` (the canvas, the digit views) repaint in the new colours by
themselves. Two things keep the old colours and are redone here: style sheets that name ``palette(role)``,
and pyqtgraph's plots, which bake their colours in (re-coloured by ``app.plot_theme``).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QActionGroup, QColor, QPalette
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from app.plot_theme import apply_plot_colors
from app.preferences import THEME_CHOICES, Preferences
from app.tones import repaint_tones

THEMES = THEME_CHOICES  # ("system", "light", "dark")
THEME_TITLES = {"system": "&System", "light": "&Light", "dark": "&Dark"}
THEMED_STYLE = "Fusion"

# The platform's own look, (style name, palette), as it was before the first theme was applied.
_platform_look: tuple[str, QPalette] | None = None
# Whether the palette or style now differs from the platform's (so "system" has something to restore).
_themed = False


def fusion_palette(dark: bool) -> QPalette:
    """Qt's Fusion palette, light or dark, built here rather than asked of the style: from Qt 6.5 Fusion's
    standard palette follows the desktop's colour scheme, and Light must be light on a dark desktop too."""
    window_text = QColor(240, 240, 240) if dark else QColor(0, 0, 0)
    background = QColor(50, 50, 50) if dark else QColor(239, 239, 239)
    base = background.darker(140) if dark else QColor(255, 255, 255)
    text = window_text
    mid = background.darker(130)
    dark_role = background.darker(150)
    shadow = dark_role.darker(135)
    highlight = QColor(48, 140, 198)
    disabled_text = QColor(130, 130, 130) if dark else QColor(190, 190, 190)
    placeholder = QColor(text)
    placeholder.setAlpha(128)

    palette = QPalette(window_text, background, background.lighter(150), dark_role, mid, text, base)
    roles, groups = QPalette.ColorRole, QPalette.ColorGroup
    palette.setColor(roles.Midlight, mid.lighter(110))
    palette.setColor(roles.Button, background)
    palette.setColor(roles.ButtonText, window_text)
    palette.setColor(roles.Shadow, shadow)
    palette.setColor(roles.HighlightedText, window_text if dark else QColor(255, 255, 255))
    palette.setColor(roles.AlternateBase, background.darker(120) if dark else QColor(247, 247, 247))
    palette.setColor(roles.PlaceholderText, placeholder)
    palette.setColor(roles.Highlight, highlight)
    palette.setColor(roles.Accent, highlight)
    # Qt.blue links are hard to read on a dark base; the highlight blue is not.
    palette.setColor(roles.Link, highlight if dark else QColor(0, 0, 255))
    for role in (roles.Text, roles.WindowText, roles.ButtonText):
        palette.setColor(groups.Disabled, role, disabled_text)
    palette.setColor(groups.Disabled, roles.Base, background)
    palette.setColor(groups.Disabled, roles.Dark, QColor(209, 209, 209).darker(110))
    palette.setColor(groups.Disabled, roles.Shadow, shadow.lighter(150))
    for role in (roles.Highlight, roles.Accent):
        palette.setColor(groups.Disabled, role, QColor(145, 145, 145))
    return palette


def apply_theme(app: QApplication, choice: str) -> None:
    """Give the application, its canvas and its plots the look of ``choice`` ("system", "light" or "dark")."""
    global _platform_look, _themed
    if choice not in THEMES:
        raise ValueError(f"unknown theme {choice!r}: expected one of {', '.join(THEMES)}")
    if _platform_look is None:
        _platform_look = (app.style().name(), QPalette(app.palette()))
    if choice == "system":
        # Untouched so far: leave the platform's palette as it is (set explicitly, even to the same colours,
        # it would no longer follow the desktop's own changes).
        if _themed:
            style_name, palette = _platform_look
            _set_look(app, style_name, palette)
            _themed = False
    else:
        _set_look(app, THEMED_STYLE, fusion_palette(dark=choice == "dark"))
        _themed = True
    apply_plot_colors(app.palette())
    repaint_tones()


def _set_look(app: QApplication, style_name: str, palette: QPalette) -> None:
    if app.style().name().lower() != style_name.lower():
        app.setStyle(style_name)  # a new style resets the palette to its own: the palette comes after
    app.setPalette(palette)
    _refresh_style_sheets(app)


def _refresh_style_sheets(app: QApplication) -> None:
    """A style sheet's ``palette(role)`` is looked up when the sheet is set, not when the palette changes
    (a caption in ``palette(placeholder-text)`` stayed black on the dark theme): set such sheets again."""
    if "palette(" in app.styleSheet():
        app.setStyleSheet(app.styleSheet())
    for widget in app.allWidgets():
        sheet = widget.styleSheet()
        if "palette(" in sheet:
            widget.setStyleSheet(sheet)


def apply_saved_theme(app: QApplication, preferences: Preferences) -> str:
    """Apply the theme chosen in an earlier session; returns it."""
    choice = preferences.theme
    apply_theme(app, choice)
    return choice


class ThemeMenu(QMenu):
    """View > Theme: System, Light and Dark, one checked; a choice is applied at once and remembered."""

    theme_chosen = Signal(str)

    def __init__(self, preferences: Preferences, parent: QWidget | None = None):
        super().__init__("&Theme", parent)
        self.setObjectName("ThemeMenu")
        self.preferences = preferences
        group = QActionGroup(self)
        group.setExclusive(True)
        self.theme_actions: dict[str, QAction] = {}
        for choice in THEMES:
            action = QAction(THEME_TITLES[choice], self)
            action.setCheckable(True)
            action.setData(choice)
            action.setStatusTip(f"Use the {choice} theme" if choice != "system" else "Follow the system's theme")
            group.addAction(action)
            self.addAction(action)
            self.theme_actions[choice] = action
        self.theme_actions[preferences.theme].setChecked(True)
        group.triggered.connect(self._choose)

    def _choose(self, action: QAction) -> None:
        choice = action.data()
        apply_theme(QApplication.instance(), choice)
        self.preferences.theme = choice
        self.theme_chosen.emit(choice)
