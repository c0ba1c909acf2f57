"""Designs and models leaving LayerLab: ONNX files, PyTorch and Keras code, TensorBoard logs; and ONNX coming in.

    import engine
    engine.export.export_onnx(network, "model.onnx")                 # onnx
    engine.export.import_onnx("model.onnx")                          # -> ImportedOnnx(spec, weights, notes)
    engine.export.export_pytorch(network, "model.py", training=...)  # .py + .safetensors (safetensors)
    engine.export.export_keras(network, "model.py", training=...)    # .py + .safetensors (safetensors)
    engine.export.TensorBoardLogger(log_dir, network)                # training events -> event files (tensorboardX)

Each bridge needs an optional package, so each lives in a module of its own (onnx_export, onnx_import,
pytorch_code, keras_code, tensorboard_log), imported only when one of its names is first used here (PEP 562):
``import engine`` stays NumPy-only. A missing optional package is a ``MissingExtraError`` that says which
extra installs it (extras.py).
"""

from __future__ import annotations

import importlib

from engine.export.extras import MissingExtraError, require

# Name -> the module it lives in, imported at first use.
_LAZY = {
    "export_onnx": "onnx_export", "OnnxExportError": "onnx_export",
    "import_onnx": "onnx_import", "ImportedOnnx": "onnx_import", "OnnxImportError": "onnx_import",
    "export_pytorch": "pytorch_code", "PyTorchExportError": "pytorch_module",
    "export_keras": "keras_code", "KerasExportError": "keras_layers",
    "TensorBoardLogger": "tensorboard_log", "tensorboard_available": "tensorboard_log",
    "safe_folder_name": "tensorboard_log", "TENSORBOARD_FEATURE": "tensorboard_log",
}
_RENAMED = {"TENSORBOARD_FEATURE": "FEATURE"}  # the module's own, plainer name

__all__ = ["MissingExtraError", "require", *_LAZY]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'engine.export' has no attribute {name!r}")
    # Looked up in its module at every use (a dictionary lookup once imported), never cached here: a test that
    # replaces the module, or hides it to check the missing-extra words, is then seen at once.
    module = importlib.import_module(f"engine.export.{_LAZY[name]}")
    return getattr(module, _RENAMED.get(name, name))


def __dir__() -> list[str]:
    return sorted(__all__)
