"""The Draw pad for the issue's new kinds of network. An autoencoder (trained to give its input back) has no
classes: beside what it sees, the pad shows what it makes of it, live as you draw, in place of the class bars
and the "Why?" map. A recurrent classifier (the rows of the image as steps, through a Reshape) reads digits as
any classifier does."""

import numpy as np
import pytest
from PySide6.QtGui import qGray

import engine
from app.draw.preprocess import mnist_style
from tests.app.draw_helpers import circle_points, draw_stroke, seven_points, shown_draw_panel, wait_for_reading
from tests.app.gui_helpers import choose_from_menu

# A small dense autoencoder, as the dense-autoencoder template is built: its last Dense gives 784 values in
# [0, 1] (a sigmoid), read back as a 1x28x28 image.
AUTOENCODER = {
    "format": "layerlab-network", "version": 1, "name": "tiny-autoencoder",
    "loss": "binary_cross_entropy", "target": "input",
    "nodes": [
        {"id": "input", "type": "Input", "shape": [1, 28, 28]},
        {"id": "flatten", "type": "Flatten"},
        {"id": "code", "type": "Dense", "units": 16, "activation": "relu"},
        {"id": "decoded", "type": "Dense", "units": 784, "activation": "sigmoid"},
        {"id": "image", "type": "Reshape", "target_shape": [1, 28, 28]},
    ],
}
# The lstm-mnist-rows template's design, smaller: the image's 28 rows are 28 steps of 28 values.
ROWS_LSTM = {
    "format": "layerlab-network", "version": 1, "name": "tiny-lstm-rows",
    "nodes": [
        {"id": "input", "type": "Input", "shape": [1, 28, 28]},
        {"id": "rows", "type": "Reshape", "target_shape": [28, 28]},
        {"id": "lstm", "type": "LSTM", "units": 16},
        {"id": "scores", "type": "Dense", "units": 10, "activation": "softmax"},
    ],
}


@pytest.fixture
def panel(qtbot):
    return shown_draw_panel(qtbot)


def shown_pixels(preview) -> np.ndarray:
    """The grey levels a DigitPreview paints, one per pixel of its image (the centre of each square)."""
    image = preview.grab().toImage()
    field = preview.digit.shape[-1]
    scale = preview.width() / field
    centres = [int(scale * index + scale / 2) for index in range(field)]
    return np.array([[qGray(image.pixel(x, y)) for x in centres] for y in centres])


def output_for(network: engine.Network, digit: np.ndarray) -> np.ndarray:
    return np.asarray(network.forward(digit.reshape((1, *network.input_shape)), training=False))


def test_drawing_on_an_autoencoders_pad_shows_its_reconstruction_beside_the_drawing(panel, qtbot):
    network = engine.Network(AUTOENCODER, seed=3, xp=np)
    panel.use_weights(AUTOENCODER, network.state_dict(), caption="Read by tiny-autoencoder.")
    assert panel.reconstruction_preview.isVisible() and panel.reconstruction_title.text() == "Network makes"
    assert not panel.bars.isVisible()  # no classes to show, nor to explain
    assert not panel.saliency_button.isVisible() and not panel.saliency_method.isVisible()
    assert "give its input back" in panel.note.text()

    for stroke in (seven_points(), circle_points(centre=(0.5, 0.5), radii=(0.15, 0.2))):  # live, stroke by stroke
        draw_stroke(panel.pad, stroke)
        wait_for_reading(qtbot, panel)
        digit = panel.digit
        np.testing.assert_allclose(digit, mnist_style(panel.pad.pixels()), atol=1e-5)  # what it was given
        expected = output_for(network, digit).reshape(28, 28)
        np.testing.assert_allclose(panel.reconstruction, expected, rtol=1e-5, atol=1e-6)
        assert panel.reconstruction_preview.isVisible()
        painted = shown_pixels(panel.reconstruction_preview)
        assert np.abs(painted - np.round(np.clip(expected, 0, 1) * 255)).max() <= 1  # the picture is that output
        error = float(np.mean((expected - digit) ** 2))
        assert panel.guesses.text() == f"Mean squared error: <b>{error:.3f}</b>"
        assert len(panel.probabilities) == 0

    panel.clear_button.click()
    wait_for_reading(qtbot, panel)
    assert not panel.reconstruction.any() and panel.guesses.text() == "Draw a digit."


def test_a_classifier_after_an_autoencoder_brings_back_the_bars(panel, qtbot):
    network = engine.Network(AUTOENCODER, seed=3, xp=np)
    panel.use_weights(AUTOENCODER, network.state_dict())
    panel.use_bundled_model()
    assert panel.bars.isVisible() and panel.saliency_button.isVisible()
    assert not panel.reconstruction_preview.isVisible()
    draw_stroke(panel.pad, circle_points())
    wait_for_reading(qtbot, panel)
    assert panel.probabilities.argmax() == 0


def test_a_recurrent_classifier_reads_a_drawing_row_by_row(panel, qtbot):
    network = engine.Network(ROWS_LSTM, seed=5, xp=np)
    panel.use_weights(ROWS_LSTM, network.state_dict())
    assert panel.bars.isVisible() and not panel.reconstruction_preview.isVisible()
    draw_stroke(panel.pad, seven_points())
    wait_for_reading(qtbot, panel)
    assert panel.digit.shape == (28, 28)  # preprocessed as for any 1x28x28 network; the Reshape makes the rows
    expected = output_for(network, panel.digit)[0]
    np.testing.assert_allclose(panel.probabilities, expected, rtol=1e-4, atol=1e-6)
    assert "I read" in panel.guesses.text()


def test_an_autoencoder_template_not_yet_trained_says_what_the_pad_will_show(main_window):
    panel = main_window.draw_panel
    choose_from_menu(main_window, "File", "New from Template", "conv-autoencoder")
    assert panel.reads_bundled_model  # until it is trained, the bundled model reads (and the caption says so)
    assert panel.note.text().endswith("conv-autoencoder on the canvas has no trained weights yet; train it to see "
                                      "what it makes of a drawing.")


def test_a_network_of_values_does_not_read_drawings():
    """toy:sine's regressor (one input, one value out) read a drawing shrunk to 1x1 and showed class bars 0 and 1;
    a regression network of an image-sized input outputs values, which are neither classes nor a picture."""
    from app.draw.network_choice import choose_pad_network
    from app.draw.reader import digit_field

    sine = {"name": "sine-fit", "loss": "mean_squared_error",
            "nodes": [{"id": "x", "type": "Input", "shape": [1]}, {"id": "h", "type": "Dense", "units": 16},
                      {"id": "y", "type": "Dense", "units": 1}]}
    assert digit_field((1,))[0] is None and digit_field((4,))[0] is None and digit_field((784,))[0] == 28
    assert choose_pad_network(sine, engine.infer_shapes(sine), None).source == "none"
    pixels_to_value = {"name": "ink", "loss": "mean_squared_error",
                       "nodes": [{"id": "x", "type": "Input", "shape": [1, 28, 28]}, {"id": "f", "type": "Flatten"},
                                 {"id": "y", "type": "Dense", "units": 1}]}
    choice = choose_pad_network(pixels_to_value, engine.infer_shapes(pixels_to_value), None)
    assert choice.source == "none" and "outputs values" in choice.caption
    assert choose_pad_network(AUTOENCODER, engine.infer_shapes(AUTOENCODER), None).source == "bundled"
