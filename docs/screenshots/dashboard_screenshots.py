"""Screenshots of every dashboard panel mid-training (offscreen), for docs/screenshots/.

    QT_QPA_PLATFORM=offscreen python docs/screenshots/dashboard_screenshots.py [out_dir]

Opens the main window at 1280x800, trains the seed CNN on 3,000 MNIST examples (Start opens the Train
workspace) and grabs each tab while it runs, then the toy MLP template on the spiral for the Boundary tab.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from app.application import create_application
from app.commands.offscreen_window import give_offscreen_a_large_screen
from app.main_window import MainWindow
from app.preferences import use_scratch_settings

SIZE = (1280, 800)


def wait(app: QApplication, seconds: float, until=lambda: False) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not until():
        app.processEvents()
        time.sleep(0.01)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    use_scratch_settings()  # the default layout; the person's own settings are left alone
    give_offscreen_a_large_screen()  # the window never opens larger than its screen; offscreen's is 800x800
    app = create_application()
    window = MainWindow()
    window.project.ask_to_save_changes = lambda: QMessageBox.StandardButton.Discard
    window.resize(*SIZE)
    window.show()
    dashboard = window.dashboard
    form = dashboard.training_panel.form
    form.train_limit.setValue(3000)
    form.epochs.setValue(3)
    form.learning_rate.setValue(1e-3)
    dashboard.training_panel.start()  # Start opens the Train workspace
    controller = dashboard.controller
    wait(app, 240, until=lambda: len(controller.run.history) >= 1 if controller.run else False)
    wait(app, 4)
    dashboard.evaluation.evaluate_latest()
    dashboard.profile.profile_latest()
    wait(app, 60, until=lambda: not controller.tasks.busy)
    for index in range(dashboard.views.count()):
        if dashboard.views.widget(index) is dashboard.boundary:
            continue  # MNIST has no 2-D boundary to show: its picture is the spiral's, below
        dashboard.views.setCurrentIndex(index)
        wait(app, 1.5)
        name = dashboard.views.tabText(index).lower().replace(" ", "-")
        window.grab().save(str(out / f"dashboard-{name}.png"))
    controller.stop()
    wait(app, 60, until=lambda: controller.state == "finished")

    window.project.open_template("toy-mlp")  # the spiral, with the settings that learn it
    dashboard.training_panel.start()
    wait(app, 120, until=lambda: controller.run.number == 2 and controller.state == "finished")
    dashboard.views.setCurrentWidget(dashboard.boundary)
    wait(app, 1.5)
    window.grab().save(str(out / "dashboard-decision-boundary-spiral.png"))
    dashboard.views.setCurrentWidget(dashboard.curves)
    wait(app, 1.5)
    window.grab().save(str(out / "dashboard-curves-two-runs.png"))
    assert dashboard.shutdown()
    window.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)
