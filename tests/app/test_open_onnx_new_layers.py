"""File > Open of an .onnx file holding issue 24's operators (LSTM, Resize, ConvTranspose, Reshape): the design
goes on the canvas with LayerLab's layers, the imported weights give the exported network's outputs, and an
autoencoder keeps its task (loss and target) so it trains as one."""

from __future__ import annotations

import json

import numpy as np
import pytest

import engine
from tests.app.gui_helpers import choose_from_menu

onnx = pytest.importorskip("onnx")

READ_TIMEOUT_MS = 30_000


def answer_open_dialog(monkeypatch, path):
    monkeypatch.setattr("app.file_dialogs.QFileDialog.getOpenFileName",
                        lambda parent, caption, folder, filters: (str(path), filters.split(";;")[0]))


def exported_template(name, tmp_path):
    """The template ``name`` with seeded weights (every bias seeded noise too) exported to <name>-out.onnx."""
    from engine.export.onnx_export import export_onnx
    from resources import path as resource

    network = engine.build(json.loads(resource(f"examples/{name}.json").read_text(encoding="utf-8")), seed=2)
    state = network.state_dict()
    rng = np.random.default_rng(3)
    for key, value in state.items():
        if key.endswith("bias"):
            state[key] = rng.normal(0.0, 0.5, value.shape).astype(value.dtype)
    network.load_state_dict(state)
    return export_onnx(network, tmp_path / f"{name}-out.onnx"), network


@pytest.mark.parametrize(("name", "types"), [
    ("lstm-mnist-rows", ["Input", "Reshape", "LSTM", "Dense"]),
    ("conv-autoencoder", ["Input", "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Conv2DTranspose",
                          "Conv2DTranspose", "Conv2D"]),
])
def test_an_exported_template_opens_on_the_canvas_with_its_layers_weights_and_task(
        main_window, qtbot, monkeypatch, tmp_path, name, types):
    path, network = exported_template(name, tmp_path)
    answer_open_dialog(monkeypatch, path)

    choose_from_menu(main_window, "File", "Open…")

    document = main_window.editor.document
    qtbot.waitUntil(lambda: document.name == f"{name}-out", timeout=READ_TIMEOUT_MS)
    spec = document.spec()
    assert document.node_ids() == list(network.order)
    assert [node["type"] for node in spec["nodes"]] == types
    assert {key: spec.get(key) for key in ("loss", "target")} == \
           {key: network.spec.get(key) for key in ("loss", "target")}
    imported = main_window.project.imported_model
    assert imported is not None and imported.file_name == path.name
    opened = engine.Network(spec, xp=np)
    opened.load_state_dict(imported.weights)
    images = np.random.default_rng(4).random((3, 1, 28, 28), dtype=np.float32)
    np.testing.assert_array_equal(opened.predict(images), network.predict(images))
