"""Imported sets in projects and in the window's pickers: a project keeps the set's name and checksum,
says clearly when the set is missing (and takes it once it is imported), warns when the checksum differs,
and Data set > Manage Imported Sets… removes a set from every picker after asking."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

import engine
from app.data_import.manage_dialog import COLUMNS
from tests.app.data_import_helpers import (
    IMPORT_TIMEOUT_MS,
    import_into_preview,
    open_import_dialog,
    type_name,
    write_png_folder,
)
from tests.app.gui_helpers import choose_from_menu, choose_in_combo, click, open_workspace, wait_until_shown

DIGITS = {str(digit): 3 for digit in range(10)}
OTHER_SHA = "0123456789ab" + "c" * 52


def stored_set(tmp_path, name: str, classes=None, seed: int = 0):
    """A set imported and stored by the engine (the dialog's own path is tested in test_data_import_dialog)."""
    folder = write_png_folder(tmp_path / f"{name}-pngs", classes or DIGITS, seed=seed)
    return engine.datasets.save_imported(engine.datasets.import_path(folder), name)


def write_project(path, dataset: str, sha256: str | None, seed_spec) -> None:
    training = {"dataset": dataset, "epochs": 1}
    if sha256 is not None:
        training["dataset_sha256"] = sha256
    path.write_text(json.dumps({"format": "layerlab-project", "version": 1, "network": seed_spec,
                                "training": training}), encoding="utf-8")


def refusals_text(window) -> str:
    form = window.dashboard.training_panel.form
    return "" if form.refusals.isHidden() else form.refusals.text()  # (the Design workspace hides the whole form)


def problem_lines(window) -> list[str]:
    problems = window.problems_dock.list
    return [problems.item(row).text() for row in range(problems.count())]


def test_a_project_keeps_an_imported_set_by_name_and_checksum(qtbot, main_window, tmp_path):
    stored = stored_set(tmp_path, "my-digits")
    form = main_window.dashboard.training_panel.form
    main_window.data_set_menu.store_changed()  # as after Data set > Import…: the pickers list the store
    choose_in_combo(form.dataset, "my-digits (imported, 1x28x28, 10 classes)")
    settings = main_window.editor.document.training_settings
    assert settings["dataset"] == "my-digits" and settings["dataset_sha256"] == stored.sha256
    path = tmp_path / "mine.layerlab"
    assert main_window.project.save_to(path)
    saved = json.loads(path.read_text(encoding="utf-8"))["training"]
    assert saved["dataset"] == "my-digits" and saved["dataset_sha256"] == stored.sha256

    choose_in_combo(form.dataset, form.dataset.itemText(form.dataset.findData("mnist")))
    assert "dataset_sha256" not in main_window.editor.document.training_settings  # MNIST has no checksum to keep
    main_window.project.new_network()
    assert main_window.project.open_file(path)
    assert form.dataset.currentData() == "my-digits" and refusals_text(main_window) == ""


def test_a_project_whose_imported_set_is_missing_says_so_and_takes_it_once_imported(qtbot, main_window, tmp_path,
                                                                                      seed_spec):
    elsewhere = stored_set(tmp_path, "their-digits")  # as on the computer the project was made on
    engine.datasets.delete_imported("their-digits")
    path = tmp_path / "theirs.layerlab"
    write_project(path, "their-digits", elsewhere.sha256, seed_spec)
    assert main_window.project.open_file(path)
    form = main_window.dashboard.training_panel.form
    message = refusals_text(main_window)
    assert "their-digits" in message and elsewhere.sha256[:12] in message
    assert "import it with Data set > Import…" in message
    assert form.dataset.currentData() == "mnist"
    assert any("their-digits" in line and elsewhere.sha256[:12] in line for line in problem_lines(main_window))

    dialog = open_import_dialog(main_window)
    import_into_preview(qtbot, dialog, tmp_path / "their-digits-pngs")
    type_name(dialog, "their-digits")
    click(dialog.import_button)
    qtbot.waitUntil(lambda: form.dataset.currentData() == "their-digits", timeout=IMPORT_TIMEOUT_MS)
    assert refusals_text(main_window) == ""
    assert not any("their-digits" in line for line in problem_lines(main_window))


def test_a_different_checksum_warns_but_keeps_the_set(qtbot, main_window, tmp_path, seed_spec):
    here = stored_set(tmp_path, "digits")
    main_window.data_set_menu.store_changed()
    path = tmp_path / "other.layerlab"
    write_project(path, "digits", OTHER_SHA, seed_spec)
    assert main_window.project.open_file(path)
    form = main_window.dashboard.training_panel.form
    assert form.dataset.currentData() == "digits"
    message = refusals_text(main_window)
    assert OTHER_SHA[:12] in message and here.sha256[:12] in message and "digits" in message


def test_manage_lists_the_sets_and_removes_one_after_asking(qtbot, main_window, tmp_path, seed_spec):
    kept = stored_set(tmp_path, "kept", {"a": 3, "b": 3})
    removed = stored_set(tmp_path, "gone", {"x": 3, "y": 3, "z": 3}, seed=1)
    path = tmp_path / "uses-gone.layerlab"
    write_project(path, "gone", removed.sha256, seed_spec)
    choose_from_menu(main_window, "Data set", "Manage Imported Sets…")
    dialog = main_window.data_set_menu.manage_dialog
    wait_until_shown(dialog)
    table = dialog.table
    rows = {table.item(row, 0).text(): [table.item(row, column).text() for column in range(table.columnCount())]
            for row in range(table.rowCount())}
    assert set(rows) == {"kept", "gone"}
    assert rows["gone"][1:5] == ["1×28×28", "3", f"{removed.num_train:,}", f"{removed.num_test:,}"]
    assert rows["gone"][5] == removed.sha256[:12] and "gone-pngs" in rows["gone"][6]
    assert main_window.project.open_file(path)  # the form shows "gone"
    form = main_window.dashboard.training_panel.form
    assert form.dataset.currentData() == "gone"

    row = list(rows).index("gone")
    rect = table.visualItemRect(table.item(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    click(dialog.remove_button)
    assert dialog.confirm.isVisible() and "gone" in dialog.confirm.question.text()
    click(dialog.confirm.no_button)
    assert engine.datasets.find_imported("gone") is not None
    click(dialog.remove_button)
    click(dialog.confirm.yes_button)
    assert engine.datasets.find_imported("gone") is None and engine.datasets.find_imported("kept") == kept
    assert [table.item(r, 0).text() for r in range(table.rowCount())] == ["kept"]
    assert form.dataset.findData("gone") < 0 and form.dataset.findData("kept") >= 0
    message = refusals_text(main_window)  # the open project's set is gone: it says so, as on another computer
    assert "gone" in message and removed.sha256[:12] in message


def test_a_set_imported_outside_the_window_is_listed_when_the_box_opens(qtbot, main_window, tmp_path):
    form = main_window.dashboard.training_panel.form
    open_workspace(main_window, "Train")
    stored = stored_set(tmp_path, "from-terminal")  # as `layerlab datasets import` in a terminal does
    label = "from-terminal (imported, 1x28x28, 10 classes)"
    assert form.dataset.findText(label) < 0
    qtbot.mouseClick(form.dataset, Qt.MouseButton.LeftButton)
    wait_until_shown(form.dataset.view().window())
    assert form.dataset.findText(label) >= 0 and form.dataset.currentData() == "mnist"
    form.dataset.hidePopup()
    choose_in_combo(form.dataset, label)
    settings = main_window.editor.document.training_settings
    assert settings["dataset"] == "from-terminal" and settings["dataset_sha256"] == stored.sha256


def test_a_damaged_set_is_listed_in_manage_and_can_be_removed(qtbot, main_window, tmp_path):
    """A set whose manifest no longer reads is in no picker; Manage shows it, says why, and removes it."""
    stored_set(tmp_path, "kept", {"a": 3, "b": 3})
    broken = engine.datasets.imported_dir() / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("[1, 2]")
    choose_from_menu(main_window, "Data set", "Manage Imported Sets…")
    dialog = main_window.data_set_menu.manage_dialog
    wait_until_shown(dialog)
    table = dialog.table
    names = [table.item(row, 0).text() for row in range(table.rowCount())]
    assert names == ["kept", "broken"]
    source = table.item(1, COLUMNS.index("Source")).text()
    assert source.startswith("damaged, not usable: ") and "manifest.json: expected a JSON object" in source

    rect = table.visualItemRect(table.item(1, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    click(dialog.remove_button)
    assert "broken" in dialog.confirm.question.text()
    click(dialog.confirm.yes_button)
    assert not broken.exists() and [table.item(r, 0).text() for r in range(table.rowCount())] == ["kept"]
