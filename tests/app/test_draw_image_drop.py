"""The Draw panel for a colour model (issue 22): the pad becomes a drop target; a picture dropped on it, pasted
with Ctrl+V or the Paste button, is read in colour by the network, resized to its input, with the bars named
by the data set's classes; a corrupt file is named in a message and the panel keeps working; grey models
keep the drawing pad."""

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

import engine
from tests.app.draw_helpers import READ_TIMEOUT_MS, shown_draw_panel, wait_for_reading
from tests.app.gui_helpers import click

CLASSES = ("red circle", "red square", "red triangle", "green circle", "green square", "green triangle",
           "blue circle", "blue square", "blue triangle")


def colour_spec():
    return {"format": "layerlab-network", "version": 1, "name": "tiny-colour", "nodes": [
        {"id": "input", "type": "Input", "shape": [3, 24, 32]},
        {"id": "conv1", "type": "Conv2D", "filters": 6, "kernel_size": 3, "padding": "same", "activation": "relu"},
        {"id": "pool1", "type": "MaxPooling2D", "pool_size": 2},
        {"id": "flatten", "type": "Flatten"},
        {"id": "logits", "type": "Dense", "units": 9, "activation": "softmax"}]}


@pytest.fixture
def colour_panel(qtbot):
    panel = shown_draw_panel(qtbot)
    spec = colour_spec()
    network = engine.Network(spec, seed=3)
    panel.use_weights(spec, network.state_dict(), CLASSES)
    return panel, network


def write_picture(path, size=(70, 50)):
    """A red square on white with a blue stripe: colours a grey model could not tell apart from others."""
    width, height = size
    pixels = np.full((height, width, 3), 255, dtype=np.uint8)
    pixels[10:40, 15:45] = (220, 20, 20)
    pixels[:, 55:60] = (10, 40, 230)
    Image.fromarray(pixels).save(path)
    return pixels


def expected_input(rgb, shape=(3, 24, 32)):
    """What the network must read: the picture resized bilinearly to its H x W, RGB planes in [0, 1]."""
    resized = Image.fromarray(rgb).resize((shape[2], shape[1]), Image.Resampling.BILINEAR)
    return (np.asarray(resized, dtype=np.float32) / 255).transpose(2, 0, 1)


