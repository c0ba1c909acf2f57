"""Augmentation in the Training panel: the "Augmentation" group's boxes, its preview of random draws of the chosen
data set's images (read off the GUI thread, never downloaded for it), the project that keeps the settings, and the
run and model file that record them."""

from __future__ import annotations

import dataclasses
import json
import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import QPoint
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog, QStyle, QStyleOptionGroupBox

import engine
from app.dashboard.augmentation_preview import NEEDS_DOWNLOAD
from app.document.project_file import write_project
from tests.app.gui_helpers import (
    LEFT,
    NO_MODIFIER,
    choose_from_menu,
    choose_in_combo,
    click,
    open_workspace,
    shown_dashboard,
    type_into,
)

TIMEOUT_MS = 60_000


def click_group_check(group) -> None:
    """Click the check box in a checkable group's title, as a person does."""
    option = QStyleOptionGroupBox()
    group.initStyleOption(option)
    rect = group.style().subControlRect(QStyle.ComplexControl.CC_GroupBox, option,
                                        QStyle.SubControl.SC_GroupBoxCheckBox, group)
    assert group.isVisible() and group.isEnabled() and rect.isValid(), "the group's check box cannot be clicked"
    QTest.mouseClick(group, LEFT, NO_MODIFIER, rect.center())


