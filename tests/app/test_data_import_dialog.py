"""Data set > Import… in the main window: the preview of a folder of PNGs (classes, counts, colour, every
skipped file), Cancel that stops the importer, bad folders named in words, and Import that stores the set
for the training form's Data set box, where a run can start on it."""

from __future__ import annotations

import time

import numpy as np

import engine
from tests.app.data_import_helpers import (
    IMPORT_TIMEOUT_MS,
    import_into_preview,
    open_import_dialog,
    type_name,
    write_corrupt_png,
    write_png_folder,
)
from tests.app.gui_helpers import click, open_workspace, type_into

RUN_TIMEOUT_MS = 120_000
DIGITS = {str(digit): 4 for digit in range(10)}  # ten classes: the seed CNN's ten outputs fit it


def grid_cell_colour(dialog, row: int, column: int = 1):
    cell = dialog.preview.grid.itemAtPosition(row, column).widget()
    picture = cell.pixmap().toImage()
    return picture.pixelColor(picture.width() // 2, picture.height() // 2)


def test_a_grey_folder_previews_its_classes_counts_and_every_skipped_file(qtbot, main_window, tmp_path):
    folder = write_png_folder(tmp_path / "my digits", {"zero": 10, "one": 6})
    write_corrupt_png(folder / "one" / "broken.png")
    dialog = open_import_dialog(main_window)
    assert dialog.name_message.text() == ""  # nothing chosen yet: an empty name is not a fault to show yet
    import_into_preview(qtbot, dialog, folder)

    assert dialog.error.text() == ""
    rows = [label.text() for label in dialog.preview.class_rows]
    assert [row.splitlines()[0] for row in rows] == ["one", "zero"]  # the sub-folders, in sorted order
    dataset = dialog.result.dataset
    assert dataset.num_train + dataset.num_test == 16 and dataset.info.shape == (1, 28, 28)
    counts = {row.splitlines()[0]: row.splitlines()[1] for row in rows}
    train = np.bincount(dataset.train_labels, minlength=2)
    assert counts["one"] == f"{train[0]} train · {6 - train[0]} test"
    assert dialog.preview.grid.itemAtPosition(0, 6).widget() is not None  # up to 8 examples: all 6 of "one"
    assert "28x28 pixels, grey" in dialog.preview.summary.text()
    assert dialog.preview.skipped_heading.text() == "Skipped files (1)"
    (skipped,) = dialog.preview.skipped_lines()
    assert "broken.png" in skipped and "skipped" in skipped
    assert dialog.name.text() and dialog.name_message.text() == ""  # suggested from the folder, and usable
    assert dialog.import_button.isEnabled()
    assert engine.datasets.list_imported() == []  # a preview stores nothing


def test_a_colour_folder_shows_in_colour_and_a_new_size_imports_again(qtbot, main_window, tmp_path):
    folder = write_png_folder(tmp_path / "shapes", {"red": 3, "green": 3, "blue": 3}, size=(20, 20), colour=True)
    dialog = open_import_dialog(main_window)
    import_into_preview(qtbot, dialog, folder)
    assert dialog.result.dataset.info.shape == (3, 20, 20)
    assert "colour (RGB)" in dialog.preview.summary.text()
    rows = [label.text().splitlines()[0] for label in dialog.preview.class_rows]
    red = grid_cell_colour(dialog, rows.index("red"))
    blue = grid_cell_colour(dialog, rows.index("blue"))
    assert red.red() > 200 and red.blue() < 100
    assert blue.blue() > 200 and blue.red() < 100
    assert (dialog.height_box.value(), dialog.width_box.value()) == (20, 20)  # the importer's choice

    type_into(dialog.height_box, "12")
    qtbot.waitUntil(lambda: not dialog.jobs.busy and dialog.result is not None
                    and dialog.result.dataset.info.shape == (3, 12, 20), timeout=IMPORT_TIMEOUT_MS)
    assert "12x20 pixels" in dialog.preview.summary.text()


def test_the_name_is_checked_as_it_is_typed(qtbot, main_window, tmp_path):
    folder = write_png_folder(tmp_path / "digits", {"a": 3, "b": 3})
    dialog = open_import_dialog(main_window)
    import_into_preview(qtbot, dialog, folder)
    type_name(dialog, "mnist")  # a registry name: refused
    assert dialog.name_message.text() and not dialog.import_button.isEnabled()
    type_name(dialog, "my/digits")
    assert dialog.name_message.text() and not dialog.import_button.isEnabled()
    type_name(dialog, "my digits")
    assert dialog.name_message.text() == "" and dialog.import_button.isEnabled()


def test_cancel_or_close_stops_a_long_import_and_nothing_is_stored(qtbot, main_window, tmp_path, monkeypatch):
    folder = write_png_folder(tmp_path / "many", {"a": 300, "b": 300}, size=(8, 8))
    calls, outcome = [], []
    real_import = engine.datasets.import_path

    def slow_disk_import(path, **options):  # every file takes 5 ms longer: 600 files, 3 s at least
        report = options["progress"]

        def waiting(done, total):
            calls.append(done)
            time.sleep(0.005)
            report(done, total)

        try:
            result = real_import(path, **{**options, "progress": waiting})
        except engine.datasets.ImportCancelled:
            outcome.append("cancelled")
            raise
        outcome.append("finished")
        return result

    monkeypatch.setattr(engine.datasets, "import_path", slow_disk_import)
    dialog = open_import_dialog(main_window)
    type_into(dialog.path, str(folder))
    qtbot.waitUntil(lambda: len(calls) > 20 and dialog.progress.value() > 0, timeout=IMPORT_TIMEOUT_MS)
    assert dialog.progress.isVisible() and dialog.cancel_button.isVisible()
    click(dialog.cancel_button)
    qtbot.waitUntil(lambda: outcome == ["cancelled"], timeout=5000)  # the importer itself stopped
    assert len(calls) < 600
    assert dialog.status.text() == "Cancelled." and dialog.result is None
    assert not dialog.import_button.isEnabled() and not dialog.cancel_button.isVisible()
    assert engine.datasets.list_imported() == []
    imported_dir = engine.datasets.imported_dir()
    assert not imported_dir.exists() or list(imported_dir.iterdir()) == []

    calls.clear()  # closing the dialog mid-import stops the importer too
    type_into(dialog.path, str(folder))
    qtbot.waitUntil(lambda: len(calls) > 20, timeout=IMPORT_TIMEOUT_MS)
    click(dialog.close_button)
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: outcome == ["cancelled", "cancelled"], timeout=5000)
    assert engine.datasets.list_imported() == []


