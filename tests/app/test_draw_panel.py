"""The Draw panel (issue 8): strokes reach the bundled model preprocessed; font digits are read; the panel
follows new weights; networks it cannot read say why; images load and drawings save; a pen's pressure
sets the line's width."""

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.draw.preprocess import centre_of_mass, mnist_style
from tests.app.draw_helpers import READ_TIMEOUT_MS, circle_points, draw_stroke, shown_draw_panel, wait_for_reading

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSerif.ttf",
         "DejaVuSerif-Italic.ttf", "DejaVuSansMono.ttf", "DejaVuSansCondensed.ttf")


@pytest.fixture
def panel(qtbot):
    return shown_draw_panel(qtbot)


@pytest.mark.parametrize("points", [[(0.7, 0.15), (0.7, 0.5), (0.7, 0.85)], circle_points()],
                         ids=["vertical line", "circle"])
def test_strokes_reach_the_model_preprocessed(panel, qtbot, points):
    draw_stroke(panel.pad, points)
    wait_for_reading(qtbot, panel)
    digit = panel.digit  # what the reader fed the network, sent back with its reading
    # (to rounding: the reader cuts out the ink first, and its single-threaded BLAS sums in another order)
    np.testing.assert_allclose(digit, mnist_style(panel.pad.pixels()), atol=1e-5)
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert 0.0 <= digit.min() and digit.max() <= 1.0
    row, column = centre_of_mass(digit)
    assert abs(row - 14) < 0.5 and abs(column - 14) < 0.5
    np.testing.assert_array_equal(panel.preview.digit, digit)  # the user sees what the model reads


def test_a_drawn_zero_is_read_and_undo_clear_and_eraser_work(panel, qtbot):
    draw_stroke(panel.pad, circle_points())
    qtbot.waitUntil(lambda: bool(panel.probabilities.max(initial=0) > 0.5 and panel.probabilities.argmax() == 0),
                    timeout=READ_TIMEOUT_MS)
    assert "<b" in panel.guesses.text() and ">0</b>" in panel.guesses.text()
    panel.eraser_button.setChecked(True)
    draw_stroke(panel.pad, [(0.1, 0.45), (0.9, 0.45)])
    assert len(panel.pad.strokes) == 2 and panel.pad.strokes[-1].erasing
    before_undo = panel.pad.pixels()
    panel.undo_button.click()
    assert len(panel.pad.strokes) == 1 and (panel.pad.pixels() >= before_undo).all()
    panel.clear_button.click()
    wait_for_reading(qtbot, panel)
    assert not panel.digit.any()
    assert panel.guesses.text() == "Draw a digit." and not panel.probabilities.any()


def test_a_clear_drops_readings_still_on_their_way(panel, qtbot):
    draw_stroke(panel.pad, circle_points())
    panel.classify()  # a reading is now on its way...
    panel.pad.clear()
    panel.classify()  # ...and the pad is blank before it arrives
    assert not panel.probabilities.any()
    with qtbot.assertNotEmitted(panel.prediction_updated, wait=1500):
        pass
    assert not panel.probabilities.any() and panel.guesses.text() == "Draw a digit."


def test_font_digits_are_read_by_the_bundled_model(panel, qtbot):
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
                wait_for_reading(qtbot, panel)
                correct += int(panel.probabilities.argmax()) == digit
                total += 1
    rate = correct / total
    print(f"font digits read correctly: {correct}/{total} = {rate:.1%}")
    assert rate >= 0.8


def test_the_panel_follows_new_weights(panel, qtbot, seed_spec):
    draw_stroke(panel.pad, circle_points())
    wait_for_reading(qtbot, panel)
    assert panel.probabilities.max() > 0.9
    zeroed = {name: np.zeros_like(value) for name, value in panel.weights.items()}
    panel.use_weights(seed_spec, zeroed, class_names=[f"class {i}" for i in range(10)])
    wait_for_reading(qtbot, panel)
    np.testing.assert_allclose(panel.probabilities, 0.1, atol=1e-6)  # all-zero logits: no preference
    assert panel.pad.isEnabled() and "class" in panel.guesses.text()


