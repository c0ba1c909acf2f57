"""``layerlab --smoke-test [OUT.png]``: start the app as a first launch would, offscreen, check what a new
user meets, render the window, and exit 0 when all is well (1, naming each failure, when not).

It is how a build is checked: the installed app in a fast test (tests/app/test_packaging.py), and the
frozen one by packaging/build.py. Checked: the version is known; the window opens on the seed CNN with
MNIST selected and the first-run guide showing; the icon loads; the bundled model is loaded; the
bundled MNIST is found offline and the model reads its test digits; a digit drawn with the mouse is read
right; and the window renders to a picture that is not blank. Settings are scratch ones: the person's
own are neither read nor changed.
"""

from __future__ import annotations

import os
import sys
import time

from app.commands.command_error import CommandError
from app.commands.screenshot import check_writable

SIZE = (1280, 800)
MNIST_EXAMPLES = 200  # enough to tell a working model (99%) from a broken one (10%) in well under a second
MIN_MNIST_ACCURACY = 0.95
DRAWN_DIGIT = 7
DRAWING_TIMEOUT_S = 20.0  # the Draw panel may read in a process of its own, which takes a moment to start
BUNDLED_MODEL = "models/seed-cnn-mnist.llmodel"
MIN_COLOURS = 50  # a real render has text, icons and plots; a blank or black window has one or two


def run(picture_path: str | None = None) -> int:
    started = time.monotonic()
    picture = check_writable(picture_path) if picture_path else None  # a bad path fails before Qt starts
    if not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # never flash a window, even on a desktop
    from app.commands import offscreen_window

    qt_app, window = offscreen_window.open_main_window()
    failures: list[str] = []
    notes: list[str] = []

    def check(passed: bool, failure: str) -> bool:
        if not passed:
            failures.append(failure)
        return passed

    try:
        window.resize(*SIZE)
        window.show()
        guide_shown = window.show_guide_on_first_run()
        offscreen_window.settle()
        check_first_launch(window, guide_shown, check)
        check_bundled_data(check, notes)
        check_drawing(qt_app, window, check, notes)
        pixmap = offscreen_window.render(window)
        check_render(pixmap, check, notes)
        if picture is not None:
            save_picture(pixmap, picture)
            notes.append(f"picture saved to {picture}")
    finally:
        offscreen_window.close_without_asking(window)

    from app.version import package_version

    version = package_version()
    check(version != "unknown", "the version is unknown (no package metadata and no pyproject.toml)")
    frozen = "frozen (PyInstaller)" if getattr(sys, "frozen", False) else "installed"
    print(f"LayerLab {version}, {frozen}, {sys.executable}")
    for note in notes:
        print(f"  {note}")
    elapsed = time.monotonic() - started
    if failures:
        for failure in failures:
            print(f"smoke test FAILED: {failure}", file=sys.stderr)
        return 1
    print(f"smoke test passed in {elapsed:.1f} s")
    return 0


def save_picture(pixmap, path) -> None:
    import engine
    from app.commands.offscreen_window import png_bytes

    data = png_bytes(pixmap)
    try:
        engine.atomic_write(path, lambda handle: handle.write(data))
    except OSError as error:
        raise CommandError(f"cannot write {path}: {error.strerror or error}") from None


def check_first_launch(window, guide_shown: bool, check) -> None:
    from app.application import app_icon

    document = window.editor.document
    check(len(document.node_ids()) == 9 and document.name == "seed-cnn",
          f"the window opened on {document.name!r} with {len(document.node_ids())} layers, not the seed CNN")
    selected = window.dashboard.training_panel.form.dataset.currentData()
    check(selected == "mnist", f"the data set selected is {selected!r}, not MNIST")
    check(guide_shown and window.guide.isVisible(), "the first-run guide did not show on a first launch")
    check(not app_icon().pixmap(64, 64).isNull(), "the application icon did not load")


def check_bundled_data(check, notes: list[str]) -> None:
    """The bundled model and MNIST are found offline, inside the app, and the model reads MNIST's test digits."""
    import numpy as np

    import engine
    import resources

    try:
        model = engine.load(resources.path(BUNDLED_MODEL))
    except (OSError, engine.ModelFileError) as error:
        check(False, f"the bundled model could not be loaded: {error}")
        return
    status = next((s for s in engine.datasets.list_datasets() if s.name == "mnist"), None)
    if not check(status is not None and status.available_offline, "MNIST is not available offline"):
        return
    notes.append(f"MNIST found in {status.location}")
    try:
        mnist = engine.datasets.load("mnist", download=False)
    except engine.datasets.DatasetError as error:
        check(False, f"MNIST could not be read: {error}")
        return
    images = np.asarray(mnist.test_images[:MNIST_EXAMPLES], dtype=np.float32) / 255.0
    labels = np.asarray(mnist.test_labels[:MNIST_EXAMPLES])
    logits = engine.backend.to_host(model.forward(engine.backend.to_device(images), training=False))
    accuracy = float((np.asarray(logits).argmax(axis=1) == labels).mean())
    notes.append(f"the bundled model reads {accuracy:.1%} of the first {MNIST_EXAMPLES} MNIST test digits")
    check(accuracy >= MIN_MNIST_ACCURACY,
          f"the bundled model reads only {accuracy:.1%} of MNIST test digits (expected {MIN_MNIST_ACCURACY:.0%}+)")


def check_drawing(qt_app, window, check, notes: list[str]) -> None:
    """A digit drawn with the mouse is read right by the Draw panel, with the model it opened with."""
    from app.commands.drawn_digits import draw_digit, wait_for_reading

    panel = window.draw_panel
    draw_digit(panel.pad, DRAWN_DIGIT)
    read = wait_for_reading(qt_app, panel, DRAWING_TIMEOUT_S)
    if check(read == DRAWN_DIGIT, f"a {DRAWN_DIGIT} drawn on the pad was read as {read} ({panel.note.text()})"):
        # Where it was read: a frozen app that cannot start its reader process falls back to a thread.
        notes.append(f"a {DRAWN_DIGIT} drawn on the Draw pad is read as {read} (reader in a {panel.reader.mode})")


def check_render(pixmap, check, notes: list[str]) -> None:
    import numpy as np
    from PySide6.QtGui import QImage

    if not check(not pixmap.isNull() and pixmap.width() > 0, "the window rendered to an empty picture"):
        return
    image = pixmap.toImage().convertToFormat(QImage.Format.Format_RGB32)
    pixels = np.frombuffer(image.constBits(), dtype=np.uint32, count=image.sizeInBytes() // 4)
    colours = len(np.unique(pixels))
    notes.append(f"window rendered at {image.width()}x{image.height()} with {colours:,} colours")
    check(colours >= MIN_COLOURS, f"the render looks blank: {colours} colours")
