"""GUI responsiveness while the seed CNN trains in the app, and the app's throughput beside the headless trainer's.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE QT_QPA_PLATFORM=offscreen \
        python benchmarks/bench_gui_responsiveness.py [--rounds 3] [--steps 300] [--view curves]

Each measurement runs in a fresh process of its own, as each runs for a user: the headless Trainer on the
process's main thread, as ``layerlab train`` runs it; the app with every dashboard panel installed, training
on its QThread, its GUI thread told to leave BLAS's thread count alone as ``layerlab`` tells it
(app/commands/gui.py), and the ``--view`` tab showing (default: Curves). A fresh process each keeps one
round's OpenBLAS thread state (engine/parallel.py, ``_BlasThreads``) from slowing the next. Rounds
alternate, headless first in odd rounds and the app first in even ones, so a busy machine hurts both alike,
and both use the same steps and warm-up.

Event-loop lag: a QTimer ticks every 10 ms on the GUI thread while training runs (after the warm-up); lag is
how late each tick fires. Throughput: samples per second of training time from the run's StepEvents after
the warm-up steps, in both. CPU: the app's GUI thread's and whole process's CPU time over the same window,
in cores (1.0: one core busy all the time). Issue 21's targets: app >= 0.95x headless with the Curves tab
showing, lag p99 <= 16 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TICK_MS = 10
TIMEOUT_MS = 1_200_000
VIEWS = ("curves", "filters", "activations", "histograms", "evaluation", "boundary", "profile")  # the tabs' order


def config(args):
    """As ``layerlab train`` runs (no snapshots); the app turns its once-a-second snapshots on itself."""
    from engine.training import TrainingConfig

    return TrainingConfig(epochs=1000, batch_size=args.batch_size, max_steps=args.steps,
                          optimizer={"name": "adam", "lr": 1e-4}, snapshot_every_steps=None)


def throughput(steps: list, skip: int, batch_size: int) -> float:
    """Samples per second of training time (pauses excluded) over the steps after ``skip`` warm-up steps."""
    first, last = steps[skip], steps[-1]
    return (last.step - first.step) * batch_size / max(last.elapsed - first.elapsed, 1e-9)


def headless(spec, args) -> dict:
    """The Trainer on this process's main thread, as ``layerlab train`` runs it."""
    import engine
    from app.dashboard.run_data import load_run_data
    from engine.training import StepEvent, Trainer

    data = load_run_data("mnist", validation=0, seed=0, train_limit=args.examples)
    steps = []
    Trainer(engine.build(spec), data.training, config(args),
            callback=lambda e: steps.append(e) if isinstance(e, StepEvent) else None).run()
    return {"speed": throughput(steps, args.warmup, args.batch_size)}


def in_app(spec, args) -> dict:
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    import engine
    from app.dashboard import install_dashboard
    from app.dashboard.run_controller import RunSettings

    QApplication.instance() or QApplication(sys.argv)
    engine.keep_blas_threads_on_this_thread()  # as `layerlab` does for its GUI thread (app/commands/gui.py)
    window = QMainWindow()
    window.setCentralWidget(QLabel("canvas"))
    window.resize(1400, 900)
    dashboard = install_dashboard(window, lambda: spec, lambda: "mnist")
    window.show()
    steps: list = []
    dashboard.controller.steps_reported.connect(steps.extend)
    lateness: list[float] = []
    busy: list[tuple[float, float, float]] = []  # (wall, GUI thread CPU, process CPU) at warm-up's end and at the end
    clock = QElapsedTimer()
    timer = QTimer()
    timer.setInterval(TICK_MS)

    def tick():
        elapsed = clock.nsecsElapsed() / 1e6
        clock.restart()
        if len(steps) > args.warmup:  # measure while training runs, after its warm-up
            lateness.append(max(0.0, elapsed - TICK_MS))
            if not busy:
                busy.append((time.perf_counter(), time.thread_time(), time.process_time()))

    clock.start()
    timer.timeout.connect(tick)
    timer.start()
    dashboard.views.setCurrentIndex(VIEWS.index(args.view))
    shown = dashboard.views.tabText(dashboard.views.currentIndex())
    dashboard.controller.start(RunSettings("mnist", config(args), validation=0, train_limit=args.examples), spec)
    # The event loop runs as in the app (``exec``), not polled: a poll would add GUI-thread work the app never does.
    loop = QEventLoop()
    dashboard.controller.state_changed.connect(lambda state: loop.quit() if state == "finished" else None)
    QTimer.singleShot(TIMEOUT_MS, loop.quit)
    loop.exec()
    busy.append((time.perf_counter(), time.thread_time(), time.process_time()))
    timer.stop()
    dashboard.shutdown()
    window.close()
    wall, gui_cpu, process_cpu = (end - start for start, end in zip(*busy, strict=True))
    return {"speed": throughput(steps, args.warmup, args.batch_size), "lateness": lateness, "tab": shown,
            "gui_cpu": gui_cpu / wall, "process_cpu": process_cpu / wall}


