"""The window at 1280x720 logical pixels, at scale factors 1.0 and 2.0: every workspace and dashboard tab
leaves each training control and Draw panel control wholly in sight, and the canvas 40 % of the window.

Each scale runs tests/app/window_fit_checks.py in a process of its own: the scale factor and the screen's size
are fixed when Qt starts. The offscreen platform is given a screen of exactly 1280x720 logical pixels (2560x1440
at 2.0), so the window must also open inside it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKS = Path(__file__).with_name("window_fit_checks.py")


@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_every_workspace_fits_1280x720(tmp_path, scale):
    screen = {"name": "test", "x": 0, "y": 0, "width": int(1280 * scale), "height": int(720 * scale),
              "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [screen]}))
    environment = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}", "QT_SCALE_FACTOR": str(scale)}
    environment.pop("QT_SCREEN_SCALE_FACTORS", None)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(CHECKS)],
                            cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "2 passed" in result.stdout, result.stdout[-2000:]
