"""The app uses only the engine's public API, what ``engine/__init__.py`` exports (DESIGN.md, seam 1)."""

import ast
from pathlib import Path

import engine

APP_DIR = Path(__file__).resolve().parents[2] / "app"


def engine_imports(source: Path):
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "engine":
                    yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "engine":
            for alias in node.names:
                yield node.lineno, node.module, alias.name


def test_app_imports_only_engine_itself_and_its_exported_names():
    offenders = []
    for source in sorted(APP_DIR.rglob("*.py")):
        for line, module, name in engine_imports(source):
            reaches_inside = module != "engine"
            unexported = name is not None and name not in engine.__all__
            if reaches_inside or unexported:
                what = f"from {module} import {name}" if name else f"import {module}"
                offenders.append(f"app/{source.relative_to(APP_DIR)}:{line}: {what}")
    assert offenders == [], "use `import engine` and the names it exports"
