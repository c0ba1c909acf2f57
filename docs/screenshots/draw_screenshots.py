"""Screenshots of the Draw panel (offscreen), for docs/screenshots/draw-*.png.

    QT_QPA_PLATFORM=offscreen python docs/screenshots/draw_screenshots.py [out_dir]

Builds the main window at its default 1280x800, draws digits on the pad with the mouse (as tests do) and
grabs the Draw dock: the plain reading, each saliency map over the drawing, and the Activations tab that
"Layers" opens before any training run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

from event_wait import wait  # noqa: E402  (beside this script, on sys.path when it runs)
from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

FOUR = [[(0.55, 0.15), (0.3, 0.6), (0.75, 0.6)], [(0.6, 0.35), (0.6, 0.88)]]
SEVEN = [[(0.25, 0.2), (0.5, 0.2), (0.75, 0.2), (0.65, 0.45), (0.55, 0.65), (0.48, 0.85)]]


def draw(pad, strokes) -> None:
    pad.clear()
    for stroke in strokes:
        points = [QPoint(int(x * pad.width()), int(y * pad.height())) for x, y in stroke]
        QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
        for start, end in zip(points, points[1:], strict=False):
            for step in range(1, 9):  # as a mouse reports a stroke: many small moves
                QTest.mouseMove(pad, start + (end - start) * step / 8)
        QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1])


def main(out: Path) -> None:
    from app.application import create_application
    from app.draw.reader import SALIENCY_METHODS
    from app.main_window import MainWindow
    from app.preferences import use_scratch_settings

    out.mkdir(parents=True, exist_ok=True)
    use_scratch_settings()  # the default 1280x800 window, not a user's last session
    from app.commands.offscreen_window import give_offscreen_a_large_screen

    give_offscreen_a_large_screen()  # the window never opens larger than its screen; offscreen's is 800x800
    app = create_application()  # kept to the end: widgets must not outlive it
    window = MainWindow()
    window.project.ask_to_save_changes = lambda: None
    window.show()
    panel, dock = window.draw_panel, window.draw_dock
    panel.reader.start()

    def settled() -> bool:
        return panel.reading_is_current and (panel.chosen_saliency is None or panel.heat is not None)

    draw(panel.pad, FOUR)
    wait(30, settled)
    dock.grab().save(str(out / "draw-panel.png"))
    for method in SALIENCY_METHODS:
        panel.saliency_method.setCurrentIndex(list(SALIENCY_METHODS).index(method))
        panel.saliency_button.setChecked(True)
        panel.heat = None
        draw(panel.pad, SEVEN)
        wait(30, settled)
        wait(0.3)
        dock.grab().save(str(out / f"draw-saliency-{method.replace('_', '-')}.png"))
    panel.saliency_button.setChecked(False)
    panel.activations_button.click()
    activations = window.dashboard.activations
    wait(30, lambda: activations.caption.text().startswith("the drawn image"))
    wait(0.5)
    window.grab().save(str(out / "draw-layers-before-training.png"))
    window.dashboard.shutdown()
    window.close()
    del window, app


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
