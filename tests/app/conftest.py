"""App tests run offscreen (no display, no windows popping up) unless QT_QPA_PLATFORM says otherwise."""

import os

# Must happen before pytest-qt creates the QApplication, which reads it once.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture
def main_window(qtbot):
    from app.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.fixture
def network_file(tmp_path):
    """A small valid network file, as written by hand from issue 3's format."""
    path = tmp_path / "tiny-mlp.json"
    path.write_text(
        '{"format": "layerlab-network", "version": 1, "name": "tiny-mlp", "nodes": ['
        '{"id": "input", "type": "Input", "shape": [784]}, {"id": "hidden", "type": "Dense", "units": 32, '
        '"activation": "relu"}, {"id": "logits", "type": "Dense", "units": 10}]}',
        encoding="utf-8",
    )
    return path