def measure(kind: str, args) -> dict:
    """One measurement in a fresh process of this script (``--measure``); its result comes back as JSON."""
    command = [sys.executable, __file__, "--measure", kind, "--model", args.model, "--steps", str(args.steps),
               "--warmup", str(args.warmup), "--batch-size", str(args.batch_size), "--examples",
               str(args.examples), "--view", args.view]
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        raise SystemExit(f"the {kind} measurement failed:\n{finished.stderr[-3000:]}")
    return json.loads(finished.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="seed-cnn")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--view", choices=VIEWS, default="curves", help="the tab showing while the app trains")
    parser.add_argument("--measure", choices=("headless", "app"), help=argparse.SUPPRESS)  # one round's process
    args = parser.parse_args()
    import resources

    spec = json.loads(resources.examples()[args.model].read_text())
    if args.measure:
        result = headless(spec, args) if args.measure == "headless" else in_app(spec, args)
        print(json.dumps(result))
        return
    cli, gui, lags, tabs, gui_cpu, process_cpu = [], [], [], set(), [], []
    for round_number in range(args.rounds):
        order = ("headless", "app") if round_number % 2 == 0 else ("app", "headless")
        for kind in order:
            result = measure(kind, args)
            if kind == "headless":
                cli.append(result["speed"])
            else:
                gui.append(result["speed"])
                lags.extend(result["lateness"])
                tabs.add(result["tab"])
                gui_cpu.append(result["gui_cpu"])
                process_cpu.append(result["process_cpu"])
            print(f"round {round_number + 1}, {kind}: {result['speed']:.0f} samples/s", flush=True)
    lags_sorted = np.sort(np.array(lags))
    p = {q: float(np.percentile(lags_sorted, q)) for q in (50, 95, 99)}
    cli_speed, gui_speed = statistics.median(cli), statistics.median(gui)
    niceness = os.environ.get("LAYERLAB_TRAINING_NICENESS", "default")
    print(f"{args.model}, batch {args.batch_size}, {args.steps} steps ({args.warmup} warm-up) x {args.rounds} rounds, "
          f"{os.cpu_count()} CPU(s), tab showing: {', '.join(sorted(tabs))}, training niceness {niceness}")
    print(f"{'measure':<34}{'value':>12}  target")
    print(f"{'event-loop lag p50 (ms)':<34}{p[50]:>12.1f}")
    print(f"{'event-loop lag p95 (ms)':<34}{p[95]:>12.1f}")
    print(f"{'event-loop lag p99 (ms)':<34}{p[99]:>12.1f}  <= 16 {'ok' if p[99] <= 16 else 'MISSED'}")
    print(f"{'event-loop lag max (ms)':<34}{float(lags_sorted[-1]):>12.1f}")
    print(f"{'ticks measured':<34}{len(lags):>12d}")
    print(f"{'headless samples/s (Trainer)':<34}{cli_speed:>12.0f}  {', '.join(f'{v:.0f}' for v in cli)}")
    print(f"{'app samples/s (StepEvents)':<34}{gui_speed:>12.0f}  {', '.join(f'{v:.0f}' for v in gui)}")
    print(f"{'GUI thread CPU (cores)':<34}{statistics.median(gui_cpu):>12.3f}  "
          f"{', '.join(f'{v:.3f}' for v in gui_cpu)}")
    print(f"{'app process CPU (cores)':<34}{statistics.median(process_cpu):>12.2f}  "
          f"{', '.join(f'{v:.2f}' for v in process_cpu)}")
    ratios = [g / c for g, c in zip(gui, cli, strict=True)]
    ratio = gui_speed / cli_speed
    print(f"{'app / headless (medians)':<34}{ratio:>12.2f}  >= 0.95 {'ok' if ratio >= 0.95 else 'MISSED'}")
    print(f"{'app / headless, each round':<34}{'':>12}  {', '.join(f'{r:.2f}' for r in ratios)}")


if __name__ == "__main__":
    main()
