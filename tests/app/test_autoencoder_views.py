"""The autoencoder's views (issue 24): after a short run of the dense-autoencoder template, the Reconstructions
tab shows test images above the network's reconstructions with each one's error, and the Codes tab shows the
test set's codes on the 2-value bottleneck, coloured by digit; a click anywhere on that plane decodes the point
into the image beside it (engine.latent.decode of the point's coordinates), and a drag decodes as it goes. Both
tabs hide again for a run of a classifier."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest

import engine
from app.dashboard.class_colours import class_colours, contrast_ratio
from app.plot_theme import plot_colors
from app.theme import fusion_palette
from tests.app.gui_helpers import LEFT, NO_MODIFIER, choose_from_menu, click, click_tab, open_workspace, type_into

TIMEOUT_MS = 120_000


def network_with(run, weights) -> engine.Network:
    network = engine.Network(run.spec, xp=np)
    network.load_state_dict(weights)
    return network


def plane_position(panel, fraction_x: float, fraction_y: float) -> QPoint:
    """A point of the Codes plane, as a position in its widget: a fraction across and down the view box."""
    rect = panel.view.sceneBoundingRect()
    scene_point = QPointF(rect.left() + fraction_x * rect.width(), rect.top() + fraction_y * rect.height())
    position = panel.plots.mapFromScene(scene_point)
    assert panel.plots.viewport().rect().contains(position), "the plane is out of sight"
    return position


def plane_point(panel, position: QPoint) -> tuple[float, float]:
    """The plane's coordinates under a widget position (pyqtgraph's own mapping)."""
    point = panel.view.mapSceneToView(panel.plots.mapToScene(position))
    return point.x(), point.y()


def train_briefly(window, qtbot, template: str, examples: int, input_noise: str | None = None) -> None:
    choose_from_menu(window, "File", "New from Template", template)
    form = window.dashboard.training_panel.form
    type_into(form.train_limit, str(examples))
    if input_noise is not None:
        type_into(form.task.input_noise, input_noise)
    type_into(form.epochs, "1")
    open_workspace(window, "Train")
    with qtbot.waitSignal(window.dashboard.controller.run_finished, timeout=TIMEOUT_MS):
        click(window.dashboard.training_panel.start_button)


def tab_shown(dashboard, panel) -> bool:
    return dashboard.views.isTabVisible(dashboard.views.indexOf(panel))


def test_an_autoencoder_run_shows_reconstructions_and_codes_and_a_click_decodes_the_plane(main_window, qtbot):
    dashboard = main_window.dashboard
    tabs = dashboard.views.tabBar()
    assert not tab_shown(dashboard, dashboard.reconstructions) and not tab_shown(dashboard, dashboard.codes)
    train_briefly(main_window, qtbot, "dense-autoencoder", 300)
    run = dashboard.controller.run
    network = network_with(run, run.latest_snapshot.weights)
    assert tab_shown(dashboard, dashboard.reconstructions) and tab_shown(dashboard, dashboard.codes)

    # Reconstructions: test images above the network's outputs, each one's mean squared error under it.
    panel = dashboard.reconstructions
    click_tab(tabs, "Reconstructions")
    qtbot.waitUntil(lambda: panel.shown_step == run.latest_snapshot.step, timeout=TIMEOUT_MS)
    images = run.data.test_images[panel.examples]
    outputs = network.forward(images).reshape(images.shape)
    errors = ((outputs - images) ** 2).reshape(len(images), -1).mean(axis=1)
    assert len(panel.examples) == 8
    for column in range(8):
        np.testing.assert_allclose(panel.originals[column].image, images[column, 0])
        np.testing.assert_allclose(panel.reconstructions[column].image, outputs[column, 0], atol=1e-5)
        assert panel.error_labels[column].text == f"{errors[column]:.4f}"
    np.testing.assert_allclose(panel.errors, errors, rtol=1e-4)
    assert panel.noisy == [] and panel.noisy_inputs is None  # no input noise: no row of noisy inputs
    before = panel.examples.copy()
    click(panel.new_examples_button)
    assert not np.array_equal(panel.examples, before)
    qtbot.waitUntil(lambda: panel.errors is not None, timeout=TIMEOUT_MS)
    images = run.data.test_images[panel.examples]
    np.testing.assert_allclose(panel.originals[0].image, images[0, 0])
    np.testing.assert_allclose(panel.reconstructions[0].image, network.forward(images)[0, 0], atol=1e-5)

    # Codes: 2,000 test images' codes at the bottleneck, one scatter per digit.
    codes_panel = dashboard.codes
    click_tab(tabs, "Codes")
    qtbot.waitUntil(lambda: codes_panel.plane_snapshot is run.latest_snapshot, timeout=TIMEOUT_MS)
    node_id = engine.latent.find_bottleneck(network)
    assert codes_panel.node_id == node_id == "code"
    expected_codes = engine.latent.encode(network, run.data.test_images[:2000], node_id)
    np.testing.assert_allclose(codes_panel.codes, expected_codes, atol=1e-5)
    labels = run.data.test_labels[:2000]
    assert [scatter.name() for scatter in codes_panel.scatters] == list(run.data.class_names)
    for digit in range(10):
        shown = np.column_stack(codes_panel.scatters[digit].getData())
        np.testing.assert_allclose(shown, expected_codes[labels == digit], atol=1e-5)

    # A click anywhere on the plane decodes that point into the image beside it, and marks it; on a test image's
    # point too (the points let the click through to the plane).
    first_code = QPointF(*expected_codes[0])
    qtbot.waitUntil(lambda: codes_panel.view.viewRect().contains(first_code))  # the plane ranges over the codes
    position = codes_panel.plots.mapFromScene(codes_panel.view.mapViewToScene(first_code))
    assert codes_panel.plots.viewport().rect().contains(position)
    x, y = plane_point(codes_panel, position)
    QTest.mouseClick(codes_panel.plots.viewport(), LEFT, NO_MODIFIER, position)
    qtbot.waitUntil(lambda: codes_panel.decoded_point is not None, timeout=TIMEOUT_MS)
    assert codes_panel.decoded_point == pytest.approx((x, y), abs=1e-4)
    decoded = engine.latent.decode(network, np.array([[x, y]], dtype=np.float32), node_id)[0]
    np.testing.assert_allclose(codes_panel.decoded_output, decoded, atol=1e-5)
    np.testing.assert_allclose(codes_panel.decoded_image.image, decoded.reshape(28, 28), atol=1e-5)
    assert codes_panel.marker.getData()[0][0] == pytest.approx(x)

    # Holding the button and dragging decodes along the way; the image ends at the point of release.
    start, end = plane_position(codes_panel, 0.2, 0.2), plane_position(codes_panel, 0.8, 0.7)
    viewport = codes_panel.plots.viewport()
    QTest.mousePress(viewport, LEFT, NO_MODIFIER, start)
    for step in range(1, 6):
        QTest.mouseMove(viewport, start + (end - start) * (step / 5))
        QTest.qWait(20)
    QTest.mouseRelease(viewport, LEFT, NO_MODIFIER, end)
    x, y = plane_point(codes_panel, end)
    qtbot.waitUntil(lambda: codes_panel.decoded_point == pytest.approx((x, y), abs=1e-4), timeout=TIMEOUT_MS)
    decoded = engine.latent.decode(network, np.array([[x, y]], dtype=np.float32), node_id)[0]
    np.testing.assert_allclose(codes_panel.decoded_image.image, decoded.reshape(28, 28), atol=1e-5)

    # A classifier's run hides both tabs again: they would have nothing to show. The Codes tab was open: Curves
    # opens in its place.
    train_briefly(main_window, qtbot, "toy-mlp", 200)
    assert not tab_shown(dashboard, dashboard.reconstructions) and not tab_shown(dashboard, dashboard.codes)
    assert dashboard.views.currentWidget() is dashboard.curves
    assert [tabs.tabText(index) for index in range(tabs.count()) if tabs.isTabVisible(index)] == [
        "Curves", "Filters", "Activations", "Histograms", "Evaluation", "Boundary", "Profile"]


def test_a_denoising_autoencoder_shows_what_it_makes_of_noisy_inputs_against_the_clean_images(main_window, qtbot):
    """A run with input noise: three rows, the clean test images, noisy copies (the noise drawn as the trainer
    draws its validation noise, from the run's seed) and the network's outputs for the noisy copies, each error
    against the clean image, as engine.evaluate gives it with the noisy copies as inputs. A run without noise
    shows two rows again."""
    dashboard = main_window.dashboard
    train_briefly(main_window, qtbot, "dense-autoencoder", 300, input_noise="0.3")
    run = dashboard.controller.run
    assert run.settings.config.input_noise == pytest.approx(0.3)
    network = network_with(run, run.latest_snapshot.weights)
    panel = dashboard.reconstructions
    click_tab(dashboard.views.tabBar(), "Reconstructions")
    qtbot.waitUntil(lambda: panel.shown_step == run.latest_snapshot.step, timeout=TIMEOUT_MS)
    images, labels = run.data.test_images[panel.examples], run.data.test_labels[panel.examples]
    noisy = engine.training.with_input_noise(images, 0.3, run.settings.config.seed,
                                             engine.training.VALIDATION_NOISE_STREAM)
    np.testing.assert_array_equal(panel.noisy_inputs, noisy)
    assert noisy.min() >= 0.0 and noisy.max() <= 1.0 and np.abs(noisy - images).mean() > 0.05
    expected = engine.evaluate(network, images, labels, batch_size=len(images), inputs=noisy)
    errors = expected.example_errors()
    assert len(panel.noisy) == 8
    for column in range(8):
        np.testing.assert_allclose(panel.originals[column].image, images[column, 0])
        np.testing.assert_allclose(panel.noisy[column].image, noisy[column, 0])
        np.testing.assert_allclose(panel.reconstructions[column].image, expected.outputs[column, 0], atol=1e-5)
        assert panel.error_labels[column].text == f"{errors[column]:.4f}"
    np.testing.assert_allclose(panel.errors, errors, rtol=1e-4)
    clean = engine.evaluate(network, images, labels, batch_size=len(images))  # what the tab showed before
    assert not np.allclose(panel.errors, clean.example_errors(), rtol=1e-2)
    caption = panel.caption.text()
    assert "noise of standard deviation 0.3" in caption and "against the clean original" in caption
    assert panel.reconstructions_heading.text == "what the network makes of the noisy inputs"

    train_briefly(main_window, qtbot, "dense-autoencoder", 300)
    qtbot.waitUntil(lambda: panel.shown_step == dashboard.controller.run.latest_snapshot.step, timeout=TIMEOUT_MS)
    assert panel.noisy == [] and panel.noisy_inputs is None
    assert panel.reconstructions_heading.text == "reconstructions" and "noise" not in panel.caption.text()


@pytest.mark.parametrize("dark", [False, True])
def test_the_digit_colours_stand_out_from_the_plot_in_light_and_dark_themes(dark):
    """Each of the ten marks contrasts with the plot's background at least 3:1 (WCAG's ratio for graphics),
    and no two are alike (each digit also has a mark shape of its own)."""
    background, foreground = plot_colors(fusion_palette(dark))
    colours = class_colours(background, foreground)
    assert len(colours) == 10
    for colour in colours:
        assert contrast_ratio(colour, background) >= 3.0, colour.name()
    distinct = {QColor(colour).name() for colour in colours}
    assert len(distinct) == 10
