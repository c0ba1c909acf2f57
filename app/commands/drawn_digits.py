"""Digits drawn on the Draw panel's pad with real mouse events, as a person would: for ``layerlab screenshot
--draw 3`` and for the smoke test, which checks that the bundled model reads what is drawn.

    draw_digit(window.draw_panel.pad, 7)
    wait_for_reading(qt_app, window.draw_panel, timeout_s=10)     # 7, once the panel has read it

Each digit is one or two strokes, corner points in fractions (x, y) of the pad's drawing square (y down),
rounded off before drawing so curves look hand-made rather than polygonal.
"""

from __future__ import annotations

DIGIT_STROKES: dict[int, list[list[tuple[float, float]]]] = {
    0: [[(0.50, 0.16), (0.32, 0.26), (0.28, 0.50), (0.34, 0.76), (0.50, 0.84), (0.66, 0.76), (0.71, 0.50),
         (0.66, 0.25), (0.50, 0.16), (0.40, 0.20)]],
    1: [[(0.40, 0.28), (0.54, 0.16), (0.52, 0.50), (0.50, 0.84)]],
    2: [[(0.30, 0.32), (0.38, 0.20), (0.54, 0.16), (0.68, 0.26), (0.68, 0.40), (0.56, 0.55), (0.30, 0.82),
         (0.50, 0.80), (0.74, 0.81)]],
    3: [[(0.30, 0.22), (0.50, 0.15), (0.66, 0.23), (0.64, 0.38), (0.46, 0.47), (0.66, 0.56), (0.69, 0.71),
         (0.53, 0.83), (0.30, 0.78)]],
    4: [[(0.50, 0.16), (0.30, 0.58), (0.74, 0.58)], [(0.62, 0.34), (0.62, 0.58), (0.62, 0.86)]],
    5: [[(0.68, 0.18), (0.38, 0.18), (0.34, 0.47), (0.52, 0.42), (0.67, 0.52), (0.69, 0.68), (0.56, 0.81),
         (0.32, 0.78)]],
    6: [[(0.64, 0.16), (0.46, 0.28), (0.34, 0.50), (0.34, 0.70), (0.46, 0.83), (0.62, 0.80), (0.68, 0.64),
         (0.60, 0.52), (0.44, 0.52), (0.35, 0.62)]],
    7: [[(0.28, 0.20), (0.50, 0.19), (0.72, 0.20), (0.58, 0.48), (0.46, 0.84)]],
    8: [[(0.63, 0.24), (0.50, 0.15), (0.36, 0.23), (0.38, 0.37), (0.50, 0.46), (0.65, 0.58), (0.65, 0.74),
         (0.50, 0.84), (0.35, 0.74), (0.36, 0.58), (0.50, 0.46), (0.62, 0.36), (0.63, 0.24)]],
    9: [[(0.65, 0.30), (0.54, 0.18), (0.40, 0.20), (0.34, 0.34), (0.44, 0.46), (0.60, 0.43), (0.66, 0.30),
         (0.64, 0.56), (0.60, 0.85)]],
}
SMOOTHING_ROUNDS = 3


def rounded(points: list[tuple[float, float]], rounds: int = SMOOTHING_ROUNDS) -> list[tuple[float, float]]:
    """Chaikin's corner cutting: each round replaces every corner by two points a quarter of the way along;
    the ends stay where they are."""
    for _ in range(rounds):
        cut = [points[0]]
        for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
            cut += [(0.75 * x0 + 0.25 * x1, 0.75 * y0 + 0.25 * y1), (0.25 * x0 + 0.75 * x1, 0.25 * y0 + 0.75 * y1)]
        points = cut + [points[-1]]
    return points


def draw_digit(pad, digit: int) -> None:
    """Press, drag and release the left mouse button on ``pad`` along each stroke of ``digit``."""
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    side = min(pad.width(), pad.height())  # the pad draws its square canvas centred in the widget
    left, top = (pad.width() - side) / 2, (pad.height() - side) / 2
    left_button, no_modifier = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier

    def send(kind, point, button, buttons) -> None:
        position = QPointF(left + point[0] * side, top + point[1] * side)
        QApplication.sendEvent(pad, QMouseEvent(kind, position, pad.mapToGlobal(position), button, buttons,
                                                no_modifier))

    for stroke in DIGIT_STROKES[digit]:
        points = rounded(stroke)
        send(QEvent.Type.MouseButtonPress, points[0], left_button, left_button)
        for point in points[1:]:
            send(QEvent.Type.MouseMove, point, Qt.MouseButton.NoButton, left_button)
        send(QEvent.Type.MouseButtonRelease, points[-1], left_button, Qt.MouseButton.NoButton)


def wait_for_reading(qt_app, panel, timeout_s: float) -> int | None:
    """The class the Draw ``panel`` reads the drawing as, once it shows one (None if it does not in time).

    Only the panel's public face is used (``classify()``, ``probabilities``), so it holds whether the panel
    reads on the GUI thread or asks a reader elsewhere and shows the answer when it comes.
    """
    from app.commands.offscreen_window import wait

    wait(qt_app, 0.1)
    panel.classify()  # the pad announces its last change a moment after the last stroke; ask now
    if not wait(qt_app, timeout_s, until=lambda: len(panel.probabilities) and panel.probabilities.any()):
        return None
    wait(qt_app, 0.3)  # an answer about an earlier, unfinished stroke may be followed by the final one
    return int(panel.probabilities.argmax())
