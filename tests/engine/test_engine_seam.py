"""The engine/app seam: the engine never imports Qt (DESIGN.md, seam 1).

Checked in a fresh interpreter, because other tests in this session have already loaded Qt,
and statically, because an import inside a function would only load Qt when that function runs.
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

import engine

QT_PACKAGES = {"PySide6", "PySide2", "PyQt5", "PyQt6", "shiboken6", "shiboken2", "pyqtgraph", "qtpy", "sip"}
ENGINE_DIR = Path(engine.__file__).resolve().parent


def qt_modules_loaded_by(code: str) -> list[str]:
    report = f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(QT_PACKAGES)!r})))"
    script = f"{code}\nimport json, sys\n{report}"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_importing_engine_loads_no_qt():
    assert qt_modules_loaded_by("import engine") == []


def test_importing_every_engine_module_loads_no_qt():
    # Modules that fail to import for other reasons (an optional CuPy, say) are their own tests' business.
    code = (
        "import importlib, pkgutil, engine\n"
        "for info in pkgutil.walk_packages(engine.__path__, 'engine.', onerror=lambda name: None):\n"
        "    try:\n"
        "        importlib.import_module(info.name)\n"
        "    except Exception:\n"
        "        pass\n"
    )
    assert qt_modules_loaded_by(code) == []


def test_no_engine_source_file_imports_qt():
    offenders = []
    for source in sorted(ENGINE_DIR.rglob("*.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            offenders += [f"{source.relative_to(ENGINE_DIR)}:{node.lineno} imports {name}"
                          for name in names if name.split(".")[0] in QT_PACKAGES]
    assert offenders == []


def test_the_engine_trains_with_numpy_alone():
    """`import engine` needs only NumPy (a bare GPU box for the CuPy checks may have nothing else):
    without threadpoolctl, BLAS keeps its own threads and a training step still runs."""
    code = """
import sys
for name in ("threadpoolctl", "platformdirs", "PIL", "tqdm"):
    sys.modules[name] = None  # makes any import of them fail
import numpy as np, engine
spec = {"format": "layerlab-network", "version": 1, "name": "tiny", "nodes": [
    {"id": "input", "type": "Input", "shape": [1, 8, 8]},
    {"id": "conv", "type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"},
    {"id": "pool", "type": "MaxPooling2D"}, {"id": "flat", "type": "Flatten"},
    {"id": "out", "type": "Dense", "units": 3}]}
net = engine.build(spec, seed=0)
opt = engine.optimizers.Adam(net.parameters(), lr=1e-2)
x = np.random.default_rng(0).random((32, 1, 8, 8), dtype=np.float32)
labels = np.arange(32) % 3
for _ in range(3):
    loss, grad = engine.losses.softmax_cross_entropy(net.forward(x, training=True), labels)
    net.backward(grad, input_grad=False)
    opt.step()
print(float(loss))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert float(result.stdout.strip()) > 0
