"""Saliency over the drawing (issue 8): the maps' math against oracles, their shapes and ranges, where they
lie on a drawn digit, and the panel's "Why?" toggle."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

import engine
import resources
from app.draw.overlay import heat_rgba
from app.draw.panel import BUNDLED_MODEL, DrawPanel
from app.draw.reader import SALIENCY_METHODS, DigitReader
from app.draw.saliency import GradCamTail, input_gradient, upsample
from tests.app.draw_helpers import READ_TIMEOUT_MS, circle_points, draw_stroke, seven_points, wait_for_reading


@pytest.fixture(scope="module")
def bundled():
    return engine.load(resources.path(BUNDLED_MODEL))


@pytest.fixture(scope="module")
def reader(bundled):
    reader = DigitReader()
    reader.load(bundled.spec, bundled.state_dict())
    return reader


def seven_pixels(size=280):
    """A 7 rendered as a pad would hold it: white ink on black, uint8."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (size, size), 0)
    points = [(x * size, y * size) for x, y in seven_points()]
    ImageDraw.Draw(image).line(points, fill=255, width=22, joint="curve")
    return np.asarray(image)


def test_input_gradient_matches_finite_differences():
    spec = {"name": "tiny", "nodes": [
        {"id": "input", "type": "Input", "shape": [1, 6, 6]},
        {"id": "conv", "type": "Conv2D", "filters": 3, "kernel_size": 3, "activation": "tanh"},
        {"id": "flatten", "type": "Flatten"}, {"id": "logits", "type": "Dense", "units": 4}]}
    network = engine.Network(spec, seed=3, dtype="float64", xp=np)
    x = np.random.default_rng(0).random((1, 1, 6, 6))
    network.forward(x, keep_for_backward=True)
    gradient = input_gradient(network, class_index=2)
    step = 1e-6
    for row, column in [(0, 0), (2, 3), (5, 5)]:
        shifted = [x.copy(), x.copy()]
        shifted[0][0, 0, row, column] += step
        shifted[1][0, 0, row, column] -= step
        up, down = (network.forward(s)[0, 2] for s in shifted)
        assert gradient[0, row, column] == pytest.approx((up - down) / (2 * step), rel=1e-5, abs=1e-9)


def test_the_grad_cam_tail_computes_the_same_scores_as_the_whole_network(bundled):
    network = engine.Network(bundled.spec, xp=np)
    network.load_state_dict(bundled.state_dict())
    tail = GradCamTail.for_network(network)
    assert tail.layer_id == "conv2" and tuple(tail.network.input_shape) == (64, 14, 14)
    x = np.random.default_rng(1).random((1, 1, 28, 28), dtype=np.float32)
    outputs = network.forward(x, return_all=True)
    np.testing.assert_allclose(tail.network.forward(outputs["conv2"]), outputs["logits"], rtol=1e-5, atol=1e-5)


def test_no_grad_cam_tail_without_a_conv_layer_or_around_a_skip_connection(network_file):
    import json

    assert GradCamTail.for_network(engine.Network(json.loads(network_file.read_text()), xp=np)) is None
    skip = {"name": "skip", "nodes": [
        {"id": "input", "type": "Input", "shape": [1, 8, 8]},
        {"id": "conv_a", "type": "Conv2D", "filters": 2, "kernel_size": 3, "padding": "same"},
        {"id": "conv_b", "type": "Conv2D", "filters": 2, "kernel_size": 3, "padding": "same"},
        {"id": "add", "type": "Add"}, {"id": "flatten", "type": "Flatten"},
        {"id": "logits", "type": "Dense", "units": 3}],
        "edges": [["input", "conv_a"], ["conv_a", "conv_b"], ["conv_b", "add"], ["conv_a", "add"],
                  ["add", "flatten"], ["flatten", "logits"]]}
    assert GradCamTail.for_network(engine.Network(skip, xp=np)) is None  # conv_a reaches the scores around conv_b


@pytest.mark.parametrize("method", list(SALIENCY_METHODS))
def test_every_map_is_finite_normalised_and_the_size_of_the_digit(reader, method):
    digit, probabilities, _ = reader.read(seven_pixels(), method)
    assert probabilities.argmax() == 7
    heat, why = reader.saliency(method)
    assert why == "" and heat.shape == digit.shape == (28, 28) and heat.dtype == np.float32
    assert np.isfinite(heat).all() and heat.min() >= 0.0 and heat.max() == pytest.approx(1.0)


