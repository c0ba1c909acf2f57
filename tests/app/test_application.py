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


def test_garbage_is_collected_on_the_gui_thread_only(qapp):
    import gc

    from app.gui_thread_gc import GuiThreadGarbageCollector, install_gui_thread_gc

    collector = install_gui_thread_gc(qapp)
    assert isinstance(collector, GuiThreadGarbageCollector) and install_gui_thread_gc(qapp) is collector
    assert not gc.isenabled() and collector.timer.isActive()
    create_application()
    assert qapp.findChildren(GuiThreadGarbageCollector) == [collector]
    gc.collect()
    assert collector.collect_if_due() is None  # nothing due
    for _ in range(collector.thresholds[0] + 10):  # cycles, as Qt wrappers and their slots make
        cycle = []
        cycle.append(cycle)
    assert gc.get_count()[0] > collector.thresholds[0]
    assert collector.collect_if_due() == 0 and gc.get_count()[0] < collector.thresholds[0]
