"""The seams of DESIGN.md hold as import contracts (docs/architecture.md maps them).

The contracts themselves are in pyproject.toml, under [tool.importlinter]; `.ci/run` checks them with
`lint-imports`, and this test checks them with every pytest run, so a broken seam fails where it is made.
One rule import-linter cannot state is read from the source here: the document, the training worker and the
run state use Qt's core, never its widgets (import-linter sees an external package only whole: PySide6).
"""

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytest.importorskip("importlinter", reason="import-linter is in the test extra: pip install -e '.[test]'")
grimp = pytest.importorskip("grimp", reason="grimp comes with import-linter: pip install -e '.[test]'")

ROOT = Path(__file__).resolve().parents[1]
WIDGET_MODULES = {"PySide6.QtWidgets", "pyqtgraph"}
# The model, the worker and the run state both rooms read: no widget, even indirectly.
QT_CORE_ONLY_PACKAGES = ["app.document", "app.training", "app.run_state"]


def contracts():
    with open(ROOT / "pyproject.toml", "rb") as config:
        return tomllib.load(config)["tool"]["importlinter"]["contracts"]


def test_every_import_contract_is_kept():
    # A child process, as `lint-imports` runs in .ci/run: the linter puts the working folder on sys.path.
    # No cache, so that no .import_linter_cache folder is left in the checkout.
    linter = "import sys; "
    linter += "from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"
    result = subprocess.run([sys.executable, "-c", linter], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"a seam is broken (see docs/architecture.md):\n{result.stdout}{result.stderr}"


def test_the_panel_contract_names_every_dashboard_panel():
    # import-linter's wildcards stand for whole module names, so the panels are listed; a new one must join.
    panels = {f"app.dashboard.{path.stem}" for path in (ROOT / "app" / "dashboard").glob("*_panel.py")}
    (contract,) = [contract for contract in contracts() if contract["name"].startswith("the dashboard's panels")]
    assert set(contract["modules"]) == panels


def module_path(module: str) -> Path:
    path = ROOT.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def imported_names(source: Path):
    """Every module a file imports, by its full name ('from PySide6 import QtWidgets' -> 'PySide6.QtWidgets')."""
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"), filename=str(source))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


@pytest.mark.parametrize("package", QT_CORE_ONLY_PACKAGES)
def test_package_uses_no_qt_widgets_even_indirectly(package):
    graph = grimp.build_graph("app", "engine", cache_dir=None)
    own_modules = {module for module in graph.modules if module == package or module.startswith(package + ".")}
    reached = own_modules | graph.find_upstream_modules(package, as_package=True)
    offenders = [
        f"{module_path(module).relative_to(ROOT)}:{line}: imports {name}"
        for module in sorted(reached)
        for line, name in imported_names(module_path(module))
        if any(name == widget or name.startswith(widget + ".") for widget in WIDGET_MODULES)
    ]
    assert offenders == [], f"{package} must not reach Qt's widgets (DESIGN.md seams 2 and 4)"
