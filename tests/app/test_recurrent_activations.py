"""A recurrent layer in the Activations view (issue 24): after a short run of a network reading MNIST's rows as
steps (Reshape [28, 28] -> LSTM), the LSTM's cell shows its hidden state over the 28 steps as one image, steps
across and units down, on axes labelled "step" and "unit"; Random shows another test digit's states. A layer
that returns the whole sequence shows the same picture."""

import numpy as np
from PySide6.QtWidgets import QLabel, QMainWindow

import engine
from app.dashboard import install_dashboard
from app.dashboard.activations_panel import ActivationsPanel
from app.run_state import ActiveRun
from tests.app.gui_helpers import click, click_tab, type_into

TIMEOUT_MS = 120_000
UNITS = 12


def rows_as_steps(layer: str = "LSTM", return_sequences: bool = False) -> dict:
    nodes = [{"id": "input", "type": "Input", "shape": [1, 28, 28]},
             {"id": "rows", "type": "Reshape", "target_shape": [28, 28]},
             {"id": "recurrent", "type": layer, "units": UNITS, "return_sequences": return_sequences}]
    if return_sequences:
        nodes.append({"id": "flatten", "type": "Flatten"})
    nodes.append({"id": "logits", "type": "Dense", "units": 10})
    return {"format": "layerlab-network", "version": 1, "name": f"{layer.lower()}-rows", "nodes": nodes}


def states_of(spec, weights, image) -> np.ndarray:
    """The recurrent node's hidden states (steps, units) for one image, as the engine computes them."""
    network = engine.Network(spec, xp=np)
    network.load_state_dict(weights)
    network.forward(image[None], training=False, return_all=True)
    return network.hidden_states("recurrent")[0]


def shown_states(panel) -> np.ndarray | None:
    image = panel.hidden_state_images.get("recurrent")
    return None if image is None else image.image


def test_after_a_short_lstm_run_activations_show_its_hidden_state_over_the_steps(qtbot):
    spec = rows_as_steps("LSTM")
    window = QMainWindow()
    window.setCentralWidget(QLabel("canvas"))
    dashboard = install_dashboard(window, lambda: spec, lambda: "mnist")
    form = dashboard.training_panel.form
    type_into(form.train_limit, "200")
    type_into(form.epochs, "1")
    window.resize(1280, 800)
    window.show()
    try:
        with qtbot.waitSignal(dashboard.controller.run_finished, timeout=TIMEOUT_MS):
            click(dashboard.training_panel.start_button)
        run = dashboard.controller.run
        panel = dashboard.activations
        click_tab(dashboard.views.tabBar(), "Activations")
        weights = run.latest_snapshot.weights

        def shows(example: int) -> bool:
            states = shown_states(panel)
            return states is not None and f"step {run.latest_snapshot.step}" in panel.caption.text() and \
                np.allclose(states, states_of(spec, weights, run.data.test_images[example]).T, atol=1e-5)

        qtbot.waitUntil(lambda: shows(panel.example.value()), timeout=TIMEOUT_MS)
        assert shown_states(panel).shape == (UNITS, 28)  # one row a unit, one column a step
        plot = panel.hidden_state_plots["recurrent"]
        assert plot.getAxis("bottom").labelText == "step" and plot.getAxis("left").labelText == "unit"
        assert panel.node_labels["recurrent"].text.startswith("recurrent hidden state: 28 steps x 12 units")
        assert "hidden state at each step" in panel.caption.text()
        assert "predicted" in panel.caption.text()  # a classifier still says what it read

        before = panel.example.value()
        for _ in range(5):  # Random may land on the same example; a few clicks cannot all
            click(panel.random_button)
            if panel.example.value() != before:
                break
        assert panel.example.value() != before
        qtbot.waitUntil(lambda: shows(panel.example.value()), timeout=TIMEOUT_MS)
    finally:
        assert dashboard.shutdown(timeout_ms=20_000)
        window.close()
        window.deleteLater()


def test_a_gru_returning_its_sequence_shows_the_same_steps_by_units_picture(qtbot):
    spec = rows_as_steps("GRU", return_sequences=True)
    weights = engine.Network(spec, seed=3).state_dict()
    panel = ActivationsPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    panel.begin_run(ActiveRun.of_model(spec, weights, [str(digit) for digit in range(10)], "model"))
    digit = np.zeros((1, 28, 28), dtype=np.float32)
    digit[0, 4:24, 12:16] = 1.0  # a drawn "1"
    panel.show_example(digit)
    expected = states_of(spec, weights, digit).T
    qtbot.waitUntil(lambda: shown_states(panel) is not None and np.allclose(shown_states(panel), expected, atol=1e-5),
                    timeout=TIMEOUT_MS)
    assert shown_states(panel).shape == (UNITS, 28)
    assert "the drawn image" in panel.caption.text()
