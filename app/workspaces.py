"""Workspaces: the window arranged for one task at a time, as an IDE's perspectives or Neural Network Console's
Edit / Training tabs.

    workspaces = Workspaces(window, WorkspaceDocks(...), settings)
    workspaces.switch(TRAIN)        # the tab bar at the menu bar's right, View > Train Workspace (Ctrl+2), Start
    workspaces.reset_layout()       # View > Reset Workspace Layout: this workspace as it first opened
    workspaces.save()               # from closeEvent: each workspace's layout, and which one is open

- Design: the canvas takes the centre; the layer palette and the Draw pad on the left; the inspector with
  the problems and the summary (tabs) on the right. The training dashboard is hidden.
- Train: the training dock (settings, run controls and live views) takes the window; the Draw pad stays on
  the left, where it was, with the design shown small under it (``DesignOverview``). The canvas, palette,
  inspector, problems and summary are hidden.

Each workspace keeps its own dock layout: what the person moves, resizes, closes or floats there stays
there (``QMainWindow.saveState`` per workspace, kept in the settings between sessions). The docks are the
same objects in both; a workspace is which of them show, where, and how big.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QObject, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar

DESIGN, TRAIN = "design", "train"
TITLES = {DESIGN: "Design", TRAIN: "Train"}
SHORTCUTS = {DESIGN: "Ctrl+1", TRAIN: "Ctrl+2"}
# Bump when docks are added, renamed or moved: Qt then refuses a layout saved by an older version, and the
# workspace opens with its default layout instead of a half-matching one.
LAYOUT_VERSION = 3
CURRENT_KEY = "window/workspace"
LAYOUT_KEY = "window/workspace_layout/{}"

# Default sizes, in logical pixels, for a window of the given width: the palette and pad column and the
# inspector column each take a quarter at most, so at 1280 px the canvas keeps ~630 x 670 px (46 %).
SIDE_COLUMN = 330
INSPECTOR_COLUMN = 340
# The Draw pad with its buttons and bars wants ~480 px; in Train the design overview takes what is left.
DRAW_SHARE = 72


@dataclass(frozen=True)
class WorkspaceDocks:
    palette: QDockWidget
    draw: QDockWidget
    inspector: QDockWidget
    problems: QDockWidget
    summary: QDockWidget
    training: QDockWidget
    overview: QDockWidget

    def all(self) -> list[QDockWidget]:
        return [self.palette, self.draw, self.inspector, self.problems, self.summary, self.training, self.overview]

    def shown_in(self, workspace: str) -> list[QDockWidget]:
        if workspace == DESIGN:
            return [self.palette, self.draw, self.inspector, self.problems, self.summary]
        return [self.draw, self.training, self.overview]


class Workspaces(QObject):
    changed = Signal(str)  # the workspace now open

    def __init__(self, window: QMainWindow, docks: WorkspaceDocks, settings: QSettings | None = None):
        super().__init__(window)
        self.window = window
        self.docks = docks
        self.settings = settings
        self.current = DESIGN
        self._layouts: dict[str, QByteArray] = {}
        self._sized = False  # default sizes wait for the window's real size (its first show)
        self._place_docks()

        self.tab_bar = QTabBar()
        self.tab_bar.setObjectName("WorkspaceTabs")
        self.tab_bar.setDrawBase(False)
        self.tab_bar.setExpanding(False)
        self.actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        for index, name in enumerate(TITLES):
            self.tab_bar.addTab(TITLES[name])
            self.tab_bar.setTabToolTip(index, f"{TITLES[name]} workspace ({SHORTCUTS[name]})")
            action = QAction(f"&{TITLES[name]} Workspace", window, checkable=True)
            action.setShortcut(QKeySequence(SHORTCUTS[name]))
            action.triggered.connect(lambda _checked=False, name=name: self.switch(name))
            group.addAction(action)
            self.actions[name] = action
        self.actions[DESIGN].setChecked(True)
        self.tab_bar.currentChanged.connect(lambda index: self.switch(list(TITLES)[index]))
        self.reset_action = QAction("Reset &Workspace Layout", window)
        self.reset_action.setStatusTip("Put this workspace's panels back where they first were")
        self.reset_action.triggered.connect(self.reset_layout)
        self._show_only(DESIGN)

    # -- switching ----------------------------------------------------------------------------------------

    def switch(self, name: str) -> None:
        """Open workspace ``name``: its own layout as last left, or its default the first time."""
        if name not in TITLES or name == self.current:
            return
        self._layouts[self.current] = self.window.saveState(LAYOUT_VERSION)
        self._open(name, self._layouts.get(name))

    def _open(self, name: str, layout: QByteArray | None) -> bool:
        """Show workspace ``name`` with ``layout``, else its default; True when the layout was taken."""
        self.current = name
        self.window.centralWidget().setVisible(name == DESIGN)
        restored = layout is not None and self.window.restoreState(layout, LAYOUT_VERSION)
        if not restored:
            self._show_only(name)
            self._size_docks()
        self.tab_bar.blockSignals(True)  # the tab bar follows; its signal is for a person's click
        self.tab_bar.setCurrentIndex(list(TITLES).index(name))
        self.tab_bar.blockSignals(False)
        self.actions[name].setChecked(True)
        self.changed.emit(name)
        return restored

    def reset_layout(self) -> None:
        """The open workspace as it first opened: its docks back in their places, at their default sizes."""
        self._layouts.pop(self.current, None)
        for dock in self.docks.all():
            dock.setFloating(False)
        self._place_docks()
        self._show_only(self.current)
        self._size_docks()

    def first_show(self) -> None:
        """From the window's first showEvent: the default sizes, for the size the window really has (unless a
        saved layout gave them already)."""
        if not self._sized:
            self._size_docks()

    # -- the default layout -------------------------------------------------------------------------------

    def _place_docks(self) -> None:
        """Every dock in its default area. Both workspaces share the areas: Design shows the palette over the
        pad on the left and the inspector over problems|summary on the right; Train shows the pad over the
        design overview on the left and the training dock on the right, which then fills the window."""
        window, docks = self.window, self.docks
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        window.addDockWidget(left, docks.palette)
        window.splitDockWidget(docks.palette, docks.draw, Qt.Orientation.Vertical)
        window.splitDockWidget(docks.draw, docks.overview, Qt.Orientation.Vertical)
        window.addDockWidget(right, docks.inspector)
        window.splitDockWidget(docks.inspector, docks.problems, Qt.Orientation.Vertical)
        # The one tab group: PySide6 6.12's QMainWindow leaves a stray tab bar when there are two.
        window.tabifyDockWidget(docks.problems, docks.summary)
        window.splitDockWidget(docks.inspector, docks.training, Qt.Orientation.Horizontal)
        # The columns run full height (the training dock is in the right area, so nothing sits under them).
        window.setCorner(Qt.Corner.BottomLeftCorner, left)
        window.setCorner(Qt.Corner.BottomRightCorner, right)

    def _show_only(self, name: str) -> None:
        shown = self.docks.shown_in(name)
        for dock in self.docks.all():
            dock.setVisible(dock in shown)
        self.window.centralWidget().setVisible(name == DESIGN)
        if name == DESIGN:
            self.docks.problems.raise_()  # "no problems" or the list of them, before the summary's table

    def _size_docks(self) -> None:
        window, docks = self.window, self.docks
        if not window.isVisible():
            return  # sized at first show, for the size the window really has
        self._sized = True
        width, height = window.width(), window.height()
        vertical, horizontal = Qt.Orientation.Vertical, Qt.Orientation.Horizontal
        side = min(SIDE_COLUMN, width // 4)
        if self.current == DESIGN:
            window.resizeDocks([docks.palette, docks.inspector], [side, min(INSPECTOR_COLUMN, width // 4)],
                               horizontal)
            # A Conv2D's settings fill ~480 px; problems and the summary's table share the rest.
            window.resizeDocks([docks.inspector, docks.problems], [height * 60 // 100, height * 40 // 100],
                               vertical)
            # The layer list scrolls; the pad, its buttons and the bars want ~480 px.
            window.resizeDocks([docks.palette, docks.draw], [height * 30 // 100, height * 70 // 100], vertical)
        else:
            window.resizeDocks([docks.draw, docks.training], [side, width - side], horizontal)
            window.resizeDocks([docks.draw, docks.overview], [height * DRAW_SHARE // 100,
                                                              height * (100 - DRAW_SHARE) // 100], vertical)

    # -- kept between sessions ----------------------------------------------------------------------------

    def save(self) -> None:
        if self.settings is None:
            return
        self._layouts[self.current] = self.window.saveState(LAYOUT_VERSION)
        for name, layout in self._layouts.items():
            self.settings.setValue(LAYOUT_KEY.format(name), layout)
        self.settings.setValue(CURRENT_KEY, self.current)
        self.settings.sync()

    def restore(self) -> bool:
        """Each workspace's saved layout, and the one open at the last close; False when none was saved (or
        it is unreadable, or from another layout version): the defaults stay."""
        if self.settings is None:
            return False
        for name in TITLES:
            value = self.settings.value(LAYOUT_KEY.format(name))
            if isinstance(value, QByteArray) and not value.isEmpty():
                self._layouts[name] = value
        current = self.settings.value(CURRENT_KEY)
        current = current if current in TITLES else DESIGN
        if current not in self._layouts:
            self._layouts.clear()  # layouts without the one they were left in are from an older version
            return False
        self._sized = self._open(current, self._layouts[current])
        return self._sized
