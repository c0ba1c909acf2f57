"""File > New from Template: the example networks (``resources/examples``), each with the data set and the
training settings that learn it (``resources/templates.json``), so that Start works at once.

    names = template_names()              # the seed CNN first
    template_title("toy-mlp")             # the first sentence of its description, for the menu's status tip
    template_training("toy-mlp")          # {"dataset": "toy:spiral", "epochs": 300, ...}: a project's settings
"""

from __future__ import annotations

import json

import resources
from app.document.model import default_training_settings

START_TEMPLATE = "seed-cnn"
TEMPLATES_FORMAT = "layerlab-templates"


def template_names() -> list[str]:
    """Templates for File > New from Template, the seed CNN first."""
    return sorted(resources.examples(), key=lambda name: (name != START_TEMPLATE, name))


def template_title(name: str) -> str:
    spec = json.loads(resources.examples()[name].read_text(encoding="utf-8"))
    description = spec.get("description", "")
    return description.split(". ")[0] if description else name


def template_training(name: str) -> dict:
    """The training settings ``name`` opens with: its recipe over the defaults (a bundled file, not a user's)."""
    recipes = json.loads(resources.path("templates.json").read_text(encoding="utf-8"))
    if recipes.get("format") != TEMPLATES_FORMAT:
        raise ValueError(f"resources/templates.json: expected format {TEMPLATES_FORMAT!r}")
    return {**default_training_settings(), **recipes["training"].get(name, {})}
