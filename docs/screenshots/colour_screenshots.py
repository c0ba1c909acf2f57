"""Screenshots of a colour model (offscreen): docs/screenshots/rgb-filters.png, rgb-activations.png, draw-image.png.

    python docs/screenshots/colour_screenshots.py [out_dir] [--scale 1.5] [--size 1280x720] [--epochs N]

Opens the main window, trains the colour CNN template (resources/examples/colour-cnn.json; a small 3x32x32
CNN of the same kind where that template is missing) on the generated colour shapes through Start, then
grabs the Filters tab (each first-layer kernel one colour picture), the Activations tab (the input in
colour), and the Draw dock in image mode after a colour-shapes picture, written as a PNG file, is dropped
on it as a file manager drops it. At a --scale other than 1 the file names get "@<scale>x".
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ARGS = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ARGS.add_argument("out", nargs="?", default=str(Path(__file__).resolve().parent))
ARGS.add_argument("--scale", type=float, default=1.0, help="QT_SCALE_FACTOR for the whole window")
ARGS.add_argument("--size", default="1280x720", help="the window's size in logical pixels")
ARGS.add_argument("--epochs", type=int, help="default: the template's")
OPTIONS = ARGS.parse_args()

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if OPTIONS.scale != 1.0:
    os.environ["QT_SCALE_FACTOR"] = str(OPTIONS.scale)  # read once, when the QApplication is made
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

# The CNN trained where the template has not landed: two 3x3 convolutions, as colour-cnn.json describes.
FALLBACK_SPEC = {"format": "layerlab-network", "version": 1, "name": "colour-cnn", "nodes": [
    {"id": "input", "type": "Input", "shape": [3, 32, 32]},
    {"id": "conv1", "type": "Conv2D", "filters": 16, "kernel_size": 3, "padding": "same", "activation": "relu"},
    {"id": "pool1", "type": "MaxPooling2D", "pool_size": 2},
    {"id": "conv2", "type": "Conv2D", "filters": 32, "kernel_size": 3, "padding": "same", "activation": "relu"},
    {"id": "pool2", "type": "MaxPooling2D", "pool_size": 2},
    {"id": "flatten", "type": "Flatten"},
    {"id": "hidden", "type": "Dense", "units": 64, "activation": "relu"},
    {"id": "logits", "type": "Dense", "units": 9}]}


def wait(app, seconds: float, until=lambda: False) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not until():
        app.processEvents()
        time.sleep(0.01)


def drop_file(widget, path: Path) -> None:
    """What a file manager's drop delivers: drag enter, move and drop events carrying the file's URL."""
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    for event_type in (QDragEnterEvent, QDragMoveEvent, QDropEvent):
        QApplication.sendEvent(widget, event_type(QPointF(widget.rect().center()), Qt.DropAction.CopyAction, mime,
                                                  Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))


def shapes_picture(folder: Path, index: int) -> Path:
    """A colour-shapes test picture, enlarged 4x, as a PNG someone might drop."""
    import numpy as np
    from PIL import Image

    from engine.datasets.colour_shapes import COLOUR_SHAPES_CLASSES, make_colour_shapes

    test_images, test_labels = make_colour_shapes(num_train=0, num_test=index + 1, seed=7)[2:]
    rgb = np.asarray(test_images[index]).transpose(1, 2, 0)
    path = folder / f"{COLOUR_SHAPES_CLASSES[int(test_labels[index])].replace(' ', '-')}.png"
    Image.fromarray(rgb).resize((128, 128), Image.Resampling.NEAREST).save(path)
    return path


def main() -> None:
    from PySide6.QtWidgets import QMessageBox

    import resources
    from app.application import create_application
    from app.commands.offscreen_window import give_offscreen_a_large_screen
    from app.main_window import MainWindow
    from app.preferences import use_scratch_settings

    out = Path(OPTIONS.out)
    out.mkdir(parents=True, exist_ok=True)
    suffix = "" if OPTIONS.scale == 1.0 else f"@{OPTIONS.scale:g}x"
    width, height = (int(size) for size in OPTIONS.size.lower().split("x"))
    use_scratch_settings()  # the default layout; the person's own settings are left alone
    give_offscreen_a_large_screen()  # the window never opens larger than its screen; offscreen's is 800x800
    app = create_application()
    window = MainWindow()
    window.project.ask_to_save_changes = lambda: QMessageBox.StandardButton.Discard
    scratch = Path(tempfile.mkdtemp(prefix="layerlab-colour-shots-"))
    if "colour-cnn" in resources.examples():
        window.project.open_template("colour-cnn")
    else:
        spec_path = scratch / "colour-cnn.json"
        spec_path.write_text(json.dumps(FALLBACK_SPEC), encoding="utf-8")
        window.project.open_file(spec_path)
    window.resize(width, height)
    window.show()
    dashboard = window.dashboard
    form = dashboard.training_panel.form
    form.select_dataset("colour-shapes")
    if "colour-cnn" not in resources.examples():
        form.learning_rate.setValue(1e-3)  # a network file brings no settings; the template's learn the set
    if OPTIONS.epochs:
        form.epochs.setValue(OPTIONS.epochs)
    dashboard.training_panel.start()  # Start opens the Train workspace
    controller = dashboard.controller
    wait(app, 900, until=lambda: controller.run is not None and controller.state == "finished")
    history = controller.run.history
    if history:
        print(f"trained {len(history)} epochs: validation accuracy {history[-1].val_accuracy}")

    dashboard.views.setCurrentWidget(dashboard.filters)
    wait(app, 1.5)
    window.grab().save(str(out / f"rgb-filters{suffix}.png"))
    dashboard.views.setCurrentWidget(dashboard.activations)
    activations = dashboard.activations
    wait(app, 30, until=lambda: "predicted" in activations.caption.text())
    wait(app, 1.0)
    window.grab().save(str(out / f"rgb-activations{suffix}.png"))

    panel, dock = window.draw_panel, window.draw_dock
    wait(app, 10, until=lambda: panel.image_shape is not None)
    drop_file(panel.image_input.pad, shapes_picture(scratch, 3))
    wait(app, 30, until=lambda: panel.image_input.picture is not None and panel.reading_is_current
         and panel.probabilities.any())
    panel.saliency_button.setChecked(True)
    wait(app, 30, until=lambda: panel.heat is not None)
    wait(app, 0.5)
    dock.grab().save(str(out / f"draw-image{suffix}.png"))
    assert dashboard.shutdown()
    window.close()


if __name__ == "__main__":
    main()
