"""File > Export > ONNX… / PyTorch Code… / Keras Code… in the real window: the design on the canvas goes out with
the best weights the app has for it (the run's once a run trained it, else seeded initial ones), written off the
GUI thread by the real exporters; the dialog lists the files written, says how to run them, names a missing extra,
and refuses an invalid design in the engine's words."""

import re
import sys
import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

import engine
from tests.app.gui_helpers import choose_from_menu, click, click_node, open_workspace, type_into, wait_until_shown

TIMEOUT_MS = 120_000
INSTALL_WORDS = "part of LayerLab's 'export' extra: pip install 'layerlab[export]'"


def open_export(window, item: str, key: str):
    choose_from_menu(window, "File", "Export", item)
    dialog = window.export_menu.dialogs[key]
    wait_until_shown(dialog)
    return dialog


def choose_output(dialog, monkeypatch, path) -> None:
    """Choose… and the person picks ``path`` in the Save As dialog."""
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: (str(path), ""))
    click(dialog.choose_button)


def export_and_wait(qtbot, dialog) -> list:
    click(dialog.export_button)
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=TIMEOUT_MS)
    return dialog.written


def mnist_images(count: int = 32) -> np.ndarray:
    return engine.datasets.load("mnist").test_images[:count].astype(np.float32) / 255.0


def onnx_outputs(path, images) -> np.ndarray:
    onnxruntime = pytest.importorskip("onnxruntime")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["output"], {"input": images})[0]


