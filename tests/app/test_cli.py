"""The ``layerlab`` command as a user runs it: a real process, its exit code, its output."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from app.version import package_version


def layerlab_command() -> list[str]:
    # The script pip installed beside this interpreter, so a venv tests its own install.
    script = Path(sys.executable).parent / ("layerlab.exe" if os.name == "nt" else "layerlab")
    if not script.exists():
        pytest.fail(f"the layerlab command is not installed next to {sys.executable}; run pip install -e '.[test]'")
    return [str(script)]


def run_layerlab(*args, env=None, cwd=None):
    return subprocess.run(
        [*layerlab_command(), *args], capture_output=True, text=True, timeout=120, env=env, cwd=cwd
    )


def test_version():
    result = run_layerlab("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"layerlab {package_version()}"


def test_help_lists_the_screenshot_command():
    result = run_layerlab("--help")
    assert result.returncode == 0
    assert "screenshot" in result.stdout and "main window" in result.stdout


def test_version_and_help_do_not_load_qt():
    # Engine-only commands (datasets, evaluate, predict, train...) share this entry point; they must start
    # without Qt, and `layerlab datasets` runs the engine without it.
    engine_only = [["--version"], ["--help"], ["datasets", "--help"], ["evaluate", "--help"],
                   ["predict", "--help"], ["datasets", "--json"]]
    code = (
        "import sys, contextlib, io\n"
        "from app import cli\n"
        f"for argv in {engine_only!r}:\n"
        "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "        cli.main(argv)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_screenshot_writes_a_png_of_the_requested_size(tmp_path):
    output = tmp_path / "window.png"
    result = run_layerlab("screenshot", str(output), "--size", "900x640")
    assert result.returncode == 0, result.stderr
    with Image.open(output) as image:
        assert image.format == "PNG"
        assert image.size == (900, 640)
        # A real render has text, docks and a plot: many colours, not a blank fill.
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 20)) > 20
    assert list(tmp_path.iterdir()) == [output]  # no temporary file left behind


def test_screenshot_finds_its_own_platform_without_a_display(tmp_path, network_file):
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    output = tmp_path / "with-network.png"
    result = run_layerlab("screenshot", str(output), "--project", str(network_file), env=env)
    assert result.returncode == 0, result.stderr
    with Image.open(output) as image:
        assert image.size == (1280, 800)


def test_screenshot_opens_a_project_file_and_selects_a_node(tmp_path, seed_spec):
    from app.document.project_file import write_project

    project = tmp_path / "seed.layerlab"
    layout = {node["id"]: [0.0, 80.0 * i] for i, node in enumerate(seed_spec["nodes"])}
    write_project(project, seed_spec, layout, {"dataset": "mnist"})
    output = tmp_path / "project.png"
    result = run_layerlab("screenshot", str(output), "--project", str(project), "--select", "conv2")
    assert result.returncode == 0, result.stderr
    assert output.exists()
    result = run_layerlab("screenshot", str(output), "--project", str(project), "--select", "conv9")
    assert result.returncode == 2
    assert "--select: there is no node 'conv9'; expected one of: input, conv1" in result.stderr


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        (["--size", "big"], 2, "--size must be WIDTHxHEIGHT in pixels, e.g. 1280x800 (received 'big')"),
        (["--size", "10x10"], 2, "--size must be between 640x480 and 7680x4320 (received 10x10)"),
        (["--project", "{missing}"], 1, "{missing}: no such file"),
    ],
)
def test_screenshot_errors_are_one_clear_line(tmp_path, args, exit_code, message):
    missing = str(tmp_path / "missing.json")
    args = [arg.format(missing=missing) for arg in args]
    result = run_layerlab("screenshot", str(tmp_path / "out.png"), *args)
    assert result.returncode == exit_code
    assert result.stderr.strip() == f"layerlab screenshot: {message.format(missing=missing)}"
    assert not (tmp_path / "out.png").exists()


def test_screenshot_into_a_missing_folder_fails_cleanly(tmp_path):
    output = tmp_path / "no-such-folder" / "out.png"
    result = run_layerlab("screenshot", str(output))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"layerlab screenshot: cannot write {output}: folder {output.parent} does not exist"
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="only Linux desktops can lack a display")
def test_gui_without_a_display_explains_instead_of_crashing():
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    result = run_layerlab(env=env)
    assert result.returncode == 1
    assert result.stderr.startswith("layerlab: no display found")
    assert "Traceback" not in result.stderr
