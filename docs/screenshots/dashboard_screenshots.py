"""Screenshots of every dashboard panel mid-training (offscreen), for docs/screenshots/.

    QT_QPA_PLATFORM=offscreen python docs/screenshots/dashboard_screenshots.py [out_dir]

Trains the seed CNN on 3,000 MNIST examples and grabs each tab while it runs, then trains the toy
MLP on the spiral for the decision-boundary tab.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

import resources
from app.dashboard import install_dashboard


def wait(app: QApplication, seconds: float, until=lambda: False) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not until():
        app.processEvents()
        time.sleep(0.01)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv)
    window = QMainWindow()
    window.setCentralWidget(QLabel("(the canvas)"))
    window.resize(1500, 950)
    spec = {"value": json.loads(resources.examples()["seed-cnn"].read_text())}
    dashboard = install_dashboard(window, lambda: spec["value"], lambda: "mnist")
    window.show()
    form = dashboard.training_panel.form
    form.train_limit.setValue(3000)
    form.epochs.setValue(3)
    form.learning_rate.setValue(1e-3)
    dashboard.training_panel.start()
    controller = dashboard.controller
    wait(app, 240, until=lambda: len(controller.run.history) >= 1 if controller.run else False)
    wait(app, 4)
    dashboard.evaluation.evaluate_latest()
    dashboard.profile.profile_latest()
    wait(app, 60, until=lambda: not controller.tasks.busy)
    for index in range(dashboard.views.count()):
        dashboard.views.setCurrentIndex(index)
        wait(app, 1.5)
        name = dashboard.views.tabText(index).lower().replace(" ", "-")
        window.grab().save(str(out / f"dashboard-{name}.png"))
    controller.stop()
    wait(app, 60, until=lambda: controller.state == "finished")

    spec["value"] = json.loads(resources.examples()["toy-mlp"].read_text())
    form.select_dataset("toy:spiral")
    form.train_limit.setValue(0)
    form.epochs.setValue(300)
    form.batch_size.setValue(20)
    form.learning_rate.setValue(0.03)
    dashboard.training_panel.start()
    wait(app, 60, until=lambda: controller.run.number == 2 and len(controller.run.history) >= 150)
    dashboard.views.setCurrentWidget(dashboard.boundary)
    wait(app, 1.5)
    window.grab().save(str(out / "dashboard-decision-boundary-spiral.png"))
    dashboard.views.setCurrentWidget(dashboard.curves)
    wait(app, 1.0)
    window.grab().save(str(out / "dashboard-curves-two-runs.png"))
    assert dashboard.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)
