"""Colour models in the dashboard's live views (issue 22): a first convolution reading a 3-channel image shows
each kernel as one colour picture (R, G, B from its input channels, 0 at mid-grey), as does a first Dense
layer reading a colour image; deeper convolutions and grey models keep the diverging map; the input of a
colour model is shown in colour in Activations."""

import numpy as np
from PySide6.QtWidgets import QLabel, QMainWindow

import engine
from app.dashboard import install_dashboard
from app.dashboard.activations_panel import ActivationsPanel
from app.dashboard.filters_panel import FiltersPanel
from app.run_state import ActiveRun
from tests.app.gui_helpers import choose_in_combo, click

TIMEOUT_MS = 60_000


def colour_cnn():
    return {"format": "layerlab-network", "version": 1, "name": "colour-cnn", "nodes": [
        {"id": "input", "type": "Input", "shape": [3, 32, 32]},
        {"id": "conv1", "type": "Conv2D", "filters": 8, "kernel_size": 3, "padding": "same", "activation": "relu"},
        {"id": "pool1", "type": "MaxPooling2D", "pool_size": 2},
        {"id": "conv2", "type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"},
        {"id": "pool2", "type": "MaxPooling2D", "pool_size": 2},
        {"id": "flatten", "type": "Flatten"},
        {"id": "logits", "type": "Dense", "units": 9}]}


def centred(kernel):
    """A kernel (3, h, w) as the picture people expect: (h, w, 3), 0 at 0.5, its largest |weight| at 0 or 1."""
    return (0.5 + 0.5 * kernel / np.abs(kernel).max()).transpose(1, 2, 0)


def shown_filters(qtbot, spec, weights):
    panel = FiltersPanel()
    qtbot.addWidget(panel)
    panel.resize(600, 500)
    panel.show()
    panel.begin_run(ActiveRun.of_model(spec, weights, [str(i) for i in range(9)], "model"))
    panel.refresh()
    return panel


def test_a_first_colour_convolution_shows_each_kernel_as_one_colour_picture(qtbot):
    spec = colour_cnn()
    weights = engine.Network(spec, seed=5).state_dict()
    weights["conv1.kernel"][2] *= 0.01  # a weak kernel is scaled on its own: as visible as the others
    panel = shown_filters(qtbot, spec, weights)
    image = panel.image.image
    assert image.shape == (3 * 4 - 1, 3 * 4 - 1, 3)  # 8 kernels of 3x3 in a 3x3 grid, 1-pixel gaps, RGB
    kernels = weights["conv1.kernel"]
    for index in range(8):
        row, column = divmod(index, 3)
        np.testing.assert_allclose(image[4 * row:4 * row + 3, 4 * column:4 * column + 3], centred(kernels[index]),
                                   atol=1e-6)
    assert np.isclose(np.abs(image[0:3, 8:11] - 0.5).max(), 0.5)  # the weak one spans the full range too
    np.testing.assert_array_equal(panel.image.getLevels(), [0.0, 1.0])  # drawn as given: 0 black, 1 full colour
    assert "8 kernels of 3x3" in panel.caption.text() and "colour (R, G, B" in panel.caption.text()
    # A deeper convolution (8 input channels) keeps the rows of per-channel tiles in the diverging map.
    choose_in_combo(panel.layer, panel.layer.itemText(1))
    assert panel.image.image.ndim == 2 and "4 filters (rows) x 8 input channels" in panel.caption.text()
    assert "blue negative, red positive" in panel.caption.text()


def test_a_first_dense_layer_over_a_colour_image_shows_its_units_in_colour(qtbot):
    spec = {"format": "layerlab-network", "version": 1, "name": "colour-mlp", "nodes": [
        {"id": "input", "type": "Input", "shape": [3, 8, 6]}, {"id": "flatten", "type": "Flatten"},
        {"id": "hidden", "type": "Dense", "units": 5}]}
    weights = engine.Network(spec, seed=2).state_dict()
    panel = shown_filters(qtbot, spec, weights)
    image = panel.image.image
    assert image.shape == (2 * 9 - 1, 3 * 7 - 1, 3)
    unit = weights["hidden.kernel"][:, 4].reshape(3, 8, 6)  # the fifth unit: second row, second column
    np.testing.assert_allclose(image[9:17, 7:13], centred(unit), atol=1e-6)
    assert "5 units' input weights" in panel.caption.text() and "colour" in panel.caption.text()


