"""What each layer type is, for people: its palette group and a one-line description.

The canvas palette, the CLI and the docs read this; the layer classes themselves live in
``engine.layers``. Keeping the words here means the palette never has to import layer code.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class LayerTypeInfo:
    type: str
    group: str
    description: str


GROUPS = ("core", "convolution", "pooling", "recurrent", "normalisation/regularisation", "activation", "merge")

LAYER_TYPES: tuple[LayerTypeInfo, ...] = (
    LayerTypeInfo("Input", "core", "Where data enters: declares the shape of one example, e.g. 1x28x28."),
    LayerTypeInfo("Dense", "core", "Fully connected: every output is a weighted sum of all inputs (x @ W + b)."),
    LayerTypeInfo("Flatten", "core", "Unrolls feature maps into one long vector, so a Dense layer can follow."),
    LayerTypeInfo("Reshape", "core",
                  "Reads the same values as another shape, e.g. an image's 28 rows as 28 steps for an LSTM."),
    LayerTypeInfo("Conv2D", "convolution", "Slides learned filters over the image; each filter makes one feature map."),
    LayerTypeInfo("Conv2DTranspose", "convolution",
                  "Stamps learned filters onto a larger image, strides apart: a decoder's learned upsampling."),
    LayerTypeInfo("UpSampling2D", "convolution",
                  "Makes each feature map larger by repeating every pixel into a block (nearest neighbour)."),
    LayerTypeInfo("MaxPooling2D", "pooling",
                  "Keeps the largest value in each window: smaller maps, some shift tolerance."),
    LayerTypeInfo("AveragePooling2D", "pooling", "Averages each window: smaller, smoother feature maps."),
    LayerTypeInfo("SimpleRNN", "recurrent",
                  "Reads a sequence step by step, carrying a hidden state: h = tanh(x W + h R + b)."),
    LayerTypeInfo("LSTM", "recurrent",
                  "A recurrent layer with a memory cell and input, forget and output gates: remembers long."),
    LayerTypeInfo("GRU", "recurrent", "A lighter gated recurrent layer (update and reset gates, no separate cell)."),
    LayerTypeInfo("BatchNormalization", "normalisation/regularisation",
                  "Normalises each channel over the batch, then rescales; steadies and speeds training."),
    LayerTypeInfo("Dropout", "normalisation/regularisation",
                  "Zeroes a random fraction of values while training, so units cannot co-adapt."),
    LayerTypeInfo("Activation", "activation",
                  "Applies a non-linearity: relu, leaky_relu, sigmoid, tanh, softmax, elu, gelu."),
    LayerTypeInfo("Add", "merge", "Adds inputs of the same shape element by element (residual connections)."),
    LayerTypeInfo("Concatenate", "merge", "Stacks inputs along the channel axis (inception-style branches)."),
)


def layer_types() -> tuple[LayerTypeInfo, ...]:
    """Every layer type the engine can build, in palette order."""
    return LAYER_TYPES


@dataclass(frozen=True)
class LayerSchema:
    """What a node of one type accepts: its settings and how many inputs it takes (for editors).

    ``fields`` holds each setting's declaration (``engine.layers.fields.Field``: kind, default, range,
    choices, help), in the order a person reads them; the app builds its editors from these alone.
    """

    type: str
    required: tuple[str, ...]  # settings a node must give
    defaults: dict[str, Any]  # every optional setting and its default
    min_inputs: int
    max_inputs: int | None  # None: any number (Add, Concatenate)
    # numeric field -> (smallest, largest) accepted, for editors' ranges; window sizes also have rules
    # relative to their input (docs/spec.md, "Limits")
    limits: dict[str, tuple[float, float]] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)  # setting -> its Field declaration


def layer_schema(type_name: str) -> LayerSchema:
    """The settings and input count of ``type_name``, read from the layer class's declarations.

        >>> layer_schema("Dropout").required, layer_schema("Add").max_inputs
        (('rate',), None)
        >>> layer_schema("Dense").fields["units"].kind, layer_schema("Dense").limits["units"]
        ('int', (1, 2147483647))
    """
    from engine.errors import SpecError
    from engine.layers import LAYER_CLASSES

    cls = LAYER_CLASSES.get(type_name)
    if cls is None:
        raise SpecError(f"unknown layer type {type_name!r}; expected one of: {', '.join(LAYER_CLASSES)}",
                        rule="unknown type")
    declared = cls.fields
    required = tuple(name for name, f in declared.items() if f.required)
    defaults = {name: copy.deepcopy(f.default) for name, f in declared.items() if not f.required}
    limits = {name: (f.low, f.high) for name, f in declared.items() if f.low is not None and f.high is not None}
    return LayerSchema(cls.type_name, required, defaults, cls.min_inputs, cls.max_inputs, limits, dict(declared))


def register_layer_type(cls, group: str, description: str) -> None:
    """Add a layer type (a ``engine.layers.Layer`` subclass declaring its ``fields``) to the engine and the palette.

    Nothing else is needed for specs to build it, the canvas to show its shapes and the inspector to
    edit its settings: they all read the class and its schema. ``unregister_layer_type`` takes it away.
    """
    global LAYER_TYPES
    from engine.layers import LAYER_CLASSES

    if group not in GROUPS:
        raise ValueError(f"group must be one of: {', '.join(GROUPS)}; received group={group!r}")
    if cls.type_name in LAYER_CLASSES:
        raise ValueError(f"a layer type named {cls.type_name!r} exists already")
    LAYER_CLASSES[cls.type_name] = cls
    LAYER_TYPES = (*LAYER_TYPES, LayerTypeInfo(cls.type_name, group, description))


def unregister_layer_type(type_name: str) -> None:
    global LAYER_TYPES
    from engine.layers import LAYER_CLASSES

    LAYER_CLASSES.pop(type_name, None)
    LAYER_TYPES = tuple(info for info in LAYER_TYPES if info.type != type_name)