def click_check_box(box) -> None:
    assert box.isVisible() and box.isEnabled(), box.text()
    QTest.mouseClick(box, LEFT, NO_MODIFIER, QPoint(8, box.height() // 2))  # on the box itself


@pytest.fixture
def augmentation(qtbot):
    """The dashboard's Augmentation group in a window tall enough to show it whole, data set MNIST."""
    window, dashboard = shown_dashboard(qtbot, 1280, 1000)
    form = dashboard.training_panel.form
    form.select_dataset("mnist")
    yield form.augmentation
    assert dashboard.shutdown(timeout_ms=20_000)


def preview_drawn(box, qtbot):
    qtbot.waitUntil(lambda: box.preview.originals is not None, timeout=TIMEOUT_MS)
    return box.preview.originals, box.preview.augmented


def each_draw_differs(originals, augmented) -> np.ndarray:
    """For every image and draw, whether the draw differs from its image: (N, K) booleans."""
    return np.abs(augmented - originals[:, None]).reshape(*augmented.shape[:2], -1).max(axis=2) > 1e-3


def test_the_group_starts_off_and_collapsed_and_opens_on_a_click(augmentation, qtbot):
    box = augmentation
    assert not box.isChecked() and not box.body.isVisible() and box.config() is False
    click_group_check(box)
    assert box.isChecked() and box.body.isVisible()
    assert box.config() == {"shift": 2, "rotation": 10.0, "flip_horizontal": False, "flip_vertical": False,
                            "noise": 0.0}
    assert "digits" in box.flip_horizontal.toolTip() and "photos" in box.flip_vertical.toolTip()
    originals, augmented = preview_drawn(box, qtbot)
    assert originals.shape == (4, 1, 28, 28) and augmented.shape == (4, 4, 1, 28, 28)
    assert each_draw_differs(originals, augmented).all()  # shifted and turned: none is the image itself
    assert box.preview.tiles.isVisible() and box.preview.tiles.height() >= 4 * 28


def test_the_preview_follows_each_setting(augmentation, qtbot):
    box = augmentation
    click_group_check(box)
    preview_drawn(box, qtbot)
    type_into(box.shift, "0")
    type_into(box.rotation, "0")
    assert box.shift.text() == "off" and box.rotation.text() == "off" and box.config() is False
    originals, augmented = box.preview.originals, box.preview.augmented
    assert not each_draw_differs(originals, augmented).any()  # nothing on: every draw is the image

    click_check_box(box.flip_horizontal)
    originals, augmented = box.preview.originals, box.preview.augmented
    mirrored = originals[:, :, :, ::-1]
    for image, flipped, draws in zip(originals, mirrored, augmented, strict=True):
        for draw in draws:  # each draw is the image or its mirror, and some are mirrors
            assert np.array_equal(draw, image) or np.allclose(draw, flipped)
    assert each_draw_differs(originals, augmented).any()
    click_check_box(box.flip_horizontal)

    click_check_box(box.flip_vertical)
    originals, augmented = box.preview.originals, box.preview.augmented
    upside_down = originals[:, :, ::-1, :]
    assert all(np.array_equal(draw, image) or np.allclose(draw, flipped)
               for image, flipped, draws in zip(originals, upside_down, augmented, strict=True) for draw in draws)
    assert each_draw_differs(originals, augmented).any()
    click_check_box(box.flip_vertical)

    type_into(box.noise, "0.2")
    assert box.config() == {"shift": 0, "rotation": 0.0, "flip_horizontal": False, "flip_vertical": False,
                            "noise": 0.2}
    originals, augmented = box.preview.originals, box.preview.augmented
    assert each_draw_differs(originals, augmented).all()
    assert augmented.min() >= 0 and augmented.max() <= 1  # shown as pixels: clipped to [0, 1]

    before = augmented.copy()
    click(box.shuffle_button)  # new draws of the same images
    assert np.array_equal(box.preview.originals, originals)
    assert not np.allclose(box.preview.augmented, before)

    type_into(box.noise, "0")
    assert not each_draw_differs(box.preview.originals, box.preview.augmented).any()


def test_colour_images_are_shown_in_colour():
    from app.dashboard.augmentation_preview import to_qimage

    red = np.zeros((3, 8, 8), dtype=np.float32)
    red[0] = 1.0
    image = to_qimage(red)
    assert image.pixelColor(3, 3).red() == 255 and image.pixelColor(3, 3).green() == 0
    grey = to_qimage(np.full((1, 8, 8), 0.5, dtype=np.float32))
    assert grey.pixelColor(3, 3).red() == grey.pixelColor(3, 3).green() == 128


def test_a_colour_set_is_previewed_in_colour(augmentation, qtbot):
    box = augmentation
    form = box.parentWidget()
    click_group_check(box)
    choose_in_combo(form.dataset, form.dataset.itemText(form.dataset.findData("colour-shapes")))
    qtbot.waitUntil(lambda: box.preview.originals is not None and box.preview.originals.shape[1] == 3,
                    timeout=TIMEOUT_MS)
    assert box.preview.augmented.shape == (4, 4, 3, 32, 32)
    picture = box.preview.tiles.grab().toImage()
    colours = {picture.pixelColor(x, y).getRgb()[:3] for x in range(0, picture.width(), 3)
               for y in range(0, picture.height(), 3)}
    assert any(max(rgb) - min(rgb) > 100 for rgb in colours)  # a saturated red, green or blue: not grey


def test_a_toy_set_turns_the_group_off_with_a_note(augmentation, qtbot):
    box = augmentation
    form = box.parentWidget()
    click_group_check(box)
    choose_in_combo(form.dataset, "spiral (2-D toy)")
    assert not box.isEnabled() and box.not_images.isVisible() and not box.body.isVisible()
    assert "augmentation is for images" in box.not_images.text().lower()
    assert form.settings().config.augment is False  # points are never augmented
    choose_in_combo(form.dataset, form.dataset.itemText(form.dataset.findData("mnist")))
    assert box.isEnabled() and box.body.isVisible() and not box.not_images.isVisible()


@pytest.fixture
def fashion_mnist_not_here(monkeypatch, tmp_path):
    """Fashion-MNIST as on a machine without a copy, and a download that fails the test if it is tried."""
    info = engine.datasets.REGISTRY["fashion-mnist"]
    monkeypatch.setitem(engine.datasets.REGISTRY, "fashion-mnist",
                        dataclasses.replace(info, system_folders=()))
    monkeypatch.setenv("LAYERLAB_DATA_DIR", str(tmp_path / "data"))
    tried = []
    real_load = engine.datasets.load

    def load(name, *args, download=True, **kwargs):
        tried.append((name, download))
        return real_load(name, *args, download=False, **kwargs)

    monkeypatch.setattr(engine.datasets, "load", load)
    return tried


def test_a_set_that_needs_a_download_is_not_downloaded_for_the_preview(augmentation, qtbot, fashion_mnist_not_here):
    box = augmentation
    form = box.parentWidget()
    click_group_check(box)
    preview_drawn(box, qtbot)
    choose_in_combo(form.dataset, form.dataset.itemText(form.dataset.findData("fashion-mnist")))
    qtbot.waitUntil(lambda: box.preview.message.text() == NEEDS_DOWNLOAD, timeout=TIMEOUT_MS)
    assert box.preview.message.isVisible() and not box.preview.tiles.isVisible() and box.preview.originals is None
    assert not any(name == "fashion-mnist" for name, _download in fashion_mnist_not_here)  # not even read


def test_the_sample_loads_off_the_gui_thread(augmentation, qtbot, monkeypatch):
    """While the data set is read (held here until the test lets it go), the group answers clicks and keys."""
    box = augmentation
    release = threading.Event()
    real_load = engine.datasets.load
    threads = []

    def slow_load(name, *args, **kwargs):
        threads.append(threading.current_thread())
        assert release.wait(timeout=30), "the test never let the load finish"
        return real_load(name, *args, **kwargs)

    monkeypatch.setattr(engine.datasets, "load", slow_load)
    started = time.perf_counter()
    click_group_check(box)
    type_into(box.rotation, "30")  # the GUI answers while the sample is still being read
    assert time.perf_counter() - started < 5
    qtbot.waitUntil(lambda: bool(threads), timeout=TIMEOUT_MS)
    assert threads[0] is not threading.main_thread()
    assert box.preview.message.text().startswith("Loading") and box.preview.originals is None
    assert box.rotation.value() == 30
    release.set()
    originals, augmented = preview_drawn(box, qtbot)
    assert each_draw_differs(originals, augmented).all()


# -- through the main window: the project, the run and the model file ---------------------------------------

def test_the_project_keeps_the_settings_and_opens_them_again(main_window, qtbot, tmp_path):
    open_workspace(main_window, "Train")
    form = main_window.dashboard.training_panel.form
    box = form.augmentation
    main_window.dashboard.training_panel.settings_scroll.ensureWidgetVisible(box)  # scrolled to, as a person does
    click_group_check(box)
    type_into(box.shift, "3")
    type_into(box.rotation, "25")
    click_check_box(box.flip_horizontal)
    type_into(box.noise, "0.1")
    wanted = {"shift": 3, "rotation": 25.0, "flip_horizontal": True, "flip_vertical": False, "noise": 0.1}
    assert main_window.editor.document.training_settings["augment"] == wanted
    path = tmp_path / "augmented.layerlab"
    assert main_window.project.save_to(path)
    assert json.loads(path.read_text(encoding="utf-8"))["training"]["augment"] == wanted

    main_window.project.new_network()
    assert not box.isChecked() and box.config() is False
    assert "augment" not in form.project_settings()
    assert main_window.project.open_file(path)
    assert box.isChecked() and box.body.isVisible()
    assert (box.shift.value(), box.rotation.value(), box.flip_horizontal.isChecked(), box.flip_vertical.isChecked(),
            box.noise.value()) == (3, 25.0, True, False, 0.1)
    assert form.settings().config.augment == wanted
    assert not form.refusals.isVisible()

    click_group_check(box)  # off again: the project no longer augments
    assert "augment" not in main_window.editor.document.training_settings


def test_bad_values_in_a_project_are_refused_in_words(main_window, tmp_path, seed_spec):
    path = tmp_path / "bad.layerlab"
    layout = {node["id"]: (0.0, 80.0 * i) for i, node in enumerate(seed_spec["nodes"])}
    write_project(path, seed_spec, layout, {"dataset": "mnist", "augment": {"shift": 2, "rotation": 400,
                                                                            "flip_vertical": "yes", "noise": -1,
                                                                            "rotate": 10}})
    assert main_window.project.open_file(path)
    form = main_window.dashboard.training_panel.form
    text = form.refusals.text()
    assert "training.augment.rotation: 400 is beyond the largest, 180; the form shows the default, off" in text
    assert 'training.augment.flip_vertical: "yes" is not true or false' in text
    assert "training.augment.noise: -1 is below the smallest, 0" in text
    assert ("training.augment.rotate: 10 is not one of the settings (shift, rotation, flip_horizontal, "
            "flip_vertical, noise); the form shows the default, off") in text
    box = form.augmentation
    assert box.isChecked() and box.config() == {"shift": 2, "rotation": 0.0, "flip_horizontal": False,
                                                "flip_vertical": False, "noise": 0.0}

    write_project(path, seed_spec, layout, {"dataset": "mnist", "augment": "lots"})
    assert main_window.project.open_file(path)
    assert 'training.augment: "lots" is neither true, false nor settings like' in form.refusals.text()
    assert not box.isChecked() and box.config() is False

    write_project(path, seed_spec, layout, {"dataset": "mnist", "augment": True})  # its meaning before dicts
    assert main_window.project.open_file(path)
    assert not form.refusals.isVisible()
    assert box.isChecked() and (box.shift.value(), box.rotation.value()) == (2, 10.0)


def test_a_run_with_augmentation_records_it_in_the_model_file(main_window, qtbot, tmp_path, monkeypatch):
    choose_from_menu(main_window, "File", "New from Template", "mlp-784-128-10")
    open_workspace(main_window, "Train")
    panel, controller = main_window.dashboard.training_panel, main_window.dashboard.controller
    form = panel.form
    type_into(form.train_limit, "200")
    type_into(form.epochs, "1")
    box = form.augmentation
    main_window.dashboard.training_panel.settings_scroll.ensureWidgetVisible(box)  # scrolled to, as a person does
    click_group_check(box)
    type_into(box.rotation, "15")
    click_check_box(box.flip_vertical)
    type_into(box.noise, "0.05")
    wanted = {"shift": 2, "rotation": 15.0, "flip_horizontal": False, "flip_vertical": True, "noise": 0.05}
    with qtbot.waitSignal(controller.run_finished, timeout=TIMEOUT_MS):
        click(panel.start_button)
    assert controller.run.settings.config.augment == wanted
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: (str(tmp_path / "model.llmodel"), ""))
    click(panel.save_button)  # the person picks tmp_path/model.llmodel in the dialog
    metadata = engine.load_checkpoint(tmp_path / "model.llmodel").metadata
    assert metadata["training"]["augment"] == wanted