def drop_files(widget, paths):
    """Drag files from a file manager over ``widget`` and drop them, as the windowing system delivers it."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    centre = QPointF(widget.rect().center())
    for event_type in (QDragEnterEvent, QDragMoveEvent, QDropEvent):
        event = event_type(centre, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                           Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(widget, event)
        assert event.isAccepted(), f"the pad refused the files at {event_type.__name__}"


def wait_for_picture_reading(qtbot, panel):
    qtbot.waitUntil(lambda: panel.image_input.picture is not None and panel.probabilities.any()
                    and panel.reading_is_current, timeout=READ_TIMEOUT_MS)


def test_a_colour_model_turns_the_pad_into_a_drop_target(colour_panel):
    panel, _ = colour_panel
    assert panel.input_stack.currentWidget() is panel.image_input and panel.image_input.pad.isVisible()
    assert not panel.pad.isVisible() and not panel.clear_button.isVisible() and not panel.eraser_button.isVisible()
    assert panel.image_input.open_button.isVisible() and panel.image_input.paste_button.isVisible()
    assert "disabled" not in panel.note.text() and "24" in panel.note.text()
    assert panel.guesses.text() == "Drop or paste an image."
    assert panel.image_input.pad.acceptDrops()
    assert panel.bars.class_names == list(CLASSES)
    assert not panel.bars.labels_fit_under_bars()  # "green triangle" under a 52 px bar: drawn as rows instead


def test_a_dropped_file_is_read_in_colour_with_the_class_names(colour_panel, qtbot, tmp_path):
    panel, network = colour_panel
    rgb = write_picture(tmp_path / "red square.png")
    drop_files(panel.image_input.pad, [tmp_path / "red square.png"])
    wait_for_picture_reading(qtbot, panel)
    wanted = expected_input(rgb)
    # The network read the picture itself, resized, in colour (no digit preprocessing, no inversion)...
    np.testing.assert_allclose(panel.digit, wanted, atol=1e-6)
    assert panel.digit.shape == (3, 24, 32)
    expected = network.forward(wanted[None], training=False)[0]
    np.testing.assert_allclose(panel.probabilities, expected, atol=1e-5)
    # ...the preview shows that picture in colour, the pad the picture as dropped, the bars the classes.
    np.testing.assert_array_equal(panel.preview.digit, panel.digit)
    preview = panel.preview._digit_image
    assert preview.format() == QImage.Format.Format_RGB888
    red = preview.pixelColor(12, 10)  # inside the red square
    assert red.red() > 180 and red.green() < 60 and red.blue() < 60
    assert panel.image_input.pad.picture.size().width() == 70
    assert panel.bars.class_names == list(CLASSES)
    top = CLASSES[int(expected.argmax())]
    assert f">{top}</b>" in panel.guesses.text()


def test_a_corrupt_file_is_named_and_the_panel_keeps_working(colour_panel, qtbot, tmp_path):
    panel, _ = colour_panel
    good = tmp_path / "good.png"
    write_picture(good)
    drop_files(panel.image_input.pad, [good])
    wait_for_picture_reading(qtbot, panel)
    shown = panel.probabilities.copy()
    bad = tmp_path / "holiday.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really an image" * 10)
    drop_files(panel.image_input.pad, [bad])
    message = panel.image_input.message
    qtbot.waitUntil(message.isVisible, timeout=READ_TIMEOUT_MS)
    assert "holiday.png" in message.text() and "Error" not in message.text()
    folder = tmp_path / "Pictures"
    folder.mkdir()
    drop_files(panel.image_input.pad, [folder])  # a folder dragged from a file manager
    qtbot.waitUntil(lambda: "Pictures" in message.text(), timeout=READ_TIMEOUT_MS)
    assert "folder" in message.text()
    # What was shown stays; the next good picture is read.
    assert panel.image_input.picture.name == "good.png"
    np.testing.assert_array_equal(panel.probabilities, shown)
    other = tmp_path / "other.png"
    rgb = write_picture(other, size=(40, 40))
    drop_files(panel.image_input.pad, [other])
    qtbot.waitUntil(lambda: panel.image_input.picture.name == "other.png", timeout=READ_TIMEOUT_MS)
    wait_for_picture_reading(qtbot, panel)
    np.testing.assert_allclose(panel.digit, expected_input(rgb), atol=1e-6)
    assert not message.isVisible()


def test_ctrl_v_reads_the_image_on_the_clipboard(colour_panel, qtbot):
    panel, _ = colour_panel
    rgb = np.zeros((30, 40, 3), dtype=np.uint8)
    rgb[:, :20] = (0, 200, 0)  # green left half, black right half
    image = QImage(rgb.data, 40, 30, 120, QImage.Format.Format_RGB888).copy()
    QApplication.clipboard().setImage(image)
    pad = panel.image_input.pad
    QTest.mouseClick(pad, Qt.MouseButton.LeftButton)  # focus on the pad, as a person clicks before pasting
    QTest.keyClick(pad, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    wait_for_picture_reading(qtbot, panel)
    assert panel.image_input.picture.name == "the pasted image"
    np.testing.assert_allclose(panel.digit, expected_input(rgb), atol=1e-6)


def test_the_paste_button_reads_an_image_file_copied_in_a_file_manager(colour_panel, qtbot, tmp_path):
    panel, _ = colour_panel
    path = tmp_path / "copied.png"
    rgb = write_picture(path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    QApplication.clipboard().setMimeData(mime)
    click(panel.image_input.paste_button)
    wait_for_picture_reading(qtbot, panel)
    assert panel.image_input.picture.name == "copied.png"
    np.testing.assert_allclose(panel.digit, expected_input(rgb), atol=1e-6)
    QApplication.clipboard().setText("just words")
    click(panel.image_input.paste_button)
    assert "no image" in panel.image_input.message.text()
    assert panel.image_input.picture.name == "copied.png"  # the picture stays


def test_open_image_reads_the_chosen_file(colour_panel, qtbot, tmp_path, monkeypatch):
    from app.draw import image_mode

    panel, _ = colour_panel
    path = tmp_path / "chosen.png"
    rgb = write_picture(path)
    monkeypatch.setattr(image_mode, "open_file_name", lambda *args: str(path))  # the file dialog's answer
    click(panel.image_input.open_button)
    wait_for_picture_reading(qtbot, panel)
    np.testing.assert_allclose(panel.digit, expected_input(rgb), atol=1e-6)


def test_why_shows_a_map_over_the_colour_picture_and_layers_gets_it(colour_panel, qtbot, tmp_path):
    panel, _ = colour_panel
    write_picture(tmp_path / "p.png")
    drop_files(panel.image_input.pad, [tmp_path / "p.png"])
    wait_for_picture_reading(qtbot, panel)
    with qtbot.waitSignal(panel.saliency_updated, timeout=READ_TIMEOUT_MS) as shown:
        click(panel.saliency_button)
    heat = shown.args[0]
    assert heat.shape == (24, 32) and 0.0 <= heat.min() and heat.max() <= 1.0
    assert panel.image_input.pad.overlay is not None
    with qtbot.waitSignal(panel.activations_requested) as requested:
        click(panel.activations_button)
    np.testing.assert_array_equal(requested.args[0], panel.digit)


def test_a_grey_model_after_a_colour_one_gets_the_drawing_pad_back(colour_panel, qtbot, seed_spec):
    panel, _ = colour_panel
    panel.use_bundled_model()
    assert panel.input_stack.currentWidget() is panel.pad and panel.pad.isVisible()
    assert panel.clear_button.isVisible() and not panel.image_input.isVisible()
    wait_for_reading(qtbot, panel)
    assert panel.guesses.text() == "Draw a digit." and panel.bars.labels_fit_under_bars()


@pytest.mark.parametrize("method", ["evidence", "gradient", "grad_cam"])
def test_the_reader_reads_a_ready_colour_image_and_maps_it_per_pixel(method, tmp_path):
    from app.draw.reader import DigitReader

    spec = colour_spec()
    network = engine.Network(spec, seed=3)
    reader = DigitReader()
    reader.load(spec, network.state_dict())
    image = expected_input(write_picture(tmp_path / "p.png"))
    digit, probabilities, placement = reader.read(image, method)
    np.testing.assert_array_equal(digit, image)  # no digit preprocessing: the picture as it came
    np.testing.assert_allclose(probabilities, network.forward(image[None], training=False)[0], atol=1e-5)
    assert placement is not None
    heat, _remark = reader.saliency(method)
    assert heat.shape == (24, 32) and 0.0 <= heat.min() and heat.max() == pytest.approx(1.0)


def test_a_colour_design_without_trained_weights_says_how_to_read_pictures(qtbot, main_window, tmp_path):
    import json

    assert not main_window.run_actions.open_image.isEnabled()  # the seed CNN reads drawings, not pictures
    path = tmp_path / "colour.json"
    path.write_text(json.dumps(colour_spec()), encoding="utf-8")
    assert main_window.project.open_file(path)
    panel = main_window.draw_panel
    qtbot.waitUntil(lambda: panel.spec is None, timeout=READ_TIMEOUT_MS)
    assert "reads colour images" in panel.note.text() and "drop or paste an image" in panel.note.text()
    # What it will take once trained: the drop target (off for now), not a black pad and its drawing tools.
    assert panel.input_stack.currentWidget() is panel.image_input and not panel.image_input.isEnabled()
    assert not any(button.isVisible() for button in panel.drawing_tools)
    assert not main_window.run_actions.open_image.isEnabled()  # nothing trained reads a picture yet


def test_the_image_mode_fits_the_draw_dock_at_1280x720(qtbot, main_window, tmp_path):
    from tests.app.gui_helpers import hidden_part

    main_window.resize(1280, 720)
    panel = main_window.draw_panel
    spec = colour_spec()
    panel.use_weights(spec, engine.Network(spec, seed=3).state_dict(), CLASSES)
    write_picture(tmp_path / "p.png")
    drop_files(panel.image_input.pad, [tmp_path / "p.png"])
    wait_for_picture_reading(qtbot, panel)
    widgets = (panel.image_input.pad, panel.image_input.open_button, panel.image_input.paste_button, panel.preview,
               panel.guesses, panel.bars, panel.saliency_button, panel.activations_button)
    assert [problem for widget in widgets if (problem := hidden_part(widget))] == []
    assert panel.image_input.pad.height() >= 120 and panel.bars.height() >= 9 * panel.fontMetrics().height()
    # Draw > Clear Pad and Undo Stroke have nothing to act on: the drawing tools are off with the pad.
    assert not panel.clear_button.isEnabled() and not panel.undo_button.isEnabled()


def test_after_a_run_on_colour_shapes_the_pad_reads_dropped_pictures_and_layers_shows_them(qtbot, main_window,
                                                                                           tmp_path, monkeypatch):
    import json

    from tests.app.gui_helpers import open_workspace

    window = main_window
    path = tmp_path / "colour.json"
    spec = colour_spec()
    spec["nodes"][0]["shape"] = [3, 32, 32]
    path.write_text(json.dumps(spec), encoding="utf-8")
    assert window.project.open_file(path)
    form = window.dashboard.training_panel.form
    form.select_dataset("colour-shapes")
    form.train_limit.setValue(200)
    form.epochs.setValue(1)
    open_workspace(window, "Train")
    controller = window.dashboard.controller
    with qtbot.waitSignal(controller.run_finished, timeout=60_000):
        click(window.dashboard.training_panel.start_button)
    panel = window.draw_panel
    qtbot.waitUntil(lambda: panel.image_shape == (3, 32, 32), timeout=READ_TIMEOUT_MS)
    assert panel.class_names == list(CLASSES) and "run 1" in panel.note.text()
    rgb = write_picture(tmp_path / "dropped.png")
    drop_files(panel.image_input.pad, [tmp_path / "dropped.png"])
    wait_for_picture_reading(qtbot, panel)
    np.testing.assert_allclose(panel.digit, expected_input(rgb, (3, 32, 32)), atol=1e-6)
    activations = window.dashboard.activations
    click(panel.activations_button)
    qtbot.waitUntil(lambda: activations.caption.text().startswith("the dropped picture"), timeout=READ_TIMEOUT_MS)
    np.testing.assert_allclose(activations._images["input"].image, panel.digit.transpose(1, 2, 0), atol=1e-6)

    # Draw > Open Image… works as the panel's button does (off for a grey model and before training).
    from app.draw import image_mode
    from tests.app.gui_helpers import choose_from_menu

    assert window.run_actions.open_image.isEnabled() and window.run_actions.paste_image.isEnabled()
    chosen = expected_input(write_picture(tmp_path / "chosen.png", size=(64, 48)), (3, 32, 32))
    monkeypatch.setattr(image_mode, "open_file_name", lambda *args: str(tmp_path / "chosen.png"))
    choose_from_menu(window, "Draw", "Open Image…")
    qtbot.waitUntil(lambda: np.allclose(panel.digit, chosen, atol=1e-6) and panel.reading_is_current,
                    timeout=READ_TIMEOUT_MS)