def test_onnx_export_of_the_seed_cnn_is_written_off_the_gui_thread_and_runs_like_the_engine(
        main_window, qtbot, monkeypatch, tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from engine.export import onnx_export

    threads = []
    real_export = onnx_export.export_onnx

    def watched(*args, **kwargs):  # the real exporter, noting the thread it ran on
        threads.append(threading.current_thread())
        return real_export(*args, **kwargs)

    monkeypatch.setattr(onnx_export, "export_onnx", watched)
    dialog = open_export(main_window, "ONNX…", "onnx")
    assert dialog.what_label.text() == "<b>seed-cnn</b> on the canvas, untrained: initial weights, seed 0."
    assert "Netron" in dialog.usage_box.toPlainText() and "onnxruntime" in dialog.usage_box.toPlainText()
    choose_output(dialog, monkeypatch, tmp_path / "seed")  # typed without the suffix: .onnx is added
    assert dialog.path_edit.text() == str(tmp_path / "seed.onnx")

    written = export_and_wait(qtbot, dialog)
    assert written == [tmp_path / "seed.onnx"]
    assert threads and threads[0] is not threading.main_thread()
    assert str(tmp_path / "seed.onnx") in dialog.result_label.text()
    assert dialog.result_label.text().startswith("Exported seed-cnn, untrained: initial weights, seed 0. Wrote 1 file")
    images = mnist_images()
    expected = engine.Network(main_window.editor.document.spec(), seed=0, xp=np).predict(images)
    np.testing.assert_allclose(onnx_outputs(written[0], images), expected, atol=1e-5)


def test_after_a_short_run_the_exported_weights_are_the_runs(main_window, qtbot, monkeypatch, tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    controller, form = main_window.dashboard.controller, main_window.dashboard.training_panel.form
    open_workspace(main_window, "Train")
    type_into(form.train_limit, "500")
    type_into(form.epochs, "1")
    with qtbot.waitSignal(controller.run_finished, timeout=TIMEOUT_MS):
        click(main_window.dashboard.training_panel.start_button)
    run = controller.run
    step = run.latest_snapshot.step

    dialog = open_export(main_window, "ONNX…", "onnx")
    assert dialog.what_label.text() == f"<b>seed-cnn</b> on the canvas, with run 1's weights (step {step:,})."
    choose_output(dialog, monkeypatch, tmp_path / "trained.onnx")
    written = export_and_wait(qtbot, dialog)
    images = mnist_images()
    np.testing.assert_allclose(onnx_outputs(written[0], images), run.latest_network().predict(images), atol=1e-5)
    untrained = engine.Network(run.spec, seed=0, xp=np).predict(images)
    assert np.abs(run.latest_network().predict(images) - untrained).max() > 1e-3  # the run's weights, not seed 0's


def test_pytorch_code_writes_the_script_and_its_weights_and_shows_the_torchrun_lines(
        main_window, qtbot, monkeypatch, tmp_path):
    pytest.importorskip("safetensors")
    open_workspace(main_window, "Train")
    type_into(main_window.dashboard.training_panel.form.epochs, "3")  # the project's settings go with the code
    dialog = open_export(main_window, "PyTorch Code…", "pytorch")
    assert dialog.training_label.text().startswith("mnist, 3 epochs, batch 50, adam lr=0.0001")
    qtbot.waitUntil(lambda: not dialog.tasks.busy, timeout=TIMEOUT_MS)  # the GPUs torch sees, counted
    type_into(dialog.gpus_box, "3")
    type_into(dialog.nodes_box, "4")
    choose_output(dialog, monkeypatch, tmp_path / "digits.py")
    lines = dialog.usage_box.toPlainText().splitlines()
    assert "python digits.py" in lines
    assert "torchrun --nproc_per_node 3 digits.py" in lines
    assert ("torchrun --nnodes 4 --nproc_per_node 3 --rdzv_backend c10d --rdzv_endpoint HOST:29500 digits.py"
            in lines)
    click(dialog.copy_button)
    assert QGuiApplication.clipboard().text() == dialog.usage_box.toPlainText()

    written = export_and_wait(qtbot, dialog)
    assert sorted(written) == [tmp_path / "digits.py", tmp_path / "digits.safetensors"], \
        dialog.result_label.text()
    assert all(path.is_file() and path.stat().st_size > 0 for path in written)
    script = (tmp_path / "digits.py").read_text(encoding="utf-8")
    assert re.search(r"^EPOCHS = 3$", script, re.MULTILINE)  # the project's 3 epochs, not the default 10
    text = dialog.result_label.text()
    assert "Wrote 2 files" in text and str(tmp_path / "digits.py") in text and str(tmp_path / "digits.safetensors") \
        in text


def test_keras_code_writes_the_script_and_says_how_to_pick_the_backend(main_window, qtbot, monkeypatch, tmp_path):
    pytest.importorskip("safetensors")
    dialog = open_export(main_window, "Keras Code…", "keras")
    assert "KERAS_BACKEND=torch python" in dialog.usage_box.toPlainText()
    choose_output(dialog, monkeypatch, tmp_path / "digits-keras.py")
    written = export_and_wait(qtbot, dialog)
    assert tmp_path / "digits-keras.py" in written and len(written) >= 2, dialog.result_label.text()
    assert all(path.is_file() for path in written)


def test_a_missing_extra_is_named_and_nothing_else_breaks(main_window, qtbot, monkeypatch, tmp_path):
    pytest.importorskip("onnx")
    dialog = open_export(main_window, "ONNX…", "onnx")
    choose_output(dialog, monkeypatch, tmp_path / "seed.onnx")
    with monkeypatch.context() as without_onnx:
        without_onnx.setitem(sys.modules, "onnx", None)  # `import onnx` fails, as where it is not installed
        assert export_and_wait(qtbot, dialog) == []
    assert dialog.result_label.text() == ("Nothing was exported: ONNX export needs the onnx package, " + INSTALL_WORDS)
    assert [path.name for path in tmp_path.iterdir() if path.is_file()] == []  # no file, no temporary left
    assert dialog.export_button.isEnabled()
    assert export_and_wait(qtbot, dialog) == [tmp_path / "seed.onnx"]  # installed again: it exports


def test_an_invalid_design_is_refused_in_the_engines_words(main_window, qtbot):
    click_node(main_window, "flatten")
    QTest.keyClick(main_window.canvas, Qt.Key.Key_Delete)
    document = main_window.editor.document
    assert "flatten" not in document.node_ids() and document.report.errors
    dialog = open_export(main_window, "PyTorch Code…", "pytorch")
    words = str(document.report.errors[0])
    assert dialog.problem_label.isVisible() and dialog.problem_label.text() == f"Cannot export: {words}"
    assert not dialog.export_button.isEnabled() and dialog.export_button.toolTip() == f"Cannot export: {words}"

    QTest.keyClick(main_window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # valid again:
    assert "flatten" in document.node_ids()  # the open dialog follows
    assert not dialog.problem_label.isVisible() and dialog.export_button.isEnabled()


def test_a_design_opened_from_onnx_goes_out_with_its_imported_weights(main_window, qtbot, monkeypatch, tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from engine.export.onnx_export import export_onnx

    network = engine.Network(main_window.editor.document.spec(), seed=7, xp=np)  # weights no seed 0 would give
    opened = export_onnx(network, tmp_path / "seed-seven.onnx")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: (str(opened), ""))
    choose_from_menu(main_window, "File", "Open…")
    qtbot.waitUntil(lambda: main_window.editor.document.name == "seed-seven", timeout=TIMEOUT_MS)

    dialog = open_export(main_window, "ONNX…", "onnx")
    assert dialog.what_label.text() == ("<b>seed-seven</b> on the canvas, with the weights imported from "
                                        "seed-seven.onnx.")
    choose_output(dialog, monkeypatch, tmp_path / "again.onnx")
    written = export_and_wait(qtbot, dialog)
    images = mnist_images()
    np.testing.assert_allclose(onnx_outputs(written[0], images), network.predict(images), atol=1e-5)


def test_typing_a_path_from_its_first_character_never_fails(main_window, qtbot, tmp_path):
    """Typed out character by character, the path is "/" at first: it has no name to add ".py" to (that raised
    inside the dialog's slot, once per keystroke)."""
    dialog = open_export(main_window, "PyTorch Code…", "pytorch")
    QTest.mouseClick(dialog.path_edit, Qt.MouseButton.LeftButton)
    QTest.keyClick(dialog.path_edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(dialog.path_edit, str(tmp_path / "typed"))
    assert dialog.output_path() == tmp_path / "typed.py"
    assert "python typed.py" in dialog.usage_box.toPlainText().splitlines()