def within_steps(mask, steps):
    """Pixels at most ``steps`` up/down/left/right moves from ``mask`` (scipy's binary_dilation, numpy only)."""
    grown = mask.copy()
    for _ in range(steps):
        previous = grown.copy()
        grown[1:] |= previous[:-1]
        grown[:-1] |= previous[1:]
        grown[:, 1:] |= previous[:, :-1]
        grown[:, :-1] |= previous[:, 1:]
    return grown


def test_where_the_maps_lie_on_a_drawn_seven(reader):
    """Evidence (gradient x ink) lies on the ink by design; the plain gradient does not, but is denser near
    the ink than away from it (measured on font digits: ~24% of it on the ink, ~50% within 2 pixels)."""
    digit, _, _ = reader.read(seven_pixels(), "evidence")
    evidence, _ = reader.saliency("evidence")
    ink = digit > 0.05
    assert evidence[ink].sum() / evidence.sum() >= 0.95
    reader.read(seven_pixels(), "gradient")
    gradient, _ = reader.saliency("gradient")
    near = within_steps(ink, 2)
    density_near = gradient[near].sum() / near.sum()
    density_far = gradient[~near].sum() / (~near).sum()
    assert density_near > 1.5 * density_far


def test_a_blank_pad_has_no_map(reader):
    digit, probabilities, placement = reader.read(np.zeros((280, 280), dtype=np.uint8), "evidence")
    assert placement is None and not digit.any() and not probabilities.any()
    assert reader.saliency("evidence") == (None, "nothing drawn")


def test_upsampling_and_colouring():
    assert np.allclose(upsample(np.full((7, 7), 0.3, dtype=np.float32), (28, 28)), 0.3)
    corners = upsample(np.array([[0.0, 1.0], [1.0, 0.0]], dtype=np.float32), (4, 4))
    assert corners[0, 0] == 0.0 and corners[0, 3] == 1.0 and corners.shape == (4, 4)
    rgba = heat_rgba(np.array([[0.0, 0.5, 1.0]]))
    assert rgba.shape == (1, 3, 4) and rgba.dtype == np.uint8
    assert rgba[0, 0, 3] == 0 and rgba[0, 1, 3] < rgba[0, 2, 3]  # transparent at 0, most opaque at 1


def test_the_why_toggle_shows_and_hides_the_map_over_the_drawing(qtbot):
    panel = DrawPanel()
    panel.resize(400, 520)
    qtbot.addWidget(panel)
    panel.show()
    draw_stroke(panel.pad, seven_points())
    wait_for_reading(qtbot, panel)
    assert panel.heat is None and panel.pad.overlay is None
    with qtbot.waitSignal(panel.saliency_updated, timeout=READ_TIMEOUT_MS) as shown:
        qtbot.mouseClick(panel.saliency_button, Qt.MouseButton.LeftButton)
    heat = shown.args[0]
    assert heat.shape == (28, 28) and heat.max() == pytest.approx(1.0)
    assert panel.pad.overlay is not None and panel.preview.heat is not None
    left, top, side = panel.pad.overlay_square  # the map's square is the digit's, mapped back onto the pad
    ink_rows, ink_columns = np.nonzero(panel.pad.pixels() > 5)
    assert left <= ink_columns.min() and ink_columns.max() <= left + side
    assert top <= ink_rows.min() and ink_rows.max() <= top + side
    with qtbot.waitSignal(panel.saliency_updated, timeout=READ_TIMEOUT_MS):
        panel.saliency_method.setCurrentIndex(list(SALIENCY_METHODS).index("grad_cam"))
    with qtbot.waitSignal(panel.saliency_updated, timeout=READ_TIMEOUT_MS):  # the map follows new strokes
        draw_stroke(panel.pad, circle_points(centre=(0.5, 0.5), radii=(0.05, 0.05)))
    qtbot.mouseClick(panel.saliency_button, Qt.MouseButton.LeftButton)
    assert panel.heat is None and panel.pad.overlay is None and panel.preview.heat is None
    panel.clear_button.click()
    assert panel.heat is None


