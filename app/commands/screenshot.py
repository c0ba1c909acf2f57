"""``layerlab screenshot OUT.png``: render the main window (no display needed) and save it as a PNG.

The README's pictures (docs/screenshots/readme_screenshots.py) and every later issue's "look at it" step
come from here. Options put the window in the state to show: a project, a selected node, a few real
training steps (the Train workspace mid-run), a digit drawn on the Draw pad, the first-run guide, the
workspace and dashboard tab to show.
"""

from __future__ import annotations

import re
from pathlib import Path

from app.commands.command_error import CommandError
from app.commands.drawn_digits import DIGIT_STROKES
from app.commands.output_files import check_output_file, write_problem

DEFAULT_SIZE = "1280x800"
MIN_SIZE = (640, 480)
MAX_SIZE = (7680, 4320)
MAX_TRAIN_STEPS = 5000
# Loading MNIST and building the run takes seconds; each step of the seed CNN a fraction of one on a CPU.
TRAIN_TIMEOUT_S = 120.0
SECONDS_PER_STEP_ALLOWED = 2.0
DRAW_TIMEOUT_S = 20.0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "screenshot",
        help="save a PNG of the main window (works without a display)",
        description="Open the main window offscreen, let it render, and save it as a PNG.",
    )
    parser.add_argument("output", metavar="OUT.png", help="where to write the PNG")
    parser.add_argument("--project", metavar="FILE",
                        help="a project (.layerlab) or network spec (layerlab-network JSON) to show; "
                             "default: the seed CNN a new window opens on")
    parser.add_argument("--select", metavar="NODE", help="select this node, so the inspector shows its settings")
    parser.add_argument("--train-steps", metavar="N", type=int, default=0,
                        help="train the network for N real steps with its project settings, pause, and show the "
                             "Training tab mid-run")
    parser.add_argument("--draw", metavar="DIGIT", type=int, choices=sorted(DIGIT_STROKES),
                        help="draw this digit (0-9) on the Draw pad with the mouse, so the panel reads it")
    parser.add_argument("--guide", action="store_true", help="show the getting-started guide of a first launch")
    parser.add_argument("--workspace", choices=("design", "train"),
                        help="the workspace to show (default: design, or train after --train-steps)")
    parser.add_argument("--tab", metavar="TAB",
                        help="the training dashboard's tab to show, e.g. Curves, Filters, Activations")
    parser.add_argument(
        "--size", metavar="WxH", default=DEFAULT_SIZE, help=f"window size in pixels (default {DEFAULT_SIZE})"
    )
    parser.set_defaults(run=run)


def parse_size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not match:
        raise CommandError(f"--size must be WIDTHxHEIGHT in pixels, e.g. {DEFAULT_SIZE} (received {text!r})", 2)
    width, height = int(match[1]), int(match[2])
    if not (MIN_SIZE[0] <= width <= MAX_SIZE[0] and MIN_SIZE[1] <= height <= MAX_SIZE[1]):
        raise CommandError(
            f"--size must be between {MIN_SIZE[0]}x{MIN_SIZE[1]} and {MAX_SIZE[0]}x{MAX_SIZE[1]} "
            f"(received {width}x{height})",
            2,
        )
    return width, height


def check_writable(output: str) -> Path:
    """The absolute path of ``output`` once it is a place a PNG may be written (not a folder, a device, a pipe
    or a name too long), checked before Qt starts; else CommandError."""
    return check_output_file(output, "OUT.png", example="screenshot.png").absolute()