def test_a_grey_model_keeps_its_filters_in_the_diverging_map_beside_a_colour_one(qtbot):
    colour = colour_cnn()
    panel = shown_filters(qtbot, colour, engine.Network(colour, seed=1).state_dict())
    assert panel.image.image.ndim == 3
    grey = colour_cnn()
    grey["nodes"][0]["shape"] = [1, 28, 28]
    weights = engine.Network(grey, seed=1).state_dict()
    panel.begin_run(ActiveRun.of_model(grey, weights, [str(i) for i in range(9)], "grey model"))
    panel.refresh()
    assert panel.image.image.shape == (3 * 4 - 1, 3 * 4 - 1)
    np.testing.assert_array_equal(panel.image.image[0:3, 0:3], weights["conv1.kernel"][0, 0])
    assert "colour" not in panel.caption.text() and "blue negative, red positive" in panel.caption.text()


def test_a_colour_models_input_shows_in_colour_in_activations(qtbot):
    spec = colour_cnn()
    network = engine.Network(spec, seed=5)
    panel = ActivationsPanel()
    qtbot.addWidget(panel)
    panel.resize(800, 600)
    panel.show()
    panel.begin_run(ActiveRun.of_model(spec, network.state_dict(), [str(i) for i in range(9)], "model"))
    picture = np.random.default_rng(0).random((3, 32, 32)).astype(np.float32)
    panel.show_example(picture)
    qtbot.waitUntil(lambda: panel._images["input"].image is not None, timeout=TIMEOUT_MS)
    shown = panel._images["input"].image
    np.testing.assert_allclose(shown, picture.transpose(1, 2, 0))
    assert panel._images["conv1"].image.ndim == 2  # the feature maps stay maps


def test_training_a_colour_model_shows_rgb_filters_and_a_colour_input(qtbot):
    window = QMainWindow()
    window.setCentralWidget(QLabel("canvas"))
    dashboard = install_dashboard(window, colour_cnn, lambda: "colour-shapes")
    form = dashboard.training_panel.form
    form.train_limit.setValue(200)
    form.epochs.setValue(1)
    form.batch_size.setValue(50)
    window.resize(1280, 800)
    window.show()
    try:
        with qtbot.waitSignal(dashboard.controller.run_finished, timeout=TIMEOUT_MS):
            click(dashboard.training_panel.start_button)
        run = dashboard.controller.run
        dashboard.views.setCurrentWidget(dashboard.filters)
        image = dashboard.filters.image.image
        assert image.shape == (11, 11, 3)
        np.testing.assert_allclose(image[0:3, 0:3], centred(run.latest_snapshot.weights["conv1.kernel"][0]),
                                   atol=1e-6)
        activations = dashboard.activations
        dashboard.views.setCurrentWidget(activations)
        example = activations.example.value()
        qtbot.waitUntil(lambda: activations._images["input"].image is not None, timeout=TIMEOUT_MS)
        np.testing.assert_allclose(activations._images["input"].image,
                                   run.data.test_images[example].transpose(1, 2, 0), atol=1e-6)
        label = run.data.class_names[int(run.data.test_labels[example])]
        assert label.split()[0] in ("red", "green", "blue") and f"(label {label})" in activations.caption.text()

        # The Evaluation tab's most confident mistakes are shown in colour too (not their red channel as grey).
        evaluation = dashboard.evaluation
        dashboard.views.setCurrentWidget(evaluation)
        qtbot.waitUntil(lambda: evaluation.gallery.count() > 0, timeout=TIMEOUT_MS)
        icon = evaluation.gallery.item(0).icon().pixmap(64, 64).toImage()
        colours = {icon.pixelColor(x, y).getRgb()[:3] for x in range(icon.width()) for y in range(icon.height())}
        assert any(len(set(rgb)) > 1 for rgb in colours)  # some pixel whose red, green and blue differ
    finally:
        assert dashboard.shutdown(timeout_ms=20_000)
        window.close()
        window.deleteLater()


def test_only_a_convolution_reading_the_image_is_drawn_in_colour(qtbot):
    # conv_b has 3 input channels too, but they are conv_a's feature maps, not R, G and B; conv_a reads the
    # image through a pooling layer, which keeps the colour planes.
    spec = {"format": "layerlab-network", "version": 1, "name": "three-maps", "nodes": [
        {"id": "input", "type": "Input", "shape": [3, 16, 16]},
        {"id": "pool", "type": "MaxPooling2D", "pool_size": 2},
        {"id": "conv_a", "type": "Conv2D", "filters": 3, "kernel_size": 3},
        {"id": "conv_b", "type": "Conv2D", "filters": 2, "kernel_size": 3},
        {"id": "flatten", "type": "Flatten"}, {"id": "logits", "type": "Dense", "units": 9}]}
    panel = shown_filters(qtbot, spec, engine.Network(spec, seed=4).state_dict())
    assert panel.layer.itemText(0) == "conv_a (Conv2D kernels, in colour)" and panel.image.image.ndim == 3
    choose_in_combo(panel.layer, "conv_b (Conv2D kernels)")
    assert panel.image.image.ndim == 2 and "2 filters (rows) x 3 input channels" in panel.caption.text()