def test_bad_folders_are_named_in_words_and_nothing_is_stored(qtbot, main_window, tmp_path):
    empty = tmp_path / "empty folder"
    empty.mkdir()
    single = write_png_folder(tmp_path / "only cats", {"cat": 4})
    dialog = open_import_dialog(main_window)
    for folder in (empty, single, tmp_path / "not there"):
        import_into_preview(qtbot, dialog, folder)
        message = dialog.error.text()
        assert dialog.error.isVisible() and str(folder) in message, message
        assert "Error" not in message and "Traceback" not in message
        assert dialog.result is None and not dialog.import_button.isEnabled()
    assert engine.datasets.list_imported() == []


def test_import_stores_the_set_and_a_run_starts_on_it(qtbot, main_window, tmp_path):
    folder = write_png_folder(tmp_path / "pngs", DIGITS)
    dialog = open_import_dialog(main_window)
    import_into_preview(qtbot, dialog, folder)
    type_name(dialog, "my-digits")
    click(dialog.import_button)
    qtbot.waitUntil(lambda: dialog.use_button.isVisible(), timeout=IMPORT_TIMEOUT_MS)
    (stored,) = engine.datasets.list_imported()
    assert stored.name == "my-digits" and stored.num_train + stored.num_test == 40
    assert "Stored “my-digits”" in dialog.status.text()

    form = main_window.dashboard.training_panel.form
    label = "my-digits (imported, 1x28x28, 10 classes)"
    assert form.dataset.findText(label) > form.dataset.findData("mnist")  # listed after the built-in sets
    click(dialog.use_button)
    assert form.dataset.currentText() == label
    settings = main_window.editor.document.training_settings
    assert settings["dataset"] == "my-digits" and settings["dataset_sha256"] == stored.sha256
    dialog.close()

    open_workspace(main_window, "Train")
    type_into(form.epochs, "1")
    type_into(form.batch_size, "16")
    panel = main_window.dashboard.training_panel
    controller = main_window.dashboard.controller
    with qtbot.waitSignal(controller.run_finished, timeout=RUN_TIMEOUT_MS):
        click(panel.start_button)
    assert controller.run.data.name == "my-digits" and controller.run.data.num_train > 0
    saved = controller.save_latest(tmp_path / "model.llmodel")
    metadata = engine.load_checkpoint(saved).metadata
    assert metadata["dataset"] == "my-digits" and metadata["dataset_sha256"] == stored.sha256


