"""The live training dashboard (issue 7): a training panel and views that follow the run.

    dashboard = install_dashboard(window, get_spec, get_dataset_name)
    ...
    dashboard.shutdown()        # from the window's closeEvent
"""

__all__ = ["Dashboard", "install_dashboard"]


def __getattr__(name: str):
    # Loaded when first asked for, so that the Qt-free parts (run_data: the data sets a run reads) can be
    # imported without Qt, as the ``layerlab train`` command does.
    if name in __all__:
        from app.dashboard import install

        return getattr(install, name)
    raise AttributeError(f"module 'app.dashboard' has no attribute {name!r}")
