"""Helpers for the ONNX import tests: a torch module written as people export it, and the outputs of an imported
design beside onnxruntime's for the same file. Callers skip when torch or onnxruntime is missing."""

from __future__ import annotations

import numpy as np


def export_torch(module, path, input_shape, **options):
    """``module`` (in eval mode) written by torch.onnx.export with a dynamic batch, as people export."""
    import torch

    module.eval()
    torch.manual_seed(0)
    torch.onnx.export(module, (torch.randn(2, *input_shape),), str(path), dynamo=False, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                      **options)
    return path


def engine_outputs(imported, x):
    """The outputs of the imported design holding the imported weights."""
    import engine

    network = engine.Network(imported.spec, xp=np)
    network.load_state_dict(imported.weights)
    return network.predict(x)


def runtime_outputs(path, x):
    """onnxruntime's outputs for the file at ``path``."""
    import onnxruntime as ort

    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
