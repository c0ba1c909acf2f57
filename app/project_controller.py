"""The File menu's work: new, templates, open (projects, bare network specs and ONNX models with their
weights), save, save as, recent files, picture export, the dirty marker in the title, autosave and recovery.

Reading and writing are plain functions (``app.document.project_file``); this module adds the dialogs
and keeps the window's title, the recent-files list and the recovery file in step with the document.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox

import engine
import resources
from app.canvas.export import ExportError, export_png, export_svg
from app.dashboard.background import BackgroundTasks
from app.dashboard.run_data import dataset_shape, with_dataset_checksum
from app.document import autosave
from app.document.project_file import PROJECT_SUFFIX, ProjectFileError, read_project, write_project
from app.file_dialogs import open_file_name, save_file_name
from app.recent_files import RecentFiles
from app.run_state import ImportedModel
from app.templates import template_training

APP_NAME = "LayerLab"
ONNX_SUFFIX = ".onnx"
OPEN_FILTER = "LayerLab projects and networks (*.layerlab *.json *.onnx);;LayerLab projects (*.layerlab);;" \
              "Network specs (*.json);;ONNX models (*.onnx);;All files (*)"
SAVE_FILTER = "LayerLab projects (*.layerlab)"
EXPORT_FILTER = "PNG image (*.png);;SVG drawing (*.svg)"
RECOVERY_PROBLEM_MS = 30_000  # long enough to be read at start, when the window has just appeared
# A network's name may be any length; a file name is at most 255 bytes on most systems, and a save writes a
# temporary file named after it first. The suggested name keeps well inside that.
MAX_STEM_BYTES = 120
NOT_IN_FILE_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')  # separators, and what Windows refuses
BLANK_SPEC = {"name": "untitled", "nodes": [{"id": "input", "type": "Input", "shape": [1, 28, 28]}], "edges": []}


def file_stem(name: str) -> str:
    """``name`` as the start of a file name a save dialog offers: no folder separators, at most
    ``MAX_STEM_BYTES`` bytes of UTF-8 (a 300-character network name still saves)."""
    stem = NOT_IN_FILE_NAMES.sub("-", name).strip(" .")
    while len(stem.encode("utf-8")) > MAX_STEM_BYTES:
        stem = stem[:-1]
    return stem.rstrip(" .") or "network"


class ProjectController(QObject):
    def __init__(self, window, scene):
        """``window``: the main window (title, status line, canvas view); ``scene``: the canvas it pictures."""
        super().__init__(window)
        self.window = window
        self.scene = scene
        self.editor = window.editor
        self.path: Path | None = None  # the .layerlab file the document belongs to; None until saved
        self.recent_files = RecentFiles()
        # The design opened from an .onnx file with its weights (the Draw pad reads with them while the design
        # is unedited and untrained); None for anything else.
        self.imported_model: ImportedModel | None = None
        self.onnx_reader = BackgroundTasks(self)  # an .onnx file may be large: read off the GUI thread
        self.autosaver = autosave.Autosaver(self.editor, self)
        self.editor.modified_changed.connect(self._modified_changed)

    # -- what the window asks of it ------------------------------------------------------------------------

    def recent_paths(self) -> list[Path]:
        """The projects opened or saved lately, newest first (File > Open Recent)."""
        return self.recent_files.paths()

    def discard_autosave(self) -> None:
        """The window is closing with nothing unsaved: its recovery copy is not needed."""
        self.autosaver.discard()

    # -- the title ----------------------------------------------------------------------------------------

    def display_name(self) -> str:
        return self.path.name if self.path else self.editor.document.name

    def update_title(self) -> None:
        self.window.setWindowTitle(f"{self.display_name()}[*] — {APP_NAME}")
        self.window.setWindowModified(self.editor.modified)

    def _modified_changed(self, modified: bool) -> None:
        self.window.setWindowModified(modified)

    # -- asking the person --------------------------------------------------------------------------------

    def ask_to_save_changes(self) -> QMessageBox.StandardButton:
        buttons = QMessageBox.StandardButton
        return QMessageBox.question(
            self.window, "Unsaved changes", f"Save the changes to {self.display_name()}?",
            buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save)

    def ask_to_recover(self, recovery: autosave.RecoveryFile) -> bool:
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self.window, "Recover unsaved changes",
            f"LayerLab did not close cleanly and kept unsaved changes to {recovery.describe()}.\n\n"
            f"Recover them? (No discards them.)", buttons.Yes | buttons.No, buttons.Yes)
        return answer == buttons.Yes

    def maybe_save(self) -> bool:
        """True when it is fine to replace the document: no changes, saved, or the person said to discard."""
        if not self.editor.modified:
            return True
        answer = self.ask_to_save_changes()
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        if answer == QMessageBox.StandardButton.Discard:
            self.autosaver.discard()
            return True
        return False

    def show_error(self, title: str, error: Exception) -> None:
        QMessageBox.warning(self.window, title, str(error))

    # -- new, templates, open -----------------------------------------------------------------------------

    def _show(self, spec, layout, training, path: Path | None, status: str,
              imported: ImportedModel | None = None) -> None:
        self.imported_model = imported  # set first: opening the spec makes the Draw pad choose its weights
        self.editor.open_spec(spec, layout, training)
        self.autosaver.set_project_path(path)
        self.path = path
        self.update_title()
        self.window.fit_to_view()
        self.window.show_status(status)

    def new_network(self) -> bool:
        """A blank network (one MNIST-shaped Input) after asking about unsaved changes."""
        if not self.maybe_save():
            return False
        self._show(BLANK_SPEC, None, None, None, "New network: drag layers from the palette")
        return True

    def open_template(self, name: str) -> bool:
        """One of ``resources.examples()``, as a new untitled project with the data set and settings that learn it."""
        if not self.maybe_save():
            return False
        path = resources.examples()[name]
        try:
            project = read_project(path)
        except ProjectFileError as error:
            self.show_error("Cannot open template", error)
            return False
        training = template_training(name)
        data = dataset_shape(training["dataset"])
        self._show(project.spec, None, training, None, f"New network from the {name} template, on "
                                                       f"{data.title if data else training['dataset']} with the "
                                                       f"settings that learn it")
        return True

    def choose_file_to_open(self) -> None:
        start = self.path.parent if self.path else None  # else the folder last used
        path = open_file_name(self.window, "Open project or network", OPEN_FILTER, start)
        if path:
            self.open_file(path)

    def open_file(self, path) -> bool:
        """Open a project, or import a network spec; a bad file is named and explained, and nothing changes.

        An .onnx file is read in the background (``open_onnx``): True then means the reading has started."""
        path = Path(path)
        if path.suffix.lower() == ONNX_SUFFIX:
            return self.open_onnx(path)
        try:
            project = read_project(path)
        except ProjectFileError as error:
            self.show_error("Cannot open file", error)
            if not os.path.lexists(path):  # False, not an exception, for a name too long for this system
                self.recent_files.remove(path)
            return False
        if not self.maybe_save():
            return False
        recovery = None if project.is_import else autosave.recovery_for(path)
        if recovery is not None:
            if self.ask_to_recover(recovery):
                try:
                    self.show_project(recovery.read(), as_path=path)
                except ProjectFileError as error:
                    self.show_error("Cannot recover changes", error)
                else:
                    self.editor.undo_stack.resetClean()  # the recovered changes are not in the file yet
                    self.window.show_status(f"Recovered unsaved changes to {path.name}")
                    self.recent_files.add(path)
                    return True
            recovery.discard()
        self.show_project(project)
        if not project.is_import:
            self.recent_files.add(path)
        return True

    def open_onnx(self, path: Path) -> bool:
        """Read an ONNX model off the GUI thread, then show it as a new unsaved project with its weights, or
        say why it cannot be opened (naming the file and every operator LayerLab lacks); nothing changes until
        it has been read."""
        def read(_report):
            try:
                return engine.export.import_onnx(path)  # imports onnx_import (and onnx) now, on this worker
            except engine.UserFileError as error:  # expected: words naming the file, not a logged traceback
                return error
            except engine.export.MissingExtraError as error:  # which extra to install; the file is fine
                return ValueError(f"{path}: {error}")

        self.window.show_status(f"Reading {path.name}…")
        self.onnx_reader.submit(read, on_success=lambda result: self._onnx_read(path, result),
                                on_failure=lambda words: self._onnx_refused(path, words))
        return True

    def _onnx_read(self, path: Path, result) -> None:
        if isinstance(result, Exception):
            self._onnx_refused(path, str(result))
            return
        if not self.maybe_save():
            self.window.show_status(f"Did not open {path.name}")
            return
        model = ImportedModel(result.spec, result.weights, path.name)
        notes = "".join(f" ({note})" for note in result.notes)
        self._show(result.spec, None, None, None, f"Imported {path.name} with its weights{notes}; Save makes it a "
                                                  f"project (the weights stay in the .onnx file)", imported=model)

    def _onnx_refused(self, path: Path, words: str) -> None:
        self.window.show_status(f"Cannot open {path.name}")
        QMessageBox.warning(self.window, "Cannot open file", words)

    def show_project(self, project, as_path: Path | None = None) -> None:
        """Show what ``read_project`` returned, asking nothing (the screenshot command uses this too).

        A project belongs to its file (``as_path`` when it was read from a recovery copy); an imported
        network spec belongs to no project until it is saved as one.
        """
        if project.is_import:
            self._show(project.spec, None, None, None, f"Imported {project.path.name}; Save makes it a project")
        else:
            path = as_path or project.path
            self._show(project.spec, project.layout, project.training, path, f"Opened {path}")

    def offer_recovery_at_start(self) -> bool:
        """After a crash, offer the newest recovery file; True if its changes were brought back.

        A recovery entry that cannot be read (a damaged copy, a folder or a FIFO put there) never stops the
        start: it is skipped, and the status bar names it, once.
        """
        scan = autosave.scan_recoveries()
        recovered = bool(scan.found) and self._recover(scan.found[0])
        if scan.problems:
            done = f"Recovered {scan.found[0].describe()}. " if recovered else ""
            # Said together with a settings file that could not be read, never in its place.
            settings_notice = getattr(self.window, "settings_notice", None)
            message = done + scan.problem_summary() + (f". {settings_notice}" if settings_notice else "")
            self.window.show_status(message, RECOVERY_PROBLEM_MS)
        return recovered

    def _recover(self, recovery: autosave.RecoveryFile) -> bool:
        if not self.ask_to_recover(recovery):
            recovery.discard()
            return False
        try:
            project = recovery.read()
        except ProjectFileError as error:
            self.show_error("Cannot recover changes", error)
            return False
        self._show(project.spec, project.layout, project.training, recovery.project_path,
                   f"Recovered {recovery.describe()}")
        self.editor.undo_stack.resetClean()
        return True

    # -- save ---------------------------------------------------------------------------------------------

    def save(self) -> bool:
        return self.save_to(self.path) if self.path else self.save_as()

    def save_as(self) -> bool:
        start = self.path.parent if self.path else None
        suggested = f"{file_stem(self.display_name().removesuffix(PROJECT_SUFFIX))}{PROJECT_SUFFIX}"
        path, _ = save_file_name(self.window, "Save project", suggested, SAVE_FILTER, start)
        if not path:
            return False
        path = Path(path)
        if path.suffix != PROJECT_SUFFIX:
            path = path.with_name(path.name + PROJECT_SUFFIX)
        return self.save_to(path)

    def save_to(self, path) -> bool:
        document = self.editor.document
        path = Path(path)
        try:
            # An imported set is kept by name and checksum: another computer can say which data is missing.
            training = with_dataset_checksum(document.training_settings)
            write_project(path, document.spec(), document.positions(), training)
        except ProjectFileError as error:
            self.show_error("Cannot save project", error)
            return False
        self.autosaver.set_project_path(path)
        self.path = path
        self.editor.mark_saved()
        self.autosaver.discard()
        self.recent_files.add(path)
        self.update_title()
        self.window.show_status(f"Saved {path}")
        return True

    # -- export -------------------------------------------------------------------------------------------

    def choose_picture_to_export(self) -> None:
        start = self.path.parent if self.path else None
        path, chosen = save_file_name(self.window, "Export picture", f"{file_stem(self.editor.document.name)}.png",
                                      EXPORT_FILTER, start)
        if path:
            if Path(path).suffix.lower() not in (".png", ".svg"):
                path += ".svg" if chosen.startswith("SVG") else ".png"
            self.export_picture(path)

    def export_picture(self, path) -> bool:
        path = Path(path)
        try:
            (export_svg if path.suffix.lower() == ".svg" else export_png)(self.scene, path)
        except ExportError as error:
            self.show_error("Cannot export picture", error)
            return False
        self.window.show_status(f"Exported {path}")
        return True
