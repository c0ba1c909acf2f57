"""File > Open takes an .onnx file: its network goes on the canvas as a new unsaved project, and the Draw pad
reads with its imported weights; a file with operators LayerLab lacks is refused in words, the open project
kept."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from tests.app.draw_helpers import draw_stroke, seven_points, wait_for_reading
from tests.app.gui_helpers import choose_from_menu, click

onnx = pytest.importorskip("onnx")

READ_TIMEOUT_MS = 30_000


def answer_open_dialog(monkeypatch, path):
    monkeypatch.setattr("app.file_dialogs.QFileDialog.getOpenFileName",
                        lambda parent, caption, folder, filters: (str(path), filters.split(";;")[0]))


@pytest.fixture
def exported_seed_cnn(tmp_path):
    """The bundled seed CNN with its last layer's weights halved (so its probabilities are its own, not the
    bundled model's), exported to seed-halved.onnx; (path, the network)."""
    from engine.export.onnx_export import export_onnx
    from resources import path as resource

    network = engine.load(resource("models/seed-cnn-mnist.llmodel"))
    state = network.state_dict()
    state["logits.kernel"] = state["logits.kernel"] * 0.5
    network.load_state_dict(state)
    return export_onnx(network, tmp_path / "seed-halved.onnx"), network


def test_an_exported_seed_cnn_opens_on_the_canvas_and_the_pad_reads_with_its_weights(main_window, qtbot, monkeypatch,
                                                                                      exported_seed_cnn):
    path, network = exported_seed_cnn
    answer_open_dialog(monkeypatch, path)

    choose_from_menu(main_window, "File", "Open…")

    document = main_window.editor.document
    qtbot.waitUntil(lambda: document.name == "seed-halved", timeout=READ_TIMEOUT_MS)
    assert document.node_ids() == list(network.order)
    ys = [document.position(node)[1] for node in network.order]
    assert ys == sorted(ys)  # laid out top to bottom, as a bare network file is
    assert main_window.project.path is None and not main_window.isWindowModified()
    assert main_window.windowTitle() == "seed-halved[*] — LayerLab"

    panel = main_window.draw_panel
    assert panel.note.text() == "Read by seed-halved with the weights imported from seed-halved.onnx."
    assert not panel.reads_bundled_model
    draw_stroke(panel.pad, seven_points())
    wait_for_reading(qtbot, panel)
    logits = network.predict(panel.digit[np.newaxis, np.newaxis].astype(np.float32))
    expected = network.output_head.probabilities(logits)[0]
    np.testing.assert_allclose(panel.probabilities, expected, atol=1e-5)

    click(panel.activations_button)  # the dashboard's Activations view reads with the same imported weights
    activations = main_window.dashboard.activations
    qtbot.waitUntil(lambda: activations.caption.text().startswith("the drawn image: predicted "),
                    timeout=READ_TIMEOUT_MS)
    assert activations.run.is_model and activations.run.name == "seed-halved"
    assert activations.run.latest_snapshot.weights is main_window.project.imported_model.weights


def test_an_edit_hands_the_pad_back_to_the_bundled_model(main_window, qtbot, exported_seed_cnn):
    path, _ = exported_seed_cnn
    assert main_window.project.open_file(path)
    panel = main_window.draw_panel
    qtbot.waitUntil(lambda: "imported from seed-halved.onnx" in panel.note.text(), timeout=READ_TIMEOUT_MS)

    main_window.editor.add_node_after("BatchNormalization", "conv1")  # no longer the design the weights fit

    assert panel.reads_bundled_model
    assert "imported" not in panel.note.text()


def test_a_file_with_operators_layerlab_lacks_is_refused_and_the_open_project_kept(main_window, qtbot, monkeypatch,
                                                                                    tmp_path):
    from onnx import TensorProto, helper
    from PySide6.QtWidgets import QMessageBox

    graph = helper.make_graph(
        [helper.make_node("Relu", ["input"], ["r"], name="relu1"),
         helper.make_node("Sin", ["r"], ["output"], name="wave1")], "g",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1, 28, 28])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", "c", "h", "w"])])
    path = tmp_path / "sine.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: warnings.append((title, text)))
    main_window.editor.add_node("Flatten", (300, 0))  # unsaved work that must survive
    before = main_window.editor.document.spec()
    answer_open_dialog(monkeypatch, path)

    choose_from_menu(main_window, "File", "Open…")

    qtbot.waitUntil(lambda: bool(warnings), timeout=READ_TIMEOUT_MS)
    title, text = warnings[0]
    assert title == "Cannot open file"
    assert text.startswith(f"{path}: LayerLab has no layer for these operators: Sin (node wave1); supported:")
    assert main_window.editor.document.spec() == before and main_window.isWindowModified()
    assert main_window.project.imported_model is None


def test_a_run_of_the_imported_design_wins_over_the_imported_weights():
    from types import SimpleNamespace

    from app.draw.network_choice import choose_pad_network
    from app.run_state import ImportedModel
    from resources import path as resource

    network = engine.load(resource("models/seed-cnn-mnist.llmodel"))
    spec = network.spec
    report = engine.infer_shapes(spec)
    imported = ImportedModel(spec, network.state_dict(), "model.onnx")
    assert choose_pad_network(spec, report, None, imported).source == "imported"

    run = SimpleNamespace(spec=spec, number=2, latest_snapshot=SimpleNamespace(step=40))
    assert choose_pad_network(spec, report, run, imported).source == "run"  # trained since it was imported

    edited = spec | {"nodes": spec["nodes"][:-1], "edges": spec["edges"][:-1]}  # the last layer removed
    assert choose_pad_network(edited, engine.infer_shapes(edited), None, imported).source == "bundled"
