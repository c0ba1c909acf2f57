"""LayerLab finds its bundled files through ``resources.path``, from the checkout and from a real install."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import resources

REPO = Path(__file__).resolve().parent.parent


def test_path_finds_the_app_icon_inside_the_package():
    icon = resources.path("icons/layerlab.svg")
    assert icon.is_file()
    assert icon.parent.parent == Path(resources.__file__).parent
    assert icon.read_text(encoding="utf-8").lstrip().startswith("<svg")


def test_missing_resource_is_named():
    with pytest.raises(FileNotFoundError, match="'icons/nothing.svg' is missing"):
        resources.path("icons/nothing.svg")


def test_an_installed_copy_finds_its_resources(tmp_path):
    """Build and install the project (not editable) into a folder, and ask that copy for its icon."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("app", "engine", "resources"):
        shutil.copytree(REPO / package, source / package, ignore=ignore)
    target = tmp_path / "site-packages"
    # Without build isolation when setuptools is at hand: no download needed.
    try:
        import setuptools  # noqa: F401

        isolation = ["--no-build-isolation"]
    except ImportError:
        isolation = []
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *isolation, "--target", str(target)]
    install = subprocess.run([*command, str(source)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr

    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import resources; "
        "print(resources.__file__); print(resources.path('icons/layerlab.svg'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(target)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    package_file, icon = result.stdout.splitlines()
    assert Path(package_file).is_relative_to(target)
    assert Path(icon).is_relative_to(target) and Path(icon).is_file()