def test_importing_again_under_a_stored_name_asks_and_keeping_changes_nothing(qtbot, main_window, tmp_path):
    first = write_png_folder(tmp_path / "first", {"a": 3, "b": 3})
    second = write_png_folder(tmp_path / "second", {"a": 5, "b": 5, "c": 5})
    dialog = open_import_dialog(main_window)
    import_into_preview(qtbot, dialog, first)
    type_name(dialog, "letters")
    click(dialog.import_button)
    qtbot.waitUntil(lambda: dialog.use_button.isVisible(), timeout=IMPORT_TIMEOUT_MS)
    before = engine.datasets.find_imported("letters")
    click(dialog.use_button)  # the project now trains on "letters"
    assert main_window.editor.document.training_settings["dataset_sha256"] == before.sha256

    import_into_preview(qtbot, dialog, second)
    assert dialog.name.text() == "letters"  # typed by the person: a new source keeps it
    assert "already imported" in dialog.name_message.text()
    click(dialog.import_button)
    assert dialog.replace_bar.isVisible() and "letters" in dialog.replace_bar.question.text()
    click(dialog.replace_bar.no_button)
    assert engine.datasets.find_imported("letters") == before

    click(dialog.import_button)
    click(dialog.replace_bar.yes_button)
    qtbot.waitUntil(lambda: engine.datasets.find_imported("letters").num_train + engine.datasets.find_imported(
        "letters").num_test == 15, timeout=IMPORT_TIMEOUT_MS)
    form = main_window.dashboard.training_panel.form
    qtbot.waitUntil(lambda: dialog.use_button.isVisible(), timeout=IMPORT_TIMEOUT_MS)
    assert form.dataset.findText("letters (imported, 1x28x28, 3 classes)") >= 0
    replaced = engine.datasets.find_imported("letters")
    assert "other data under the same name" in form.refusals.text()  # the project still names the old data
    click(dialog.use_button)  # the person means the new data: the project records its checksum
    assert main_window.editor.document.training_settings["dataset_sha256"] == replaced.sha256
    assert form.refusals.isHidden()


def write_pixel_csv(path, rows: list[tuple[int, int]], label_header: str = "digit") -> None:
    """A CSV of 2x2 grey images: four pixel columns, then the label column (not the first, not "label")."""
    lines = ["p0,p1,p2,p3," + label_header]
    lines += [f"{value},{value},{255 - value},{255 - value},{label}" for value, label in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_csv_is_read_with_the_label_column_typed_and_a_bad_label_names_its_line(qtbot, main_window, tmp_path):
    good = tmp_path / "pixels.csv"
    write_pixel_csv(good, [(10 * k, k % 2) for k in range(20)])
    dialog = open_import_dialog(main_window)
    import_into_preview(qtbot, dialog, good)
    assert dialog.label_column.isEnabled() and not dialog.height_box.isEnabled()  # size is for image folders
    type_into(dialog.label_column, "digit")
    qtbot.waitUntil(lambda: not dialog.jobs.busy and dialog.result is not None
                    and dialog.result.dataset.info.num_classes == 2, timeout=IMPORT_TIMEOUT_MS)
    assert dialog.error.isHidden()
    assert [label.text().splitlines()[0] for label in dialog.preview.class_rows] == ["0", "1"]
    assert "Skipped files (0)" == dialog.preview.skipped_heading.text()

    bad = tmp_path / "bad.csv"
    write_pixel_csv(bad, [(0, 0), (10, 1), (20, 0)])
    bad.write_text(bad.read_text(encoding="utf-8") + "1,2,3,4,seven\n", encoding="utf-8")
    import_into_preview(qtbot, dialog, bad)
    message = dialog.error.text()
    assert str(bad) in message and "line 5" in message, message
    assert dialog.result is None and not dialog.import_button.isEnabled()


def test_a_numpy_file_is_previewed(qtbot, main_window, tmp_path):
    path = tmp_path / "arrays.npz"
    rng = np.random.default_rng(0)
    np.savez(path, images=rng.integers(0, 256, size=(30, 28, 28), dtype=np.uint8),
             labels=np.arange(30) % 3, class_names=np.array(["cat", "dog", "owl"]))
    dialog = open_import_dialog(main_window)
    import_into_preview(qtbot, dialog, path)
    assert dialog.error.isHidden(), dialog.error.text()
    assert [label.text().splitlines()[0] for label in dialog.preview.class_rows] == ["cat", "dog", "owl"]
    assert dialog.result.format == "npz" and dialog.name.text() == "arrays"


def test_a_store_that_fails_says_so_and_keeps_the_preview_to_try_again(qtbot, main_window, tmp_path, monkeypatch):
    folder = write_png_folder(tmp_path / "pngs", {"a": 3, "b": 3})
    dialog = open_import_dialog(main_window)
    import_into_preview(qtbot, dialog, folder)
    blocked = tmp_path / "store-is-a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv(engine.datasets.IMPORTED_DIR_ENV, str(blocked))
    click(dialog.import_button)
    qtbot.waitUntil(lambda: not dialog.jobs.busy and dialog.error.text() != "", timeout=IMPORT_TIMEOUT_MS)
    assert dialog.error.text().startswith("Nothing was stored: "), dialog.error.text()
    assert "Error" not in dialog.error.text() and not dialog.use_button.isVisible()
    assert dialog.preview.class_rows and dialog.import_button.isEnabled()  # still there: Import again

    monkeypatch.setenv(engine.datasets.IMPORTED_DIR_ENV, str(tmp_path / "store"))
    click(dialog.import_button)
    qtbot.waitUntil(lambda: dialog.use_button.isVisible(), timeout=IMPORT_TIMEOUT_MS)
    assert [entry.name for entry in engine.datasets.list_imported()] == ["pngs"]
