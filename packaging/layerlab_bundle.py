"""What the PyInstaller spec builds on each platform: file names, icons, the data to include, what to leave out.

Kept apart from layerlab.spec (which only PyInstaller can run) so tests can check it on any platform.
Not importable as ``packaging.*``: that name belongs to the PyPI library pip and pytest use, so the spec
and the tests load this file by its path.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

APP_NAME = "LayerLab"
BUNDLE_IDENTIFIER = "org.layerlab.LayerLab"
# Modules that would only make the folder bigger: test and notebook tools, other Qt bindings (PyInstaller
# refuses two in one app), PyTorch (the engine's tests compare against it; the app never imports it).
EXCLUDED_MODULES = [
    "torch", "tkinter", "_tkinter", "matplotlib", "IPython", "jupyter_client", "ipykernel", "pytest", "pytestqt",
    "PyQt5", "PyQt6", "PySide2", "pyqtgraph.opengl", "pyqtgraph.examples", "scipy", "pandas",
]
# CuPy is left out too: its CUDA libraries are gigabytes, and the packaged app runs the engine on NumPy.
# A GPU machine installs LayerLab with pip instead (README, "GPU").
EXCLUDED_WITHOUT_GPU = ["cupy", "cupyx", "cupy_backends"]
# Package metadata the app reads at run time: its own version (app.version).
METADATA = ["layerlab"]


class Target(NamedTuple):  # a NamedTuple, not a dataclass: it works loaded by path, outside sys.modules
    executable: str  # the program inside the folder
    icon: str | None  # relative to the repository root; None where the platform takes no icon file
    console: bool  # False: a windowed app that opens no terminal on Windows and macOS
    app_bundle: bool  # macOS: wrap the folder in LayerLab.app


def target_for(platform: str) -> Target:
    """What to build for ``sys.platform``: "layerlab" on Linux (the .desktop file runs it), LayerLab.exe
    with an .ico on Windows, LayerLab.app with an .icns on macOS."""
    if platform.startswith("win"):
        return Target(APP_NAME, "resources/icons/layerlab.ico", console=False, app_bundle=False)
    if platform == "darwin":
        return Target(APP_NAME, "resources/icons/layerlab.icns", console=False, app_bundle=True)
    # Linux desktops take the icon from the .desktop file and the icon theme, not from the program.
    return Target("layerlab", None, console=True, app_bundle=False)


def resource_datas(root: Path) -> list[tuple[str, str]]:
    """(file, folder inside the app) for every file of resources/ except its Python code, which PyInstaller
    collects as a module; the folder layout is kept so ``resources.path("models/...")`` finds them."""
    datas = []
    for path in sorted((root / "resources").rglob("*")):
        if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts:
            datas.append((str(path), str(path.parent.relative_to(root))))
    return datas


def executable_path(dist: Path, platform: str) -> Path:
    """Where the built program is inside ``dist``."""
    target = target_for(platform)
    if target.app_bundle:
        return dist / f"{APP_NAME}.app" / "Contents" / "MacOS" / target.executable
    suffix = ".exe" if platform.startswith("win") else ""
    return dist / APP_NAME / f"{target.executable}{suffix}"
