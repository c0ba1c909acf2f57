"""Data set > Import…: choose a folder or a file, see what it will store, and store it under a name.

    dialog = ImportDialog(window)
    dialog.stored.connect(refresh_pickers)        # engine.datasets.ImportedSet, once it is in the store
    dialog.use_requested.connect(form.choose_dataset)
    dialog.open_source("~/my_digits")              # or the person picks or types the path

Importing and storing run off the GUI thread (import_job.py) with a progress bar and a Cancel that stops
the importer itself. The preview (preview.py) shows the examples of each class, the counts, the size the
images are resized to, the importer's notes and every skipped file with its reason. Changing the image
size, the colour or the CSV label column imports again. Nothing is stored until Import is clicked, and a
failed import or store leaves the sets already imported as they were (the engine writes atomically).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

import engine
from app.data_import.confirm_bar import ConfirmBar
from app.data_import.import_job import ImportJobs, ImportResult, label_column_value
from app.data_import.preview import ImportPreview
from app.file_dialogs import last_folder, open_file_name, remember_folder
from app.tones import follow_tone

FILE_FILTER = "Data files (*.csv *.npz *ubyte *.idx *.gz);;All files (*)"
COLOURS = {"auto": "Automatic", "grayscale": "Grayscale", "rgb": "Colour (RGB)"}
CSV_SUFFIXES = (".csv", ".txt")  # the label column can be set before the first try, which may need it
MAX_SIDE = 4096  # the importer's own limit


def _size_box() -> QSpinBox:
    box = QSpinBox()
    box.setRange(0, MAX_SIDE)
    box.setSpecialValueText("auto")  # 0: the size most of the images have (the importer's choice)
    box.setKeyboardTracking(False)  # a typed size imports once, at Enter or when focus leaves: not per digit
    return box


class ImportDialog(QDialog):
    stored = Signal(object)  # engine.datasets.ImportedSet
    use_requested = Signal(str)  # the stored set's name: select it in the training form

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Import a Data Set")
        self.jobs = ImportJobs(self)
        self.result: ImportResult | None = None
        self._source: Path | None = None  # the path the preview (or the running import) is of
        self._name_typed = False  # the person typed a name: a new source no longer replaces it
        self._size_chosen = False  # the person set the size: a re-import keeps it
        self._stored_name = ""
        self._reading_folder = False
        self._storing = False

        self.path = QLineEdit()
        self.path.setPlaceholderText("A folder with one sub-folder per class, or a .csv, .npz or IDX file")
        self.folder_button = QPushButton("Folder…")
        self.file_button = QPushButton("File…")
        self.name = QLineEdit()
        self.name_message = QLabel()
        self.name_message.setWordWrap(True)
        follow_tone(self.name_message, "error")
        self.height_box, self.width_box = _size_box(), _size_box()
        self.colour = QComboBox()
        for key, label in COLOURS.items():
            self.colour.addItem(label, key)
        self.label_column = QLineEdit()
        self.label_column.setPlaceholderText("“label”, else the first")
        self.label_column.setToolTip("The CSV column holding the class: its header name or its number (from 0)")
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.error = QLabel()  # a DatasetError's words, naming the file
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        follow_tone(self.error, "error")
        self.preview = ImportPreview()
        self.replace_bar = ConfirmBar("Replace", "Keep the stored one")
        self.use_button = QPushButton("Use for Training")
        self.use_button.setToolTip("Select this data set in the training form")
        self.import_button = QPushButton("Import")
        self.close_button = QPushButton("Close")
        self._lay_out()

        self.folder_button.clicked.connect(self.choose_folder)
        self.file_button.clicked.connect(self.choose_file)
        self.path.returnPressed.connect(lambda: self.open_source(self.path.text()))
        self.name.textEdited.connect(self._name_edited)
        self.name.textChanged.connect(self._check_name)
        self.height_box.valueChanged.connect(self._size_changed)
        self.width_box.valueChanged.connect(self._size_changed)
        self.colour.currentIndexChanged.connect(lambda _index: self._reimport())
        self.label_column.editingFinished.connect(self._label_column_changed)
        self.cancel_button.clicked.connect(self.jobs.cancel)
        self.import_button.clicked.connect(self.store)
        self.use_button.clicked.connect(self._use)
        self.close_button.clicked.connect(self.reject)
        self.jobs.progressed.connect(self._progressed)
        self.jobs.imported.connect(self._imported)
        self.jobs.stored.connect(self._stored)
        self.jobs.failed.connect(self._failed)
        self.jobs.cancelled.connect(self._cancelled)
        self._set_options_enabled(None)
        self._set_busy(False)
        self._open_at_a_size_that_fits()

    def _open_at_a_size_that_fits(self) -> None:
        """980x680, or less on a small screen (1280x720 at 150% is 853x480): never larger than the screen."""
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        width, height = 980, 680
        if screen is not None:
            width, height = min(width, screen.width() * 9 // 10), min(height, screen.height() * 9 // 10)
        self.resize(width, height)

    def _lay_out(self) -> None:
        options = QGridLayout()
        options.addWidget(QLabel("Source"), 0, 0)
        source = QHBoxLayout()
        source.addWidget(self.path, 1)
        source.addWidget(self.folder_button)
        source.addWidget(self.file_button)
        options.addLayout(source, 0, 1)
        options.addWidget(QLabel("Name"), 1, 0)
        name = QHBoxLayout()
        name.addWidget(self.name)
        name.addWidget(self.name_message, 1)  # beside the field: the rows below do not jump as it comes and goes
        self.name.setMinimumWidth(240)
        options.addLayout(name, 1, 1)
        size = QHBoxLayout()
        for widget in (self.height_box, QLabel("×"), self.width_box, QLabel("pixels (height × width)")):
            size.addWidget(widget)
        size.addStretch(1)
        options.addWidget(QLabel("Image size"), 2, 0)
        options.addLayout(size, 2, 1)
        read_as = QHBoxLayout()
        read_as.addWidget(self.colour)
        read_as.addSpacing(24)
        read_as.addWidget(QLabel("CSV label column"))
        read_as.addWidget(self.label_column)
        read_as.addStretch(1)
        self.label_column.setMinimumWidth(170)
        options.addWidget(QLabel("Colour"), 3, 0)
        options.addLayout(read_as, 3, 1)
        options.setColumnStretch(1, 1)
        progress = QHBoxLayout()
        progress.addWidget(self.progress, 1)
        progress.addWidget(self.cancel_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.use_button)
        buttons.addStretch(1)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(options)
        layout.addLayout(progress)
        layout.addWidget(self.status)
        layout.addWidget(self.error)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.replace_bar)
        layout.addLayout(buttons)
        self.use_button.hide()
        self.import_button.setDefault(True)

    # -- choosing the source -------------------------------------------------------------------------------
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import a folder of images", str(last_folder()))
        if folder:
            remember_folder(folder)
            self.open_source(folder)

    def choose_file(self) -> None:
        path = open_file_name(self, "Import a CSV, NumPy or IDX file", FILE_FILTER)
        if path:
            self.open_source(path)

    def open_source(self, path: str | Path) -> None:
        """Import ``path`` for the preview (off the GUI thread), with the importer's own size and colour."""
        text = str(path).strip()
        if not text:
            return
        source = Path(text).expanduser()
        self.path.setText(str(source))
        self._source = source
        self._size_chosen = False
        self._show_size(0, 0)  # "auto" until the importer has chosen
        self.result = None
        if not self._name_typed:
            try:
                self.name.setText(engine.datasets.suggest_imported_name(source))
            except engine.datasets.DatasetError:
                self.name.clear()
        self._set_options_enabled(None)
        self.label_column.setEnabled(source.suffix.lower() in CSV_SUFFIXES)
        self._start_import()

    def _start_import(self) -> None:
        self.result = None  # Import stores what the preview shows: nothing until this import has finished
        self._show_error("")
        self.replace_bar.dismiss()
        self.use_button.hide()
        self.preview.clear(f"Reading {self._source}…")
        height, width = self.height_box.value(), self.width_box.value()
        size = (height, width) if self._size_chosen and height and width else None
        self._reading_folder = self._source.is_dir()
        self.jobs.start_import(self._source, size=size, color=self.colour.currentData(),
                               label_column=label_column_value(self.label_column.text()))
        self.status.setText(f"Reading {self._source}…")
        self._set_busy(True)

    def _reimport(self) -> None:
        if self._source is not None:
            self._start_import()

    def _show_size(self, height: int, width: int) -> None:
        for box, value in ((self.height_box, height), (self.width_box, width)):
            box.blockSignals(True)  # showing the importer's choice is not a choice of the person's
            box.setValue(value)
            box.blockSignals(False)

    def _size_changed(self, _value) -> None:
        self._size_chosen = True
        self._reimport()

    def _label_column_changed(self) -> None:
        if self._source is not None and self.label_column.isModified():
            self.label_column.setModified(False)
            self._start_import()

    # -- the import's progress and result ------------------------------------------------------------------
    def _progressed(self, done, total) -> None:
        if total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * min(done, total) / total))
            # Folders count files; CSV, IDX and NumPy files count bytes, which a percentage says better.
            self.progress.setFormat(f"{done:,} of {total:,} files" if self._reading_folder else "%p%")

    def _imported(self, result: ImportResult) -> None:
        self.result = result
        self._set_busy(False)
        dataset = result.dataset
        _channels, height, width = dataset.info.shape
        self._show_size(height, width)
        self._set_options_enabled(result.format)
        self.preview.show_dataset(dataset)
        skipped = len(dataset.warnings)
        self.status.setText(f"Read {dataset.num_train + dataset.num_test:,} examples from {result.path}"
                            + (f"; {skipped:,} file{'s' * (skipped != 1)} skipped (listed below)" if skipped else "")
                            + ". Nothing is stored until you click Import.")
        self._check_name()

    def _failed(self, message: str) -> None:
        storing, self._storing = self._storing, False
        self._set_busy(False)
        if storing:  # the preview stays, and Import can be tried again; the stored sets are as they were
            message = f"Nothing was stored: {message}"
        else:
            self.result = None
            self.preview.clear("Nothing to preview: the message above says what is wrong.")
        self.status.clear()
        self._show_error(message)
        self._check_name()

    def _cancelled(self) -> None:
        self._set_busy(False)
        self.result = None
        self.preview.clear("Cancelled: nothing was imported or stored.")
        self.status.setText("Cancelled.")
        self._check_name()

    # -- the name ------------------------------------------------------------------------------------------
    def _name_edited(self, _text: str) -> None:
        self._name_typed = True

    def _check_name(self, *_args) -> bool:
        """Say under the field what is wrong with the name (or that Import would replace a set); True if usable."""
        name = self.name.text().strip()
        ok = True
        try:
            engine.datasets.check_imported_name(name)
        except engine.datasets.DatasetError as problem:
            # Before a name is typed or suggested (nothing chosen yet) an empty field is not yet a fault to show.
            self.name_message.setText(str(problem) if name or self._name_typed or self.result is not None else "")
            follow_tone(self.name_message, "error")
            ok = False
        else:
            existing = engine.datasets.find_imported(name)
            follow_tone(self.name_message, "warning")  # a caution, not a fault: Import asks first
            self.name_message.setText(f"A data set named “{name}” is already imported: Import will ask before "
                                      f"replacing it." if existing else "")
        self.import_button.setEnabled(ok and self.result is not None and not self.jobs.busy)
        return ok

    # -- storing -------------------------------------------------------------------------------------------
    def store(self) -> None:
        """Import: store the previewed set under the name (asking first when that replaces a stored set)."""
        if self.result is None or self.jobs.busy or not self._check_name():
            return
        name = self.name.text().strip()
        existing = engine.datasets.find_imported(name)
        if existing is None:
            self._start_store(name, replace=False)
            return
        self.replace_bar.ask(f"A data set named “{name}” is already imported ({existing.num_train:,} training "
                             f"examples, from {existing.source}). Replace it with this one?",
                             lambda: self._start_store(name, replace=True))

    def _start_store(self, name: str, *, replace: bool) -> None:
        self._show_error("")
        self.status.setText(f"Storing “{name}”…")
        self.progress.setRange(0, 0)  # storing reports no progress: a busy bar
        self._set_busy(True, cancellable=False)
        self._storing = True
        self.jobs.start_store(self.result.dataset, name, replace=replace)

    def _stored(self, imported) -> None:
        self._storing = False
        self._set_busy(False)
        self._stored_name = imported.name
        self.status.setText(f"Stored “{imported.name}” ({imported.num_train:,} training and {imported.num_test:,} "
                            f"test examples, checksum {imported.sha256[:12]}). The training form's Data set box "
                            f"lists it.")
        self.use_button.show()
        self.use_button.setFocus()
        self.stored.emit(imported)

    def _use(self) -> None:
        self.use_requested.emit(self._stored_name)
        self.status.setText(f"The training form now uses “{self._stored_name}”.")

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))  # no empty line between the status and the preview

    # -- state ---------------------------------------------------------------------------------------------
    def _set_busy(self, busy: bool, cancellable: bool = True) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.cancel_button.setEnabled(busy and cancellable)
        if busy and cancellable:
            self.progress.setRange(0, 0)  # until the importer says how much there is
            self.progress.setFormat("")
        for widget in (self.path, self.folder_button, self.file_button):
            widget.setEnabled(not busy or cancellable)
        self.import_button.setEnabled(not busy and self.result is not None)
        if not busy:
            self._check_name()

    def _set_options_enabled(self, kind: str | None) -> None:
        """Size and colour apply to image folders, the label column to CSV files."""
        for widget in (self.height_box, self.width_box, self.colour):
            widget.setEnabled(kind == "images")
        self.label_column.setEnabled(kind == "csv" or (self._source is not None
                                                       and self._source.suffix.lower() in CSV_SUFFIXES))

    def reject(self) -> None:
        self.jobs.cancel(quietly=True)  # closing stops the import; a store in progress finishes (it is atomic)
        super().reject()
