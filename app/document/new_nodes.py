"""New nodes as a person adds them: readable unique ids (conv1, conv2, dense1...) and starter settings.

Required settings get a value a beginner can train with right away; optional ones keep the engine's
defaults (absent from the node, so the spec stays as short as a hand-written one).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable

import engine

ID_PREFIXES = {
    "Input": "input",
    "Dense": "dense",
    "Flatten": "flatten",
    "Conv2D": "conv",
    "MaxPooling2D": "pool",
    "AveragePooling2D": "avgpool",
    "BatchNormalization": "bn",
    "Dropout": "dropout",
    "Activation": "act",
    "Add": "add",
    "Concatenate": "concat",
    "SimpleRNN": "rnn",
    "UpSampling2D": "upsample",
    "Conv2DTranspose": "convt",
}

STARTER_SETTINGS = {
    "Input": {"shape": [1, 28, 28]},  # one MNIST digit, the data set a new window starts with
    "Dense": {"units": 64, "activation": "relu"},
    "Conv2D": {"filters": 32, "kernel_size": 3, "padding": "same", "activation": "relu"},
    "Dropout": {"rate": 0.5},
    "Activation": {"activation": "relu"},
    "Reshape": {"target_shape": [-1]},  # valid after anything (all values in a row): then type the shape wanted
    "SimpleRNN": {"units": 128},
    "LSTM": {"units": 128},
    "GRU": {"units": 128},
    # A decoder's usual step: twice the height and width (the kernel stride 2, TensorFlow's 'same' rule).
    "Conv2DTranspose": {"filters": 32, "kernel_size": 3, "strides": 2, "padding": "same", "activation": "relu"},
}


def id_prefix(layer_type: str) -> str:
    """'MaxPooling2D' -> 'pool'; an unlisted type -> its name in lower case without digits."""
    return ID_PREFIXES.get(layer_type) or re.sub(r"[^a-z]", "", layer_type.lower()) or "node"


def unique_id(prefix: str, taken: Iterable[str]) -> str:
    """``prefix`` followed by the smallest number >= 1 not yet taken: conv1, conv2...

    The single Input is plainly ``input`` while that id is free.
    """
    taken = set(taken)
    if prefix == "input" and prefix not in taken:
        return prefix
    number = 1
    while f"{prefix}{number}" in taken:
        number += 1
    return f"{prefix}{number}"


def _starter_from_declaration(declared):
    """A required setting's first value from its declaration alone (the smallest number, the first choice),
    for a layer type with no starter value above; None where the declaration offers none."""
    if declared.kind in ("int", "size_pair") and declared.low is not None:
        return int(declared.low)
    if declared.kind == "float" and declared.low is not None:
        return float(declared.low)
    if declared.kind == "choice" and declared.choices:
        return declared.choices[0]
    if declared.kind == "bool":
        return False
    return None


def new_node(layer_type: str, taken: Iterable[str]) -> dict:
    """A node of ``layer_type`` with a fresh id and every required setting filled in."""
    schema = engine.layer_schema(layer_type)  # SpecError for an unknown type
    node = {"id": unique_id(id_prefix(layer_type), taken), "type": layer_type}
    node.update(copy.deepcopy(STARTER_SETTINGS.get(layer_type, {})))
    for field in schema.required:
        if field not in node:  # a layer type added to the engine without a starter value here
            starter = _starter_from_declaration(schema.fields[field])
            if starter is None:
                raise ValueError(f"no starter value for {layer_type}.{field}; add one to STARTER_SETTINGS")
            node[field] = starter
    return node
