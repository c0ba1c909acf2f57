"""The training panel: settings, Start / Pause-Resume / Step / Stop, progress, status and saving.

It builds the network from whatever the canvas holds through ``get_spec()``, so it does not depend on
how the canvas stores its document.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.dashboard.run_controller import RunController
from app.dashboard.status_line import StatusLine
from app.dashboard.training_settings import TrainingSettingsForm
from app.file_dialogs import save_file_name

MODEL_FILTER = "LayerLab model (*.llmodel)"
READY_TEXT = "Choose a data set and press Start."
FINISH_WORDS = {"completed": "finished", "max_steps": "finished", "stopped": "stopped",
                "early_stopping": "stopped early"}


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class TrainingPanel(QWidget):
    def __init__(self, controller: RunController, get_spec: Callable[[], dict], parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.get_spec = get_spec
        self.form = TrainingSettingsForm()
        scroll = self.settings_scroll = QScrollArea()
        scroll.setWidget(self.form)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.form.augmentation.clicked.connect(self._bring_augmentation_into_sight)  # a person's click, not a load

        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.step_button = QPushButton("Step")
        self.step_button.setToolTip("While paused: train on one more batch")
        self.stop_button = QPushButton("Stop")
        buttons = QHBoxLayout()
        # Wide enough for the longest label ("Resume"), not the style's 80 px: four of those would set the form's
        # column a minimum the Train workspace cannot give at 1280 px beside the views.
        metrics = self.start_button.fontMetrics()
        button_width = max(metrics.horizontalAdvance(text) for text in ("Start", "Resume", "Step", "Stop")) + 20
        for button in (self.start_button, self.pause_button, self.step_button, self.stop_button):
            button.setMinimumWidth(button_width)
            buttons.addWidget(button)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("not started")
        self.status = StatusLine(READY_TEXT)
        self.save_button = QPushButton("Save model…")
        self.save_best_button = QPushButton("Save best…")
        self.save_best_button.setToolTip("The weights of the epoch with the best validation accuracy (or, for a "
                                         "network that does not classify, the lowest validation loss)")
        saving = QHBoxLayout()
        saving.addWidget(self.save_button)
        saving.addWidget(self.save_best_button)

        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(saving)

        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self._pause_or_resume)
        self.step_button.clicked.connect(controller.step_once)
        self.stop_button.clicked.connect(controller.stop)
        self.save_button.clicked.connect(lambda: self._save(controller.save_latest, "model.llmodel"))
        self.save_best_button.clicked.connect(lambda: self._save(controller.save_best, "best.llmodel"))
        self.form.learning_rate.valueChanged.connect(controller.set_learning_rate)
        controller.state_changed.connect(self._show_state)
        controller.status_changed.connect(self.status.setText)
        controller.download_progressed.connect(self._show_download)
        controller.run_started.connect(self._begin_run)
        controller.steps_reported.connect(self._show_steps)
        controller.run_finished.connect(self._show_finish)
        controller.run_failed.connect(self._show_failure)
        controller.tensorboard_folder.connect(self.form.tensorboard.show_folder)
        controller.tensorboard_stopped.connect(self.form.tensorboard.show_problem)
        self._start_blocker: str | None = None
        self._run_began = False  # the latest Start got as far as training (not only loading)
        self._last_step = self._last_epoch = 0
        self._total_steps = 1
        self._epochs = 1
        self._show_state("idle")

    def _bring_augmentation_into_sight(self, on: bool) -> None:
        """The Augmentation group sits below every field: turned on, its boxes scroll into sight (once the
        layout has made room for them, hence the timer)."""
        if on:
            QTimer.singleShot(0, lambda: self.settings_scroll.ensureWidgetVisible(self.form.augmentation))

    def set_start_blocker(self, reason: str | None) -> None:
        """Why the design cannot be trained on the chosen data set (Start is off until it can), or None."""
        was_blocked, self._start_blocker = self._start_blocker, reason
        self._show_state(self.controller.state)
        if self.controller.state in ("idle", "finished"):
            if reason:
                self.status.setText(f"Cannot start: {reason}")
            elif was_blocked:
                self.status.setText(READY_TEXT)

    def start(self) -> None:
        try:
            settings = self.form.settings()
            spec = self.get_spec()
        except ValueError as exc:
            self.status.setText(str(exc))
            return
        self.controller.start(settings, spec)

    def _pause_or_resume(self) -> None:
        if self.controller.state == "paused":
            self.controller.resume()
        else:
            self.controller.pause()

    def _show_state(self, state: str) -> None:
        active = state in ("running", "paused")
        self.start_button.setEnabled(state in ("idle", "finished") and not self._start_blocker)
        self.start_button.setToolTip(f"Cannot start: {self._start_blocker}" if self._start_blocker
                                     else "Train the network on the canvas with these settings")
        self.pause_button.setEnabled(active)
        self.pause_button.setText("Resume" if state == "paused" else "Pause")
        self.step_button.setEnabled(state == "paused")
        self.stop_button.setEnabled(active)
        self.save_button.setEnabled(self.controller.run is not None and state != "preparing")
        self.save_best_button.setEnabled(self.save_button.isEnabled())
        for widget in (self.form.dataset, self.form.train_limit, self.form.optimizer, self.form.schedule,
                       self.form.batch_size, self.form.epochs, self.form.l2, self.form.validation,
                       self.form.early_stopping, self.form.seed, self.form.backend,
                       *self.form.optimizer_settings.values()):
            widget.setEnabled(state in ("idle", "finished"))  # the learning rate stays live
        self.form.augmentation.allow_edits(state in ("idle", "finished"))
        self.form.task.allow_edits(state in ("idle", "finished"))
        self.form.tensorboard.allow_edits(state in ("idle", "finished"))
        if state == "preparing":
            self.progress.setRange(0, 0)  # busy until the data is loaded
            self.progress.setFormat("loading the data…")
            self._run_began = False

    def _show_download(self, done, total) -> None:
        if total:
            self.progress.setRange(0, int(total))
            self.progress.setValue(int(done))
            self.progress.setFormat(f"downloading {done / 1e6:.1f} / {total / 1e6:.1f} MB")

    def _begin_run(self, run) -> None:
        self._run_began = True
        self._last_step = self._last_epoch = 0
        self._total_steps = max(1, run.total_steps)
        self._epochs = run.settings.config.epochs
        self.progress.setRange(0, self._total_steps)
        self.progress.setValue(0)
        self.progress.setFormat("starting…")

    def _show_steps(self, steps: list) -> None:
        last = steps[-1]
        self._last_step, self._last_epoch = last.step, last.epoch
        self.progress.setValue(min(last.step, self._total_steps))
        batch = self.controller.run.settings.config.batch_size
        remaining = (self._total_steps - last.step) * batch / max(last.samples_per_second, 1e-9)
        # Short enough for one line in a narrow panel; the words spelled out are in the tooltip.
        eta = format_duration(remaining)
        self.progress.setFormat(f"epoch {last.epoch + 1}/{self._epochs} · {last.step:,}/{self._total_steps:,}"
                                f" · {last.samples_per_second:,.0f}/s · {eta} left")
        self.progress.setToolTip(f"Epoch {last.epoch + 1} of {self._epochs}, step {last.step:,} of "
                                 f"{self._total_steps:,}, {last.samples_per_second:,.0f} samples a second, "
                                 f"about {eta} to go")

    def _show_finish(self, event) -> None:
        """The bar says how the run ended, where it ended; no time left is counted down any more."""
        self._last_step = event.step
        self.progress.setRange(0, self._total_steps)
        self.progress.setValue(min(event.step, self._total_steps))
        self.progress.setFormat(f"{FINISH_WORDS.get(event.reason, 'ended')} · epoch {self._last_epoch + 1}/"
                                f"{self._epochs} · step {event.step:,}/{self._total_steps:,}")
        self.progress.setToolTip(event.message)

    def _show_failure(self, message: str) -> None:
        began = self._run_began
        self.progress.setRange(0, self._total_steps if began else 1)  # never left busy
        self.progress.setValue(min(self._last_step, self._total_steps) if began else 0)
        self.progress.setFormat(f"failed · epoch {self._last_epoch + 1}/{self._epochs} · step {self._last_step:,}/"
                                f"{self._total_steps:,}" if began else "not started")
        self.progress.setToolTip(message)

    def _save(self, save, suggested: str) -> None:
        path, _ = save_file_name(self, "Save model", suggested, MODEL_FILTER)
        if not path:
            return
        try:
            saved = save(path)
        except (ValueError, OSError) as exc:
            self.status.setText(f"Not saved: {exc}")
            return
        self.status.setText(f"Saved {saved}")
