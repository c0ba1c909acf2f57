"""LayerLab finds its bundled files through ``resources.path``, from the checkout and from a real install."""

import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

import resources

REPO = Path(__file__).resolve().parent.parent
# setuptools builds wheels by itself from 70.1; before, its bdist_wheel command came with the `wheel` package.
SETUPTOOLS_WITH_BDIST_WHEEL = Version("70.1")


def installed_version(name: str) -> Version | None:
    try:
        return Version(metadata.version(name))
    except metadata.PackageNotFoundError:
        return None


def build_tools_at_hand() -> bool:
    """Whether this environment can build the project's wheel itself: pyproject.toml's [build-system]
    requires, each installed in a version it accepts, and the wheel-building command with them."""
    build_system = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["build-system"]
    for requirement in map(Requirement, build_system["requires"]):
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        version = installed_version(requirement.name)
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            return False
    setuptools = installed_version("setuptools")
    if setuptools is not None and setuptools < SETUPTOOLS_WITH_BDIST_WHEEL:
        return installed_version("wheel") is not None
    return True


def test_path_finds_the_app_icon_inside_the_package():
    icon = resources.path("icons/layerlab.svg")
    assert icon.is_file()
    assert icon.parent.parent == Path(resources.__file__).parent
    assert icon.read_text(encoding="utf-8").lstrip().startswith("<svg")


def test_missing_resource_is_named():
    with pytest.raises(FileNotFoundError, match="'icons/nothing.svg' is missing"):
        resources.path("icons/nothing.svg")


@pytest.mark.parametrize(("installed", "at_hand"), [
    ({"setuptools": "65.5.0"}, False),  # a fresh `python3 -m venv`: older than pyproject.toml asks
    ({"setuptools": "69.0"}, False),  # new enough, but without `wheel` it has no bdist_wheel
    ({"setuptools": "69.0", "wheel": "0.43"}, True),
    ({"setuptools": "84.2.1"}, True),
    ({}, False),
])
def test_the_copy_builds_with_the_tools_at_hand_only_when_they_can(monkeypatch, installed, at_hand):
    monkeypatch.setattr(sys.modules[__name__], "installed_version",
                        lambda name: Version(installed[name]) if name in installed else None)
    assert build_tools_at_hand() is at_hand


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
    # Build with the tools at hand (no download) only when they are the ones the project asks for;
    # otherwise pip builds in isolation, with fresh ones, as it does for a user.
    isolation = ["--no-build-isolation"] if build_tools_at_hand() else []
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
