"""Packaging: the smoke test on the installed app, the icons, the desktop entry, what the spec builds on
each platform, and (when PyInstaller is installed) a real frozen build that passes the smoke test."""

import os
import subprocess
import sys
from importlib.util import find_spec, module_from_spec, spec_from_file_location
from pathlib import Path

import pytest
from PIL import Image

from app.version import package_version
from tests.app.test_cli import run_layerlab

REPO = Path(__file__).resolve().parents[2]
PACKAGING = REPO / "packaging"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def load(name: str):
    """A packaging/ script by path: ``packaging`` is the name of a PyPI library that pip and pytest import."""
    loader = spec_from_file_location(f"layerlab_packaging_{name}", PACKAGING / f"{name}.py")
    module = module_from_spec(loader)
    loader.loader.exec_module(module)
    return module


def home_env(tmp_path) -> dict:
    """The environment with a fresh home, so a test sees whatever the app writes to the user's folders."""
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("XDG_")}
    return {**env, "HOME": str(home), "QT_QPA_PLATFORM": "offscreen"}


def test_the_smoke_test_passes_on_the_installed_app_and_leaves_settings_alone(tmp_path):
    picture = tmp_path / "smoke.png"
    env = home_env(tmp_path)
    result = run_layerlab("--smoke-test", str(picture), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "smoke test passed" in result.stdout
    assert "the bundled model reads" in result.stdout and "MNIST found in" in result.stdout
    with Image.open(picture) as image:
        assert image.size == (1280, 800)
    assert not any((Path(env["HOME"]) / ".config").glob("**/*.conf"))  # scratch settings only


def test_the_smoke_test_refuses_a_picture_it_cannot_write_before_starting(tmp_path):
    picture = tmp_path / "no-such-folder" / "smoke.png"
    result = run_layerlab("--smoke-test", str(picture), env=home_env(tmp_path))
    assert result.returncode == 1
    assert result.stderr.strip() == f"layerlab: cannot write {picture}: folder {picture.parent} does not exist"


def test_the_smoke_test_names_what_failed(qapp):
    from PySide6.QtGui import QColor, QPixmap

    from app.commands import smoke_test

    failures = []
    blank = QPixmap(64, 64)
    blank.fill(QColor("white"))
    smoke_test.check_render(blank, lambda passed, failure: passed or failures.append(failure), [])
    assert failures == ["the render looks blank: 1 colours"]


def test_icons_exist_in_every_size_for_every_platform():
    icons = REPO / "resources" / "icons"
    for size in ICON_SIZES:
        with Image.open(icons / f"layerlab-{size}.png") as image:
            assert image.size == (size, size) and image.mode == "RGBA"
    with Image.open(icons / "layerlab.ico") as ico:
        assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= ico.info["sizes"]
    with Image.open(icons / "layerlab.icns") as icns:
        assert icns.format == "ICNS" and icns.size == (1024, 1024)


def test_the_spec_builds_platform_names_and_icons():
    bundle = load("layerlab_bundle")
    linux, windows, mac = (bundle.target_for(platform) for platform in ("linux", "win32", "darwin"))
    assert (linux.executable, linux.icon) == ("layerlab", None)
    assert (windows.executable, windows.icon, windows.console) == ("LayerLab", "resources/icons/layerlab.ico", False)
    assert (mac.icon, mac.app_bundle) == ("resources/icons/layerlab.icns", True)
    for target in (windows, mac):
        assert (REPO / target.icon).is_file()
    dist = Path("dist")
    assert bundle.executable_path(dist, "linux") == dist / "LayerLab" / "layerlab"
    assert bundle.executable_path(dist, "win32") == dist / "LayerLab" / "LayerLab.exe"
    assert bundle.executable_path(dist, "darwin") == dist / "LayerLab.app" / "Contents" / "MacOS" / "LayerLab"


def test_the_spec_takes_every_resource_file_but_no_code():
    datas = load("layerlab_bundle").resource_datas(REPO)
    by_name = {Path(source).relative_to(REPO).as_posix(): folder for source, folder in datas}
    assert by_name["resources/models/seed-cnn-mnist.llmodel"] == "resources/models"
    assert by_name["resources/datasets/mnist/t10k-images-idx3-ubyte.gz"] == "resources/datasets/mnist"
    assert by_name["resources/LICENSES.md"] == "resources"
    assert "resources/icons/layerlab.svg" in by_name
    assert not [name for name in by_name if name.endswith((".py", ".pyc"))]


def test_the_desktop_entry_installs_with_its_icons(tmp_path):
    installer = load("install_desktop_entry")
    program = tmp_path / "Layer Lab" / "layerlab"  # a space: the Exec line must quote it
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n")
    prefix = tmp_path / "prefix"
    assert installer.main(["--prefix", str(prefix), "--exec", str(program)]) == 0
    entry = (prefix / "share" / "applications" / "layerlab.desktop").read_text(encoding="utf-8")
    assert f'Exec="{program}"' in entry and f"TryExec={program}" in entry
    assert "Icon=layerlab" in entry and "Type=Application" in entry
    for size in ICON_SIZES:
        assert (prefix / "share" / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "layerlab.png").is_file()
    assert (prefix / "share" / "icons" / "hicolor" / "scalable" / "apps" / "layerlab.svg").is_file()
    assert installer.main(["--prefix", str(prefix), "--uninstall"]) == 0
    assert not (prefix / "share" / "applications" / "layerlab.desktop").exists()


def test_the_desktop_entry_matches_the_app():
    from app.application import DESKTOP_FILE_NAME

    entry = dict(line.split("=", 1) for line in (PACKAGING / "layerlab.desktop").read_text().splitlines()
                 if "=" in line)
    assert (entry["Exec"], entry["Icon"], entry["Type"]) == ("layerlab", DESKTOP_FILE_NAME, "Application")
    assert entry["Name"] == "LayerLab" and entry["Terminal"] == "false"


@pytest.mark.skipif(find_spec("PyInstaller") is None, reason="no PyInstaller (pip install -e '.[package]')")
@pytest.mark.skipif(os.environ.get("LAYERLAB_SKIP_FROZEN_BUILD") == "1", reason="LAYERLAB_SKIP_FROZEN_BUILD=1")
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the frozen build is checked on Linux")
def test_a_frozen_build_passes_the_smoke_test(tmp_path):
    """packaging/build.py end to end (about a minute): PyInstaller, then the frozen app's --smoke-test."""
    dist, work = tmp_path / "dist", tmp_path / "work"
    result = subprocess.run([sys.executable, str(PACKAGING / "build.py"), "--dist", str(dist), "--work", str(work)],
                            capture_output=True, text=True, timeout=1200, cwd=REPO)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"LayerLab {package_version()}, frozen (PyInstaller)" in result.stdout  # its metadata was bundled
    assert f"MNIST found in {dist}" in result.stdout  # the app's own copy, not the checkout's
    assert "smoke test passed" in result.stdout
    assert "(reader in a process)" in result.stdout  # freeze_support(): the app's child reads, not a thread
    with Image.open(work / "smoke-test.png") as image:
        assert image.size == (1280, 800)
