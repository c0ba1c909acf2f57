"""The optional packages the export features need, and the words for when one is missing.

    onnx = require("onnx", "ONNX export")   # the module, or MissingExtraError:
    # "ONNX export needs the onnx package, part of LayerLab's 'export' extra: pip install 'layerlab[export]'"
"""

from __future__ import annotations

import importlib

EXTRA = "export"
INSTALL = f"pip install 'layerlab[{EXTRA}]'"


class MissingExtraError(ImportError):
    """An optional package a feature needs is not installed; the message says which extra installs it."""

    def __init__(self, package: str, feature: str):
        self.package, self.feature = package, feature
        super().__init__(f"{feature} needs the {package} package, part of LayerLab's '{EXTRA}' extra: {INSTALL}")


def require(module: str, feature: str, package: str | None = None):
    """Import ``module`` for ``feature``, or raise MissingExtraError naming ``package`` (default: the module)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(package or module.split(".")[0], feature) from None