def test_networks_that_cannot_read_a_drawing_say_why(panel, qtbot, seed_spec, network_file):
    import json

    import engine

    two_channels = json.loads(json.dumps(seed_spec))  # (3 channels read dropped pictures: test_draw_image_drop.py)
    two_channels["nodes"][0]["shape"] = [2, 28, 28]
    panel.use_weights(two_channels, {})
    assert not panel.pad.isEnabled() and "2-channel" in panel.note.text()
    mlp = json.loads(network_file.read_text())  # input 784 = a flattened 28x28
    panel.use_weights(mlp, engine.Network(mlp, seed=1).state_dict())
    assert panel.pad.isEnabled() and panel.field == 28
    draw_stroke(panel.pad, circle_points())
    wait_for_reading(qtbot, panel)
    assert panel.probabilities.shape == (10,) and np.isclose(panel.probabilities.sum(), 1.0)
    # Weights that do not fit the spec are found by the reader; the panel then says so.
    panel.use_weights(mlp, {"hidden.kernel": np.zeros((3, 3), dtype=np.float32)})
    qtbot.waitUntil(lambda: not panel.pad.isEnabled(), timeout=READ_TIMEOUT_MS)
    assert "do not fit" in panel.note.text()


def test_load_image_and_save_png(panel, qtbot, tmp_path):
    from PIL import Image

    panel.pad.set_background(np.zeros((28, 28), dtype=np.uint8))
    draw_stroke(panel.pad, circle_points())
    saved = tmp_path / "drawing.png"
    panel.save_png(saved)
    panel.clear_button.click()
    inverted = tmp_path / "on-paper.png"
    Image.fromarray(255 - np.asarray(Image.open(saved).convert("L"))).save(inverted)  # dark ink, light paper
    panel.load_image(inverted)
    wait_for_reading(qtbot, panel)
    assert panel.probabilities.argmax() == 0
    (tmp_path / "not-an-image.png").write_bytes(b"hello")
    with pytest.raises(ValueError, match="not-an-image.png"):
        panel.load_image(tmp_path / "not-an-image.png")


def test_a_pen_draws_thicker_the_harder_it_presses(qtbot):
    """Synthetic tablet events (a pen with pressure): the line's width follows the pressure, the stroke keeps
    it for undo's repaint, and the events are accepted, so Qt synthesises no mouse stroke on top."""
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtGui import QInputDevice, QPointingDevice, QTabletEvent
    from PySide6.QtWidgets import QApplication

    from app.draw.pad import DrawingPad

    pad = DrawingPad()
    pad.resize(280, 280)
    qtbot.addWidget(pad)
    pad.show()
    pen = QPointingDevice("test pen", 1, QInputDevice.DeviceType.Stylus, QPointingDevice.PointerType.Pen,
                          QInputDevice.Capability.Position | QInputDevice.Capability.Pressure, 1, 3)

    def pen_event(kind, x, y, pressure):
        position = QPointF(x, y)
        event = QTabletEvent(kind, pen, position, QPointF(pad.mapToGlobal(position)), pressure, 0, 0, 0, 0, 0,
                             Qt.KeyboardModifier.NoModifier, Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton)
        QApplication.sendEvent(pad, event)
        return event.isAccepted()

    def ink_of_a_line(pressure):
        pad.clear()
        assert pen_event(QEvent.Type.TabletPress, 40, 140, pressure)
        assert pen_event(QEvent.Type.TabletMove, 240, 140, pressure)
        assert pen_event(QEvent.Type.TabletRelease, 240, 140, 0.0)
        assert [point_pressure for _, point_pressure in pad.strokes[-1].points] == [pressure, pressure]
        return int((pad.pixels() > 127).sum())

    light, firm = ink_of_a_line(0.1), ink_of_a_line(1.0)
    assert len(pad.strokes) == 1  # one stroke per pen stroke: no mouse-synthesised duplicate
    assert firm > 1.8 * light > 0  # widths 0.35 + 0.65 * pressure of the full stroke: 0.415 vs 1
