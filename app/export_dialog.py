"""File > Export > ONNX… / PyTorch Code… / Keras Code…: one dialog per format.

It says what will be exported (the design on the canvas and whose weights: app/export_source.py), takes the
output file (Save As with the format's suffix), shows the project's training settings the code will carry,
and how to use what it writes: for PyTorch the lines that start the script alone, on N GPUs and on M machines
(torchrun), in a selectable box with a Copy button. Export runs off the GUI thread; the line under the
buttons lists the files written, or says in words why nothing was (a missing extra: which one to install).

    dialog = ExportDialog("pytorch", get_source, get_training, start_folder, parent=window)
    dialog.show()
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.dashboard.background import BackgroundTasks
from app.export_formats import FORMATS, keras_usage, onnx_usage, pytorch_commands, run_exporter
from app.export_source import ExportSource
from app.file_dialogs import last_folder, save_file_name
from app.formatting import counted
from app.tones import follow_tone

DEFAULT_GPUS = 2  # shown when torch is absent or sees no GPU: an example a person edits
MAX_GPUS = 64
MAX_NODES = 1024


def visible_gpus() -> int:
    """The GPUs torch sees here, or DEFAULT_GPUS (torch absent or none seen). Slow (imports torch): run it on
    a worker thread."""
    if importlib.util.find_spec("torch") is None:
        return DEFAULT_GPUS
    import torch

    return torch.cuda.device_count() or DEFAULT_GPUS


def training_summary(training: dict) -> str:
    """The project's training settings in one line: what the exported script will train with."""
    optimizer = training.get("optimizer") or {}
    parts = [training.get("dataset") or "mnist", counted(int(training.get("epochs", 10)), "epoch"),
             f"batch {training.get('batch_size', 50)}",
             f"{optimizer.get('name', 'adam')} lr={optimizer.get('lr', 0.001):g}"]
    if training.get("schedule"):
        parts.append(f"{training['schedule']} schedule")
    parts.append(f"seed {training.get('seed', 0)}")
    return ", ".join(str(part) for part in parts)


