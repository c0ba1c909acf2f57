"""Every test gets its own store of imported data sets, so no test reads or writes the user's.

``engine.datasets.imported_dir()`` follows ``LAYERLAB_IMPORTED_DIR``; a fresh folder per test also keeps
one test's imported sets from showing up in another's listing.
"""

from __future__ import annotations

import pytest

IMPORTED_DIR_ENV = "LAYERLAB_IMPORTED_DIR"  # engine.datasets.IMPORTED_DIR_ENV; spelt out so this file imports no engine


@pytest.fixture(autouse=True)
def isolated_imported_sets(tmp_path_factory, monkeypatch):
    folder = tmp_path_factory.mktemp("imported-sets")
    monkeypatch.setenv(IMPORTED_DIR_ENV, str(folder))
    yield folder
