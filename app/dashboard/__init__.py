"""The live training dashboard (issue 7): a training panel and views that follow the run.

    dashboard = install_dashboard(window, get_spec, get_dataset_name)
    ...
    dashboard.shutdown()        # from the window's closeEvent
"""

from app.dashboard.install import Dashboard, install_dashboard

__all__ = ["Dashboard", "install_dashboard"]