class ExportDialog(QDialog):
    def __init__(self, key: str, get_source: Callable[[], ExportSource], get_training: Callable[[], dict],
                 start_folder: Callable[[], Path | None], parent: QWidget | None = None):
        """``get_source``: what to export, read afresh when shown and when Export is pressed; ``get_training``:
        the project's training settings; ``start_folder``: the project's folder, or None."""
        super().__init__(parent)
        self.format = FORMATS[key]
        self.get_source, self.get_training, self.start_folder = get_source, get_training, start_folder
        self.tasks = BackgroundTasks(self)
        self.written: list[Path] = []  # the files the last export wrote
        self._gpus_chosen = False  # the person set the GPU count: the count torch reports no longer replaces it
        self.exporting = False
        self.setObjectName(f"ExportDialog-{key}")
        self.setWindowTitle(self.format.title)

        self.what_label = QLabel()
        self.what_label.setWordWrap(True)
        self.problem_label = QLabel()
        self.problem_label.setWordWrap(True)
        follow_tone(self.problem_label, "error")

        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText(f"the {self.format.suffix} file to write")
        self.path_edit.textChanged.connect(self._path_changed)
        self.choose_button = QPushButton("Choose…")
        self.choose_button.clicked.connect(self.choose_file)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path_edit, 1)
        file_row.addWidget(self.choose_button)
        form = QFormLayout()
        form.addRow("File:", file_row)

        self.training_label = QLabel()
        self.training_label.setWordWrap(True)
        self.gpus_box = QSpinBox()
        self.gpus_box.setRange(1, MAX_GPUS)
        self.gpus_box.setValue(DEFAULT_GPUS)
        self.gpus_box.setMaximumWidth(90)
        self.gpus_box.valueChanged.connect(self._gpus_edited)
        self.nodes_box = QSpinBox()
        self.nodes_box.setRange(2, MAX_NODES)
        self.nodes_box.setValue(2)
        self.nodes_box.setMaximumWidth(90)
        self.nodes_box.valueChanged.connect(self._show_usage)
        if self.format.takes_training:
            self.training_label.setToolTip("The project's training settings (the Training dock); the script "
                                           "trains with these.")
            form.addRow("Training:", self.training_label)
        if key == "pytorch":
            form.addRow("GPUs per machine:", self.gpus_box)
            form.addRow("Machines:", self.nodes_box)

        self.usage_box = QPlainTextEdit()
        self.usage_box.setObjectName("ExportUsage")
        self.usage_box.setReadOnly(True)  # read-only, still selectable and copyable
        self.usage_box.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.usage_box.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))  # commands, code
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy these lines to the clipboard")
        self.copy_button.clicked.connect(self.copy_usage)
        usage_header = QHBoxLayout()
        usage_header.addWidget(QLabel("<b>How to use it</b>"), 1)
        usage_header.addWidget(self.copy_button)

        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(self.result_label.textInteractionFlags()
                                                  | self.result_label.textInteractionFlags().TextSelectableByMouse)
        buttons = QDialogButtonBox()
        # Export keeps the dialog open (the result line and the lines to run belong together): an action, not
        # the accept role, which would close it; Close closes.
        self.export_button = buttons.addButton("Export", QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.export_button.clicked.connect(self.export)
        # Enter confirms a spin box or a typed path; it must not also export or open the Save As dialog.
        for button in (self.choose_button, self.copy_button, self.export_button, self.close_button):
            button.setAutoDefault(False)
            button.setDefault(False)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.what_label)
        layout.addWidget(self.problem_label)
        layout.addLayout(form)
        layout.addLayout(usage_header)
        layout.addWidget(self.usage_box, 1)
        layout.addWidget(self.result_label)
        layout.addWidget(buttons)
        self.resize(800, 450 if key == "pytorch" else 400)

        if key == "pytorch":
            self.tasks.submit(lambda _report: visible_gpus(), self._gpus_counted, lambda _message: None)
        self.refresh()

    # -- what is shown ----------------------------------------------------------------------------------

    def showEvent(self, event) -> None:
        self.refresh()  # the design, its weights or the settings may have changed while it was closed
        super().showEvent(event)

    def refresh(self) -> None:
        source = self.get_source()
        self.what_label.setText(f"<b>{_html(source.name)}</b> on the canvas"
                                + (f", {_html(source.weights_text)}." if not source.problem else "."))
        self.problem_label.setText(f"Cannot export: {source.problem}" if source.problem else "")
        self.problem_label.setVisible(bool(source.problem))
        self.training_label.setText(training_summary(self.get_training()))
        if not self.path_edit.text():
            folder = self.start_folder() or last_folder()
            from app.project_controller import file_stem  # here: the controller imports the window's parts

            self.path_edit.setText(str(folder / f"{file_stem(source.name)}{self.format.suffix}"))
        self._update_export_button(source)
        self._show_usage()

    def _update_export_button(self, source: ExportSource | None = None) -> None:
        source = source or self.get_source()
        self.export_button.setEnabled(not source.problem and not self.exporting and bool(self.path_edit.text()))
        self.export_button.setToolTip(f"Cannot export: {source.problem}" if source.problem else "")

    def _path_changed(self, _text: str) -> None:
        self._update_export_button()
        self._show_usage()

    def output_path(self) -> Path:
        """The file typed, with the format's suffix added when missing; a bare folder ("/", being typed out)
        gets a file named "model" in it, since a path with no name has no name to add a suffix to."""
        path = Path(self.path_edit.text().strip()).expanduser()
        if not path.name:
            return path / f"model{self.format.suffix}"
        return path if path.suffix.lower() == self.format.suffix else path.with_name(path.name + self.format.suffix)

    def _show_usage(self, *_changed) -> None:
        path = self.output_path() if self.path_edit.text().strip() else Path(f"model{self.format.suffix}")
        if self.format.key == "pytorch":
            text = pytorch_commands(path, self.gpus_box.value(), self.nodes_box.value())
        elif self.format.key == "keras":
            text = keras_usage(path)
        else:
            source = self.get_source()
            shape = () if source.problem else tuple(_input_shape(source.spec))
            text = onnx_usage(path, shape)
        self.usage_box.setPlainText(text)

    def copy_usage(self) -> None:
        QGuiApplication.clipboard().setText(self.usage_box.toPlainText())
        _plain(self.result_label)
        self.result_label.setText("Copied the lines above to the clipboard.")

    def _gpus_edited(self, _value: int) -> None:
        self._gpus_chosen = True
        self._show_usage()

    def _gpus_counted(self, count: int) -> None:
        if not self._gpus_chosen:
            self.gpus_box.blockSignals(True)
            self.gpus_box.setValue(int(count))
            self.gpus_box.blockSignals(False)
            self._show_usage()

    # -- exporting --------------------------------------------------------------------------------------

    def choose_file(self) -> None:
        current = self.output_path() if self.path_edit.text().strip() else None
        start = current.parent if current is not None and current.parent.is_dir() else self.start_folder()
        suggested = current.name if current is not None else f"network{self.format.suffix}"
        path, _chosen = save_file_name(self, self.format.title, suggested, self.format.file_filter, start)
        if path:
            self.path_edit.setText(path)
            self.path_edit.setText(str(self.output_path()))  # with the suffix, if the name was typed without

    def export(self) -> None:
        """Write the files on the worker thread; the result line says which, or why none."""
        source = self.get_source()  # the design and weights as they are now
        if source.problem:
            self.refresh()
            return
        path, training, key = self.output_path(), self.get_training(), self.format.key
        self.written, self.exporting = [], True
        _plain(self.result_label)
        self.result_label.setText(f"Exporting {source.name} to {path}…")
        self.tasks.submit(lambda _report: run_exporter(key, source.build(), path, training),
                          lambda written: self._exported(source, written), self._failed)
        self._update_export_button(source)

    def _exported(self, source: ExportSource, written: list) -> None:
        self.written, self.exporting = [Path(item) for item in written], False
        _plain(self.result_label)
        files = "\n".join(str(path) for path in self.written)
        self.result_label.setText(f"Exported {source.name}, {source.weights_text}. Wrote "
                                  f"{counted(len(self.written), 'file')}:\n{files}")
        self._update_export_button()

    def _failed(self, message: str) -> None:
        self.exporting = False
        follow_tone(self.result_label, "error")
        self.result_label.setText(f"Nothing was exported: {message}")
        self._update_export_button()



def _input_shape(spec: dict) -> list:
    for node in spec.get("nodes", []):
        if node.get("type") == "Input":
            return list(node.get("shape") or [])
    return []


def _plain(label: QLabel) -> None:
    """Back to the theme's text colour (a failure's red is gone)."""
    label.setProperty("tone", None)
    label.setStyleSheet("")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
