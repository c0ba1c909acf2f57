"""What each layer type is, for people: its palette group and a one-line description.

The canvas palette, the CLI and the docs read this; the layer classes themselves live in
``engine.layers``. Keeping the words here means the palette never has to import layer code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LayerTypeInfo:
    type: str
    group: str
    description: str


GROUPS = ("core", "convolution", "pooling", "normalisation/regularisation", "activation", "merge")

LAYER_TYPES: tuple[LayerTypeInfo, ...] = (
    LayerTypeInfo("Input", "core", "Where data enters: declares the shape of one example, e.g. 1x28x28."),
    LayerTypeInfo("Dense", "core", "Fully connected: every output is a weighted sum of all inputs (x @ W + b)."),
    LayerTypeInfo("Flatten", "core", "Unrolls feature maps into one long vector, so a Dense layer can follow."),
    LayerTypeInfo("Conv2D", "convolution", "Slides learned filters over the image; each filter makes one feature map."),
    LayerTypeInfo("MaxPooling2D", "pooling",
                  "Keeps the largest value in each window: smaller maps, some shift tolerance."),
    LayerTypeInfo("AveragePooling2D", "pooling", "Averages each window: smaller, smoother feature maps."),
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
