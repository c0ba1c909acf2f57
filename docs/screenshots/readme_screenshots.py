"""The README's screenshots, each made by the real app through `layerlab screenshot` (no display needed).

    python docs/screenshots/readme_screenshots.py [out_dir]     # about half a minute on a 2-core CPU

main-window.png        the Design workspace: the seed CNN, conv2 selected so the inspector shows its settings
first-launch.png       what a new user meets: the getting-started guide over the empty inspector
training-mid-run.png   the Train workspace after 150 real steps on MNIST, paused
train-workspace.png    the same at 1280x720, with a 3 drawn on the pad: the smallest window the layout is for
draw-a-digit.png       a 3 drawn on the Draw pad with the mouse, read by the bundled model

Run from the checkout (it runs `python -m app`, this checkout's code); look at every picture afterwards.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SIZE = "1280x800"
SHOTS = {
    "main-window.png": ["--select", "conv2"],
    "first-launch.png": ["--guide"],
    "training-mid-run.png": ["--train-steps", "150"],
    "train-workspace.png": ["--train-steps", "150", "--draw", "3", "--size", "1280x720"],
    "draw-a-digit.png": ["--draw", "3"],
}


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    for name, options in SHOTS.items():
        started = time.monotonic()
        size = [] if "--size" in options else ["--size", SIZE]
        command = [sys.executable, "-m", "app", "screenshot", str(out / name), *size, *options]
        result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
        if result.returncode != 0:
            print(f"readme_screenshots: {name} failed: {result.stderr.strip()}", file=sys.stderr)
            return 1
        print(f"{result.stdout.strip()} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent))
