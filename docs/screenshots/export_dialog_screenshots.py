"""Screenshot of File > Export > PyTorch Code… (offscreen), for docs/screenshots/export-dialog.png.

    QT_QPA_PLATFORM=offscreen python docs/screenshots/export_dialog_screenshots.py [out_dir]
    QT_SCALE_FACTOR=1.5 QT_QPA_PLATFORM=offscreen python docs/screenshots/export_dialog_screenshots.py /tmp/x

Trains the seed CNN briefly (2,000 examples, one epoch) in a 1280x720 window, opens the PyTorch export
dialog, sets 4 GPUs a machine and 3 machines, exports to a temporary folder and grabs the dialog: the
weights it exports (the run's), the training settings, the torchrun lines and the files written.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

from event_wait import wait  # noqa: E402  (beside this script, on sys.path when it runs)

SIZE = (1280, 720)


def main(out: Path) -> None:
    from app.application import create_application
    from app.commands.offscreen_window import give_offscreen_a_large_screen
    from app.main_window import MainWindow
    from app.preferences import use_scratch_settings

    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="layerlab-export-shots-"))
    use_scratch_settings()
    give_offscreen_a_large_screen()
    app = create_application()
    window = MainWindow()
    window.project.ask_to_save_changes = lambda: None
    window.resize(*SIZE)
    window.show()

    form, controller = window.dashboard.training_panel.form, window.dashboard.controller
    form.train_limit.setValue(2000)
    form.epochs.setValue(1)
    finished = []
    controller.run_finished.connect(finished.append)
    window.dashboard.training_panel.start_button.click()
    wait(300, lambda: bool(finished))

    dialog = window.export_menu.open_dialog("pytorch")
    dialog.path_edit.setText(str(scratch / "seed-cnn.py"))
    dialog.gpus_box.setValue(4)
    dialog.nodes_box.setValue(3)
    wait(10, lambda: not dialog.tasks.busy)  # the GPU count torch reports, before the person's 4 is read
    dialog.export_button.click()
    wait(120, lambda: not dialog.tasks.busy)
    wait(0.3)
    dialog.grab().save(str(out / "export-dialog.png"))

    window.dashboard.shutdown()
    window.close()
    del window, app


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
