"""The Draw panel (issue 8): strokes reach the bundled model preprocessed; font digits are read; the panel
follows new weights; the dock installs beside the inspector."""

import math
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDockWidget, QMainWindow

from app.draw.install import install_draw_panel
from app.draw.panel import DrawPanel
from app.draw.preprocess import centre_of_mass, mnist_style

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSerif.ttf",
         "DejaVuSerif-Italic.ttf", "DejaVuSansMono.ttf", "DejaVuSansCondensed.ttf")


@pytest.fixture
def panel(qtbot):
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


@pytest.mark.parametrize("points", [[(0.7, 0.15), (0.7, 0.5), (0.7, 0.85)], circle_points()],
                         ids=["vertical line", "circle"])
def test_strokes_reach_the_model_preprocessed(panel, qtbot, monkeypatch, points):
    seen = []
    forward = panel.network.forward
    monkeypatch.setattr(panel.network, "forward", lambda x, **kw: seen.append(np.array(x)) or forward(x, **kw))
    draw_stroke(panel.pad, points)
    qtbot.waitUntil(lambda: bool(seen) and np.array_equal(seen[-1][0, 0], mnist_style(panel.pad.pixels())))
    x = seen[-1]
    assert x.shape == (1, 1, 28, 28) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    row, column = centre_of_mass(x[0, 0])
    assert abs(row - 14) < 0.5 and abs(column - 14) < 0.5
    np.testing.assert_array_equal(panel.preview.image, x[0, 0])  # the user sees what the model reads


def test_a_drawn_zero_is_read_and_undo_clear_and_eraser_work(panel, qtbot):
    draw_stroke(panel.pad, circle_points())
    qtbot.waitUntil(lambda: bool(panel.probabilities.max(initial=0) > 0.5 and panel.probabilities.argmax() == 0))
    assert "<b>0</b>" in panel.guesses.text()
    panel.eraser_button.setChecked(True)
    draw_stroke(panel.pad, [(0.1, 0.45), (0.9, 0.45)])
    assert len(panel.pad.strokes) == 2 and panel.pad.strokes[-1].erasing
    before_undo = panel.pad.pixels()
    panel.undo_button.click()
    assert len(panel.pad.strokes) == 1 and (panel.pad.pixels() >= before_undo).all()
    panel.clear_button.click()
    qtbot.waitUntil(lambda: not bool(panel.digit.any()))
    assert panel.guesses.text() == "Draw a digit." and not panel.probabilities.any()


def test_font_digits_are_read_by_the_bundled_model(panel):
    from PIL import Image, ImageDraw, ImageFont

    fonts = [FONT_DIR / name for name in FONTS if (FONT_DIR / name).exists()]
    if not fonts:
        pytest.skip(f"no DejaVu TrueType fonts under {FONT_DIR} to render digits with")
    correct = total = 0
    for font_file in fonts:
        for size in (110, 200):
            font = ImageFont.truetype(str(font_file), size)
            for digit in range(10):
                image = Image.new("L", (280, 280), 0)
                ImageDraw.Draw(image).text((140, 140), str(digit), fill=255, font=font, anchor="mm")
                panel.pad.set_background(np.asarray(image))
                panel.classify()
                correct += int(panel.probabilities.argmax()) == digit
                total += 1
    rate = correct / total
    print(f"font digits read correctly: {correct}/{total} = {rate:.1%}")
    assert rate >= 0.8


def test_the_panel_follows_new_weights(panel, seed_spec):
    draw_stroke(panel.pad, circle_points())
    panel.classify()
    assert panel.probabilities.max() > 0.9
    zeroed = {name: np.zeros_like(value) for name, value in panel.network.state_dict().items()}
    panel.use_weights(seed_spec, zeroed, class_names=[f"class {i}" for i in range(10)])
    np.testing.assert_allclose(panel.probabilities, 0.1, atol=1e-6)  # all-zero logits: no preference
    assert panel.pad.isEnabled() and "class" in panel.guesses.text()


def test_networks_that_cannot_read_a_drawing_say_why(panel, seed_spec, network_file):
    import json

    rgb = json.loads(json.dumps(seed_spec))
    rgb["nodes"][0]["shape"] = [3, 28, 28]
    panel.use_weights(rgb, {})
    assert not panel.pad.isEnabled() and "3-channel" in panel.note.text()
    mlp = json.loads(network_file.read_text())  # input 784 = a flattened 28x28
    import engine

    panel.use_weights(mlp, engine.Network(mlp, seed=1).state_dict())
    assert panel.pad.isEnabled() and panel.field == 28


def test_load_image_and_save_png(panel, tmp_path):
    from PIL import Image

    panel.pad.set_background(np.zeros((28, 28), dtype=np.uint8))
    draw_stroke(panel.pad, circle_points())
    saved = tmp_path / "drawing.png"
    panel.save_png(saved)
    panel.clear_button.click()
    inverted = tmp_path / "on-paper.png"
    Image.fromarray(255 - np.asarray(Image.open(saved).convert("L"))).save(inverted)  # dark ink, light paper
    panel.load_image(inverted)
    panel.classify()
    assert panel.probabilities.argmax() == 0
    (tmp_path / "not-an-image.png").write_bytes(b"hello")
    with pytest.raises(ValueError, match="not-an-image.png"):
        panel.load_image(tmp_path / "not-an-image.png")


def test_install_puts_a_draw_dock_below_the_inspector_and_wires_the_dashboard(qtbot):
    from PySide6.QtCore import QObject, Signal

    class FakeController(QObject):
        snapshot_arrived = Signal(object)

    class FakeDashboard:  # the two things the Draw dock uses from the training dashboard
        def __init__(self):
            self.controller = FakeController()
            self.examples = []

        def show_example(self, image):
            self.examples.append(image)

    window = QMainWindow()
    qtbot.addWidget(window)
    window.inspector_dock = QDockWidget("Inspector", window)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, window.inspector_dock)
    dashboard = FakeDashboard()
    panel = install_draw_panel(window, dashboard)
    assert window.dockWidgetArea(panel.dock) == Qt.DockWidgetArea.RightDockWidgetArea
    assert window.tabifiedDockWidgets(panel.dock) == []
    panel.activations_button.click()
    assert dashboard.examples and dashboard.examples[0].shape == (28, 28)
