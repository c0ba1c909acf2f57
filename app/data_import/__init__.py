"""Importing the user's own data sets in the app: the Data set menu, the import dialog and its preview,
the list of imported sets (the engine does the reading and storing: engine.datasets.import_path, save_imported)."""

from app.data_import.menu import DataSetMenu

__all__ = ["DataSetMenu"]