def run(args) -> int:
    # Check everything that can be checked before Qt starts, so mistakes fail fast and cleanly.
    width, height = parse_size(args.size)
    output = check_writable(args.output)
    if not 0 <= args.train_steps <= MAX_TRAIN_STEPS:
        raise CommandError(f"--train-steps must be between 0 and {MAX_TRAIN_STEPS} (received {args.train_steps})", 2)
    project = None
    if args.project:
        from app.document.project_file import ProjectFileError, read_project

        try:
            project = read_project(args.project)
        except ProjectFileError as error:
            raise CommandError(str(error)) from None

    from app.commands import offscreen_window

    offscreen_window.use_offscreen_without_display()
    qt_app, window = offscreen_window.open_main_window()
    try:
        if project is not None:
            window.project.show_project(project)
        if args.select:
            if args.select not in window.scene.node_items:
                known = ", ".join(window.editor.document.node_ids())
                raise CommandError(f"--select: there is no node {args.select!r}; expected one of: {known}", 2)
            window.scene.select_nodes([args.select])
        window.resize(width, height)
        window.show()
        offscreen_window.settle()
        if args.train_steps:
            train_and_pause(qt_app, window, args.train_steps)
        if args.draw is not None:
            draw_and_read(qt_app, window, args.draw)
        if args.workspace:
            window.workspaces.switch(args.workspace)
        if args.tab:
            show_tab(window, args.tab)
        if args.guide:
            window.show_guide()
        offscreen_window.settle()
        actual = window.size()
        pixmap = offscreen_window.render(window, (width, height))
    finally:
        offscreen_window.close_without_asking(window)

    if (actual.width(), actual.height()) != (width, height):
        # The window manager or the window's minimum size overruled us; say so rather than stretch.
        raise CommandError(f"the window came out {actual.width()}x{actual.height()}, not {width}x{height}")
    data = offscreen_window.png_bytes(pixmap)
    if not data:
        raise CommandError(f"cannot write {args.output}: Qt could not encode the PNG")
    # Written through engine.atomic_write: an existing picture is never half-replaced.
    import engine

    try:
        engine.atomic_write(output, lambda handle: handle.write(data))
    except OSError as error:
        raise CommandError(f"cannot write {args.output}: {write_problem(error)}") from None
    print(f"saved {output} ({width}x{height})")
    return 0


def train_and_pause(qt_app, window, steps: int) -> None:
    """Start a real run (Start opens the Train workspace), let it take ``steps`` steps, pause it, and let the
    views catch up."""
    from app.commands.offscreen_window import wait

    dashboard = window.dashboard
    controller = dashboard.controller
    reached = []
    controller.steps_reported.connect(lambda reported: reached.append(reported[-1].step))
    dashboard.training_panel.start()
    timeout = TRAIN_TIMEOUT_S + steps * SECONDS_PER_STEP_ALLOWED
    ended = ("idle", "finished")
    wait(qt_app, timeout, until=lambda: (reached and reached[-1] >= steps) or controller.state in ended)
    if controller.state in ended and not (reached and reached[-1] >= steps):
        raise CommandError(f"--train-steps: the run stopped before step {steps}: "
                           f"{dashboard.training_panel.status.text()}")
    if not reached or reached[-1] < steps:
        raise CommandError(f"--train-steps: step {steps} not reached within {timeout:.0f} s")
    controller.pause()
    wait(qt_app, 30, until=lambda: controller.state == "paused")
    dashboard.curves.redraw()
    wait(qt_app, 1.5)  # the views refresh from the latest snapshot a moment after it arrives


def show_tab(window, title: str) -> None:
    views = window.dashboard.views
    titles = [views.tabText(index) for index in range(views.count())]
    matches = [index for index, text in enumerate(titles) if text.lower() == title.strip().lower()]
    if not matches:
        raise CommandError(f"--tab: there is no tab {title!r}; expected one of: {', '.join(titles)}", 2)
    views.setCurrentIndex(matches[0])


def draw_and_read(qt_app, window, digit: int) -> None:
    from app.commands.drawn_digits import draw_digit, wait_for_reading

    window.draw_dock.raise_()
    draw_digit(window.draw_panel.pad, digit)
    if wait_for_reading(qt_app, window.draw_panel, DRAW_TIMEOUT_S) is None:
        raise CommandError(f"--draw: the Draw panel did not read the drawing ({window.draw_panel.note.text()})")
