"""The training form's "TensorBoard log" check box, and the run's log folder with a Copy button once it is written.

    option = TensorBoardOption()
    option.logs()                      # True: the next run writes a TensorBoard log (tensorboardX installed)
    option.load(project_value, refuse) # a project's "tensorboard": true / false (anything else is refused)
    option.project_value()             # the project's "tensorboard" (always written: the window merges an edit
                                       # into the project's settings, so a key left out would stay true)
    option.show_folder(path)           # after the run's training thread opened it ("" hides the row)
    option.show_problem(message)       # the log could not be written; the run goes on

Without tensorboardX (LayerLab's 'export' extra) the box is disabled and its tooltip names the extra; Start still
works, and a project's "tensorboard": true is kept in the project for a computer that has it. The log is written on
the training thread (app/training/worker.py); this widget only ever sees its folder's path.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

import engine
from app.tones import follow_tone
from app.training.tensorboard_logs import default_log_dir

PROJECT_KEY = "tensorboard"


class TensorBoardOption(QWidget):
    edited = Signal()  # a person ticked or cleared the box

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.available = engine.export.tensorboard_available()
        self._project_wants = False  # the project's "tensorboard": true, kept where the extra is missing
        self.check = QCheckBox("TensorBoard log")
        log_dir = default_log_dir()
        if self.available:
            self.check.setToolTip(f"Write the run's scalars, weight histograms and graph as TensorBoard event files "
                                  f"in a new folder under {log_dir}; see them with: tensorboard --logdir \"{log_dir}\"")
        else:
            self.check.setEnabled(False)
            export = engine.export
            self.check.setToolTip(str(export.MissingExtraError("tensorboardX", export.TENSORBOARD_FEATURE)))
        self.check.toggled.connect(self._toggled)
        self.folder = QLabel()  # the run's log folder, selectable, with Copy beside it
        self.folder.setWordWrap(True)
        self.folder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the folder's path")
        self.copy_button.clicked.connect(self._copy)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        follow_tone(self.problem, "warning")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.folder, 1)
        row.addWidget(self.copy_button)
        self.folder_row = QWidget()
        self.folder_row.setLayout(row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.check)
        layout.addWidget(self.folder_row)
        layout.addWidget(self.problem)
        self.show_folder("")
        self.problem.hide()

    def logs(self) -> bool:
        return self.available and self.check.isChecked()

    def project_value(self) -> bool:
        return self.check.isChecked() or (not self.available and self._project_wants)

    def load(self, value, refuse) -> None:
        """A project's "tensorboard" value (absent: off); anything but true or false is refused, in words."""
        if value is not None and not isinstance(value, bool):
            refuse(PROJECT_KEY, value, "is neither true nor false", "off")
            value = False
        self._project_wants = bool(value)
        self.check.setChecked(self._project_wants and self.available)

    def allow_edits(self, allowed: bool) -> None:
        """Off while a run trains: the log is chosen at Start."""
        self.check.setEnabled(allowed and self.available)

    def show_folder(self, folder: str) -> None:
        self.problem.hide()
        self.folder.setText(folder)
        self.folder.setToolTip(f"See it with: tensorboard --logdir \"{folder}\"" if folder else "")
        self.copy_button.setText("Copy")
        self.folder_row.setVisible(bool(folder))
        self.copy_button.setVisible(bool(folder))  # hidden itself too: a hidden button is not "in sight" to find

    def show_problem(self, message: str) -> None:
        self.problem.setText(message)
        self.problem.show()

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.folder.text())
        self.copy_button.setText("Copied")

    def _toggled(self, on: bool) -> None:
        self._project_wants = on
        self.edited.emit()
