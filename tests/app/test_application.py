"""Process-wide setup: the icon renders from the bundled SVG, and the version has a fallback."""

import sys
from importlib import metadata

from app import version
from app.application import app_icon, create_application


def test_app_icon_renders_from_the_bundled_svg(qapp):
    pixmap = app_icon().pixmap(64, 64)
    assert not pixmap.isNull()
    assert pixmap.width() == 64


def test_create_application_reuses_and_names_the_running_app(qapp):
    assert create_application() is qapp
    assert qapp.applicationName() == "LayerLab"
    assert qapp.applicationVersion() == version.package_version()


def test_the_application_is_guarded_against_the_singleton_refcount_leak(qapp):
    create_application()
    if sys.implementation.name == "cpython" and sys.version_info < (3, 12):
        assert sys.getrefcount(True) > 1 << 39 and sys.getrefcount(None) > 1 << 39


def test_version_comes_from_pyproject_when_not_installed(monkeypatch):
    installed = version.package_version()

    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(version.metadata, "version", not_installed)
    assert version.package_version() == installed
