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
