"""Help > About LayerLab: the version, the engine's backend, the libraries in use with their versions, and
the licenses of LayerLab, its libraries and the bundled data (``resources/LICENSES.md``, shown as is so
the list is kept in one place).

    AboutDialog(window).exec()
    about_text()          # the same content as Markdown
"""

from __future__ import annotations

import importlib
import importlib.util
import platform
import sys

from PySide6.QtCore import qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

import engine
import resources
from app.version import package_version

LICENSES_RESOURCE = "LICENSES.md"
# (name shown, module whose __version__ says which one is in use); a frozen app has no package metadata,
# so the modules are asked, not importlib.metadata.
LIBRARIES = (("PySide6", "PySide6"), ("pyqtgraph", "pyqtgraph"), ("NumPy", "numpy"), ("Pillow", "PIL"),
             ("platformdirs", "platformdirs"), ("tqdm", "tqdm"), ("threadpoolctl", "threadpoolctl"))


def library_versions() -> list[tuple[str, str]]:
    """(name, version) of each library LayerLab runs on here; CuPy only when it is installed."""
    versions = [("Python", platform.python_version()), ("Qt", qVersion())]
    for name, module in LIBRARIES:
        versions.append((name, getattr(importlib.import_module(module), "__version__", "?")))
    if "cupy" in sys.modules:  # the engine already imported it: say which
        versions.append(("CuPy", getattr(sys.modules["cupy"], "__version__", "?")))
    elif importlib.util.find_spec("cupy") is not None:  # installed but unused: importing it costs seconds
        versions.append(("CuPy", "installed, not in use"))
    return versions


def licenses_text() -> str:
    try:
        return resources.path(LICENSES_RESOURCE).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:  # a broken install: say so instead of failing the dialog
        return f"The license list could not be read: {error}"


def about_text() -> str:
    """Markdown: what LayerLab is, its version and backend, the libraries in use, then every license."""
    in_use = ", ".join(f"{name} {version}" for name, version in library_versions())
    header = (
        f"# LayerLab {package_version()}\n\n"
        "A desktop workbench for neural networks: assemble layers on a canvas, train on your own machine "
        "(CPU through NumPy, NVIDIA GPU through CuPy), watch it learn, and draw digits for it to read.\n\n"
        f"**Engine backend:** {engine.backend.backend_name()}  \n"
        f"**Running on:** {in_use}\n\n"
    )
    licenses = licenses_text()
    # LICENSES.md opens with its own "# Licenses" title; one level down under the dialog's title.
    return header + licenses.replace("\n## ", "\n### ").replace("# Licenses", "## Licenses", 1)


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("About LayerLab")
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(True)
        self.text.setMarkdown(about_text())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(720, 560)
