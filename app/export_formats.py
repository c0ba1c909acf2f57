"""The three export formats: their titles, file types, the exporter each calls, and how to use what it wrote.

    fmt = FORMATS["pytorch"]
    fmt.title, fmt.suffix, fmt.file_filter
    written = run_exporter("pytorch", network, path, training=settings)   # [the .py, the .safetensors]
    pytorch_commands(Path("model.py"), gpus=4, nodes=2)                    # the lines to start it

The exporters (engine/export/) are imported only when an export runs, on the worker thread: each needs an
optional package, and a missing one is a MissingExtraError whose words say which extra to install.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

import engine

RENDEZVOUS_PORT = 29500  # torchrun's customary port for the c10d rendezvous


@dataclass(frozen=True)
class ExportFormat:
    key: str
    menu_text: str
    title: str
    suffix: str
    file_filter: str
    module: str  # engine.export module holding the exporter
    function: str
    takes_training: bool  # code exports carry the project's training settings; ONNX is the network alone


FORMATS = {
    "onnx": ExportFormat("onnx", "&ONNX…", "Export ONNX", ".onnx", "ONNX model (*.onnx)",
                         "engine.export.onnx_export", "export_onnx", False),
    "pytorch": ExportFormat("pytorch", "&PyTorch Code…", "Export PyTorch Code", ".py", "Python script (*.py)",
                            "engine.export.pytorch_code", "export_pytorch", True),
    "keras": ExportFormat("keras", "&Keras Code…", "Export Keras Code", ".py", "Python script (*.py)",
                          "engine.export.keras_code", "export_keras", True),
}


def run_exporter(key: str, network, path: Path, training: dict | None = None) -> list[Path]:
    """Write ``network`` to ``path`` in format ``key``; the files written. May raise MissingExtraError."""
    fmt = FORMATS[key]
    exporter = getattr(engine.export, fmt.function)  # imports its module now, on the worker thread
    if not fmt.takes_training:
        return [Path(exporter(network, path))]
    training = dict(training or {})
    written = exporter(network, path, training=training, dataset=training.get("dataset") or "mnist")
    return [Path(item) for item in written]


def pytorch_commands(script: Path, gpus: int, nodes: int) -> str:
    """How to start the exported PyTorch script: alone, on ``gpus`` GPUs of one machine, on ``nodes``
    machines of ``gpus`` GPUs each (the same line on every machine; HOST is the first machine's address)."""
    name = shlex.quote(script.name)
    return (f"# On this computer, one process (GPU if there is one, else CPU):\n"
            f"python {name}\n\n"
            f"# On {gpus} GPUs of this machine (data-parallel: NCCL on GPUs, gloo on CPUs):\n"
            f"torchrun --nproc_per_node {gpus} {name}\n\n"
            f"# On {nodes} machines with {gpus} GPUs each: run this on every machine,\n"
            f"# with HOST the first machine's address:\n"
            f"torchrun --nnodes {nodes} --nproc_per_node {gpus} --rdzv_backend c10d "
            f"--rdzv_endpoint HOST:{RENDEZVOUS_PORT} {name}\n")


def onnx_usage(model: Path, input_shape: tuple) -> str:
    name = model.name
    shape = ", ".join(["batch", *(str(size) for size in input_shape)])
    return (f"# Open {name} in Netron (https://netron.app) to see the graph and its weights.\n"
            f"# Run it with onnxruntime (pip install onnxruntime):\n"
            f"import onnxruntime\n"
            f"session = onnxruntime.InferenceSession({name!r})\n"
            f"outputs = session.run([\"output\"], {{\"input\": images}})[0]   # images: float32 [{shape}]\n")


def keras_usage(script: Path) -> str:
    name = shlex.quote(script.name)
    return (f"# Keras 3 runs on the backend KERAS_BACKEND names: torch, jax or tensorflow.\n"
            f"KERAS_BACKEND=torch python {name}\n\n"
            f"# On Windows (PowerShell):\n"
            f"$env:KERAS_BACKEND = \"torch\"; python {name}\n")
