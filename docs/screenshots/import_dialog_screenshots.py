"""Screenshots of Data set > Import… (offscreen), for docs/screenshots/import-dialog*.png.

    QT_QPA_PLATFORM=offscreen python docs/screenshots/import_dialog_screenshots.py [out_dir]
    QT_SCALE_FACTOR=1.5 QT_QPA_PLATFORM=offscreen python docs/screenshots/import_dialog_screenshots.py /tmp/x

Writes 200 of the bundled MNIST digits as PNG files (20 per class, folders named after the digits) plus one
corrupt file, imports the folder in the dialog at 1280x720 and grabs it: the examples of each class, the
counts, the size, the importer's notes and the skipped file. Then the same for a folder of the generated
colour shapes (import-dialog-colour.png). The imported-sets store is a temporary folder: nothing is stored
in the user's.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

from event_wait import wait  # noqa: E402  (beside this script, on sys.path when it runs)

SIZE = (1280, 720)
PER_CLASS = 20


def write_pngs(folder: Path, images, labels, class_names, per_class: int) -> Path:
    """``per_class`` images of each class as folder/<class name>/<n>.png (uint8 (N, C, H, W) images)."""
    from PIL import Image

    for label, name in enumerate(class_names):
        (folder / name).mkdir(parents=True, exist_ok=True)
        chosen = [index for index in range(len(labels)) if labels[index] == label][:per_class]
        for number, index in enumerate(chosen):
            image = images[index]
            picture = Image.fromarray(image[0]) if image.shape[0] == 1 else Image.fromarray(image.transpose(1, 2, 0))
            picture.save(folder / name / f"{number:03d}.png")
    return folder


def grab_import(window, folder: Path, name: str, path: Path) -> None:
    dialog = window.data_set_menu.show_import()
    dialog.resize(*SIZE)
    dialog.name.clear()
    dialog.open_source(folder)
    wait(60, lambda: not dialog.jobs.busy)
    dialog.name.setText(name)
    wait(0.4)
    dialog.grab().save(str(path))


def main(out: Path) -> None:
    import engine
    from app.application import create_application
    from app.commands.offscreen_window import give_offscreen_a_large_screen
    from app.main_window import MainWindow
    from app.preferences import use_scratch_settings

    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="layerlab-import-shots-"))
    os.environ[engine.datasets.IMPORTED_DIR_ENV] = str(scratch / "store")
    use_scratch_settings()
    give_offscreen_a_large_screen()
    app = create_application()
    window = MainWindow()
    window.project.ask_to_save_changes = lambda: None
    window.show()

    mnist = engine.datasets.load("mnist")
    digits = write_pngs(scratch / "my-digits", mnist.train_images, mnist.train_labels,
                        [str(digit) for digit in range(10)], PER_CLASS)
    (digits / "7" / "scan-0042.png").write_bytes(b"\x89PNG\r\n\x1a\n cut off in the middle")
    grab_import(window, digits, "my-digits", out / "import-dialog.png")

    from engine.datasets.colour_shapes import COLOUR_SHAPES_CLASSES, make_colour_shapes

    images, labels, _test_images, _test_labels = make_colour_shapes(num_train=900, num_test=9)
    shapes = write_pngs(scratch / "colour-shapes", images, labels, COLOUR_SHAPES_CLASSES, 12)
    grab_import(window, shapes, "my-shapes", out / "import-dialog-colour.png")

    window.data_set_menu.shutdown()
    window.dashboard.shutdown()
    window.close()
    del window, app


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
