"""LayerLab's bundled files: icons, example networks, the offline dataset and the trained model.

They are installed with the package (package data), so locate them through this package, never
through a path relative to the repository::

    from resources import examples, path
    icon_file = path("icons/layerlab.svg")
    seed_cnn_file = examples()["seed-cnn"]    # resources/examples/seed-cnn.json
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def path(relative: str) -> Path:
    """The file or folder ``relative`` (forward slashes) inside the installed resources.

    Raises FileNotFoundError naming the missing resource, so a broken install says what it lacks.
    """
    location = Path(str(files(__name__).joinpath(*relative.split("/"))))
    if not location.exists():
        raise FileNotFoundError(f"LayerLab resource {relative!r} is missing (looked in {location})")
    return location


def examples() -> dict[str, Path]:
    """The example networks (``examples/*.json``) by name, sorted: {"keras-mnist-cnn": Path, ...}."""
    return {file.stem: file for file in sorted(path("examples").glob("*.json"))}
