"""The network document: the single source of truth the canvas edits (orange-canvas-core's ``scheme``).

    model.py         NetworkDocument, a QObject with no graphics: the spec, node positions and training
                     settings, changed only through its methods, announcing every change by signal
    errors.py        the named errors its checks raise
    commands.py      QUndoCommands that call model methods only
    editor.py        DocumentEditor: what a person can do (add, connect, delete, paste...) as undoable commands
    project_file.py  reading and writing ``.layerlab`` project files (plain functions, no Qt)
    autosave.py      recovery files written while there are unsaved changes

This package's ``__init__`` imports nothing, so ``project_file`` can be used without loading Qt.
"""
