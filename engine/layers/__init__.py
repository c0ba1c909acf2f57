"""Layers own parameters and call the stateless functions of ``engine.ops`` (Chainer's links)."""

from __future__ import annotations

from engine.errors import SpecError
from engine.layers.base import Layer, ParamSpec
from engine.layers.conv import AveragePooling2D, Conv2D, MaxPooling2D
from engine.layers.core import Activation, Dense, Dropout, Flatten, Input
from engine.layers.decoder import Conv2DTranspose, UpSampling2D
from engine.layers.merge import Add, Concatenate
from engine.layers.normalization import BatchNormalization
from engine.layers.recurrent import GRU, LSTM, SimpleRNN
from engine.layers.reshape import Reshape

LAYER_CLASSES: dict[str, type[Layer]] = {
    cls.type_name: cls
    for cls in (Input, Dense, Flatten, Conv2D, MaxPooling2D, AveragePooling2D, BatchNormalization, Dropout,
                Activation, Add, Concatenate, Reshape, SimpleRNN, LSTM, GRU, UpSampling2D, Conv2DTranspose)
}


def make_layer(node: dict) -> Layer:
    """The layer for one spec node; SpecError naming the node for an unknown type or a bad setting."""
    node_id = node.get("id")
    layer_type = node.get("type")
    cls = LAYER_CLASSES.get(layer_type)
    if cls is None:
        raise SpecError(f"unknown layer type {layer_type!r}; expected one of: {', '.join(LAYER_CLASSES)}",
                        node_id, "unknown type")
    return cls(node_id, node)


__all__ = ["LAYER_CLASSES", "Layer", "ParamSpec", "make_layer"] + list(LAYER_CLASSES)