def mnist_on_the_pad(index):
    """MNIST test image ``index`` as the pad would hold it (280x280, white ink), and its label."""
    test = engine.datasets.load("mnist")
    image = (test.test_images[index, 0] * 255).astype(np.uint8)
    return np.kron(image, np.ones((10, 10), dtype=np.uint8)), int(test.test_labels[index])


NO_GRAD_CAM_NINE = 99  # a 9 the bundled model reads at 97% whose Grad-CAM is zero everywhere


def test_grad_cam_without_signal_falls_back_to_evidence_and_says_so(reader):
    from app.draw.saliency import evidence, grad_cam

    pixels, label = mnist_on_the_pad(NO_GRAD_CAM_NINE)
    digit, probabilities, _ = reader.read(pixels, "grad_cam")
    assert label == 9 and probabilities.argmax() == 9 and probabilities.max() > 0.95
    outputs = reader.network.forward(digit[None, None], training=False, keep_for_backward=True, return_all=True)
    tail = GradCamTail.for_network(reader.network)
    assert not grad_cam(tail, np.asarray(outputs[tail.layer_id][0]), 9, (28, 28)).any()  # nothing to show...
    expected = evidence(input_gradient(reader.network, 9).reshape(28, 28), digit)
    reader.read(pixels, "grad_cam")
    heat, remark = reader.saliency("grad_cam")
    np.testing.assert_allclose(heat, expected, atol=1e-6)  # ...so Evidence's map, and a word on why
    assert heat.max() == pytest.approx(1.0)
    assert remark.startswith("Grad-CAM found nothing here: in every place, conv2's feature maps")
    assert remark.endswith("Shown instead: Evidence, the ink that raises the score.")


def test_the_panel_says_why_the_grad_cam_map_is_evidence(qtbot, tmp_path):
    from PIL import Image

    panel = DrawPanel()
    panel.resize(400, 560)
    qtbot.addWidget(panel)
    panel.show()
    panel.saliency_method.setCurrentIndex(list(SALIENCY_METHODS).index("grad_cam"))
    qtbot.mouseClick(panel.saliency_button, Qt.MouseButton.LeftButton)
    pixels, _ = mnist_on_the_pad(NO_GRAD_CAM_NINE)
    Image.fromarray(255 - pixels).save(tmp_path / "nine.png")  # as written on paper: dark ink, inverted on load
    with qtbot.waitSignal(panel.saliency_updated, timeout=READ_TIMEOUT_MS) as shown:
        panel.load_image(tmp_path / "nine.png")
    assert shown.args[0].max() == pytest.approx(1.0) and panel.pad.overlay is not None
    assert panel.map_note.isVisible() and "Shown instead: Evidence" in panel.map_note.text()
    assert panel.note.text().startswith("Read by the bundled seed CNN")  # the caption still says who reads
    pad_size = panel.pad.size()
    with qtbot.waitSignal(panel.saliency_updated, timeout=READ_TIMEOUT_MS):
        draw_stroke(panel.pad, circle_points(centre=(0.8, 0.2), radii=(0.05, 0.05)))
    assert panel.pad.size() == pad_size  # the note's room is kept: the pad never moves under the pen
    qtbot.mouseClick(panel.saliency_button, Qt.MouseButton.LeftButton)
    assert not panel.map_note.isVisible()


def test_a_softmax_output_is_explained_by_its_logits(bundled):
    """The maps of a network ending in softmax are those of the same network ending in logits: gradients of
    the score, not of a saturated probability (which vanish near a confident answer)."""
    spec = bundled.spec
    softmax_spec = dict(spec, nodes=[dict(node, activation="softmax") if node["id"] == "logits" else node
                                     for node in spec["nodes"]])
    logits_reader, softmax_reader = DigitReader(), DigitReader()
    logits_reader.load(spec, bundled.state_dict())
    softmax_reader.load(softmax_spec, bundled.state_dict())
    for method in SALIENCY_METHODS:
        _, logits_probabilities, _ = logits_reader.read(seven_pixels(), method)
        _, softmax_probabilities, _ = softmax_reader.read(seven_pixels(), method)
        np.testing.assert_allclose(softmax_probabilities, logits_probabilities, atol=1e-6)
        logits_heat, _ = logits_reader.saliency(method)
        softmax_heat, _ = softmax_reader.saliency(method)
        np.testing.assert_allclose(softmax_heat, logits_heat, atol=1e-5)
