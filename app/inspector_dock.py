"""The inspector (right dock): the selected node's settings as widgets, or what a palette layer does.

Edits go through the DocumentEditor (undoable); the shown values follow the document's signals, so
undo, redo and edits made elsewhere appear here too.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDockWidget,
    QFormLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

import engine
from app.document.errors import DocumentError
from app.field_editors import editor_for
from app.formatting import format_bytes, format_count, format_flops, format_shape, group_title
from app.tones import follow_tone

EMPTY_TEXT = "Select a layer to see its settings"


def _heading() -> QLabel:
    label = QLabel()
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 1.4)
    font.setBold(True)
    label.setFont(font)
    return label


def _wrapping(greyed: bool = False) -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setEnabled(not greyed)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class InspectorDock(QDockWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__("Inspector", parent)
        self.setObjectName("InspectorDock")
        self.editor = None
        self.node_id: str | None = None
        self.field_editors: dict = {}

        self.empty_label = QLabel(EMPTY_TEXT)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setEnabled(False)  # drawn greyed out: a hint, not content

        # What a palette layer type is.
        self.type_label, self.group_label, self.description_label = _heading(), _wrapping(True), _wrapping()
        details = QWidget()
        details_layout = QVBoxLayout(details)
        for widget in (self.type_label, self.group_label, self.description_label):
            details_layout.addWidget(widget)
        details_layout.addStretch(1)

        # The selected node.
        self.node_type_label, self.node_description = _heading(), _wrapping(True)
        self.id_edit = QLineEdit()
        self.id_edit.setToolTip("The node's id: how edges, files and messages name it")
        self.id_edit.editingFinished.connect(self._rename)
        self.id_error = _wrapping()
        follow_tone(self.id_error, "error")
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.output_label, self.problems_label = _wrapping(), _wrapping()
        follow_tone(self.problems_label, "error")
        node_page = QWidget()
        node_layout = QVBoxLayout(node_page)
        node_layout.addWidget(self.node_type_label)
        node_layout.addWidget(self.node_description)
        id_form = QFormLayout()
        id_form.addRow("id", self.id_edit)
        node_layout.addLayout(id_form)
        node_layout.addWidget(self.id_error)
        node_layout.addLayout(self.form)
        node_layout.addSpacing(6)
        node_layout.addWidget(self.output_label)
        node_layout.addWidget(self.problems_label)
        node_layout.addStretch(1)
        node_scroll = QScrollArea()
        node_scroll.setWidgetResizable(True)
        node_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        node_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        node_scroll.setWidget(node_page)
        self.node_page = node_scroll

        self.several_label = QLabel()
        self.several_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.several_label.setEnabled(False)

        self.pages = QStackedWidget()
        for page in (self.empty_label, details, self.node_page, self.several_label):
            self.pages.addWidget(page)
        self.details_page = details
        self.setWidget(self.pages)

    # -- wiring -------------------------------------------------------------------------------------------

    def set_editor(self, editor) -> None:
        self.editor = editor
        document = editor.document
        document.node_changed.connect(self._node_changed)
        document.node_renamed.connect(self._node_renamed)
        document.node_removed.connect(self._node_removed)
        document.analysis_changed.connect(self._show_analysis)
        document.reset.connect(self._document_reset)

    # -- what to show ---------------------------------------------------------------------------------------

    def show_layer_type(self, info) -> None:
        """Describe ``info`` (an entry of ``engine.layer_types()``); None shows the empty hint."""
        self.node_id = None
        if info is None:
            self.pages.setCurrentWidget(self.empty_label)
            return
        self.type_label.setText(info.type)
        self.group_label.setText(group_title(info.group))
        self.description_label.setText(info.description)
        self.pages.setCurrentWidget(self.details_page)

    def show_nodes(self, node_ids: list[str]) -> None:
        if len(node_ids) == 1:
            self._show_node(node_ids[0])
            return
        self.node_id = None
        if node_ids:
            self.several_label.setText(f"{len(node_ids)} nodes selected")
            self.pages.setCurrentWidget(self.several_label)
        else:
            self.pages.setCurrentWidget(self.empty_label)

    def is_empty(self) -> bool:
        return self.pages.currentWidget() is self.empty_label

    def _show_node(self, node_id: str) -> None:
        document = self.editor.document
        node = document.node(node_id)
        self.node_id = node_id
        info = next((i for i in engine.layer_types() if i.type == node["type"]), None)
        self.node_type_label.setText(node["type"])
        self.node_description.setText(info.description if info else "")
        self.id_edit.setText(node_id)
        self.id_error.hide()
        self._build_form(node["type"])
        self._node_changed(node_id)
        self._show_analysis(document.report)
        self.pages.setCurrentWidget(self.node_page)

    def _build_form(self, layer_type: str) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.field_editors = {}
        try:
            schema = engine.layer_schema(layer_type)
        except engine.SpecError:
            return  # an unknown type has no settings to edit; the problems list says why
        for field, declared in schema.fields.items():  # every editor comes from the engine's declaration
            editor = editor_for(declared)
            editor.value_edited.connect(lambda value, field=field: self._field_edited(field, value))
            label = QLabel(field)
            label.setToolTip(declared.help)
            self.form.addRow(label, editor)
            self.field_editors[field] = editor

    # -- following the document -----------------------------------------------------------------------------

    def _node_changed(self, node_id: str) -> None:
        if node_id != self.node_id:
            return
        node = self.editor.document.node(node_id)
        schema = engine.layer_schema(node["type"]) if self.field_editors else None
        for field, editor in self.field_editors.items():
            editor.set_value(node.get(field, schema.defaults.get(field)))

    def _document_reset(self) -> None:
        self.show_nodes([])

    def _node_renamed(self, old_id: str, new_id: str) -> None:
        if old_id == self.node_id:
            self.node_id = new_id
            self.id_edit.setText(new_id)

    def _node_removed(self, node_id: str) -> None:
        if node_id == self.node_id:
            self.show_nodes([])

    def _show_analysis(self, report) -> None:
        if self.node_id is None:
            return
        info = report.nodes.get(self.node_id)
        if info is None:
            self.output_label.setText("Output: unknown until the problems are fixed")
        else:
            self.output_label.setText(
                f"Output: <b>{format_shape(info.output_shape)}</b><br>"
                f"Parameters: {format_count(info.params)}<br>"
                f"Activation memory: {format_bytes(info.activation_bytes)} per example<br>"
                f"Compute: {format_flops(info.flops)} per example")
        problems = self.editor.document.problems_of(self.node_id)
        self.problems_label.setText("<br>".join(problems))
        self.problems_label.setVisible(bool(problems))

    # -- edits ----------------------------------------------------------------------------------------------

    def _field_edited(self, field: str, value) -> None:
        if self.node_id is not None:
            self.editor.set_fields(self.node_id, {field: value})

    def _rename(self) -> None:
        new_id = self.id_edit.text()
        if self.node_id is None or new_id == self.node_id:
            return
        try:
            self.editor.rename(self.node_id, new_id)
        except DocumentError as error:
            self.id_error.setText(str(error))
            self.id_error.show()
            self.id_edit.setText(self.node_id)
        else:
            self.id_error.hide()
