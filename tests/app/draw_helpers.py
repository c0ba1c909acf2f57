"""Drawing on the Draw panel's pad from tests: strokes as a mouse draws them, and waiting for the reading."""

import math

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

READ_TIMEOUT_MS = 20_000  # the first reading waits for the reader process to start (~0.5 s, more when busy)


def shown_draw_panel(qtbot):
    """A Draw panel on its own, 480x600, shown and exposed (the panel fixtures of the draw tests)."""
    from app.draw.panel import DrawPanel

    panel = DrawPanel()
    panel.resize(480, 600)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def draw_stroke(pad, points):
    """Drag the mouse through ``points`` given as fractions (x, y) of the pad's size."""
    def at(point):
        return QPoint(int(point[0] * pad.width()), int(point[1] * pad.height()))

    QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(points[0]))
    for point in points[1:]:
        QTest.mouseMove(pad, at(point))
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(points[-1]))


def circle_points(centre=(0.4, 0.45), radii=(0.2, 0.3), count=48):
    return [(centre[0] + radii[0] * math.cos(2 * math.pi * i / count),
             centre[1] + radii[1] * math.sin(2 * math.pi * i / count)) for i in range(count + 1)]


def seven_points():
    """A 7: a bar along the top, then a long slanted stroke down."""
    return [(0.25, 0.2), (0.5, 0.2), (0.75, 0.2), (0.65, 0.45), (0.55, 0.65), (0.48, 0.85)]


def wait_for_reading(qtbot, panel, timeout=READ_TIMEOUT_MS):
    """Until the reading on screen is of the drawing as it is now."""
    qtbot.waitUntil(lambda: panel.reading_is_current, timeout=timeout)
