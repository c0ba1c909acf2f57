"""Screenshots of the network designer (offscreen), for docs/screenshots/ and the README.

    QT_QPA_PLATFORM=offscreen python docs/screenshots/designer_screenshots.py [out_dir]

designer-seed-cnn.png    the window a new session opens on, with conv2 selected in the inspector
designer-invalid.png     a design with three mistakes: error-styled nodes, the problems list, the summary
designer-connecting.png  mid-drag from pool2's output: ports that would break the design refuse, with the reason
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from app.application import create_application
from app.commands.offscreen_window import give_offscreen_a_large_screen
from app.main_window import MainWindow
from app.preferences import use_scratch_settings

SIZE = (1280, 800)
INVALID_DESIGN = {
    "format": "layerlab-network", "version": 1, "name": "broken-cnn",
    "nodes": [
        {"id": "input", "type": "Input", "shape": [1, 28, 28]},
        {"id": "conv1", "type": "Conv2D", "filters": 16, "kernel_size": 5, "activation": "relu"},
        {"id": "pool1", "type": "MaxPooling2D"},
        {"id": "conv2", "type": "Conv2D", "filters": 32, "kernel_size": 15, "activation": "relu"},
        {"id": "conv3", "type": "Conv2D", "filters": 32, "kernel_size": 3, "activation": "relu"},
        {"id": "fc1", "type": "Dense", "units": 128, "activation": "relu"},
        {"id": "logits", "type": "Dense", "units": 10},
    ],
    "edges": [["input", "conv1"], ["conv1", "pool1"], ["pool1", "conv2"], ["pool1", "conv3"], ["conv3", "fc1"],
              ["fc1", "logits"], ["conv2", "logits"]],
}


def settle(app: QApplication, ms: int = 300) -> None:
    """Run the event loop a moment, so layouts and paints catch up (as `layerlab screenshot` does)."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def shoot(window: MainWindow, app: QApplication, path: Path) -> None:
    settle(app)
    window.grab().save(str(path))
    print(f"saved {path}")


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    use_scratch_settings()  # the default layout, and closing the window must not overwrite the user's saved one
    give_offscreen_a_large_screen()  # the window never opens larger than its screen; offscreen's is 800x800
    app = create_application()
    window = MainWindow()
    window.resize(*SIZE)
    window.show()
    settle(app)
    window.scene.select_nodes(["conv2"])
    shoot(window, app, out / "designer-seed-cnn.png")

    window.editor.open_spec(INVALID_DESIGN)
    window.canvas.fit_to_view()
    window.scene.select_nodes(["conv2"])
    shoot(window, app, out / "designer-invalid.png")

    window.project.open_template("seed-cnn")
    window.editor.add_node("Flatten", (-260, 200))
    dense = window.editor.add_node("Dense", (260, 280))
    window.canvas.fit_to_view()
    settle(app)
    drag = window.scene.start_connection(window.scene.node_items["pool2"].output_port)
    reason = drag.move_to(window.scene.node_items[dense].input_port.scenePos())
    window.statusBar().showMessage(f"Refused: {reason}")
    shoot(window, app, out / "designer-connecting.png")
    drag.cancel()
    window.editor.mark_saved()
    window.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)
