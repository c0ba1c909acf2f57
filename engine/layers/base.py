"""The layer lifecycle every layer type follows (Keras's five methods, trimmed to what we need).

1. ``__init__(node_id, config)``: check settings; a bad one raises SpecError naming node and field.
2. ``output_shape(input_shapes)`` and ``param_shapes(input_shapes)``: shapes per example, no data,
   no allocation — the canvas calls these on every edit.
3. ``build(input_shapes, store, rng)``: take parameter views from the network's flat store and
   initialise them.
4. ``forward(inputs, training)`` / ``backward(dy, need_input_grads)``: the math, side by side.
5. ``get_config()``: the node dict back, with every default filled in.

Shapes here never include the batch axis: an image is (C, H, W), a vector (features,).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from engine.checks import shown as describe_value
from engine.errors import SpecError
from engine.layers.fields import REQUIRED, Field, check_bool, check_int, check_number

__all__ = ["REQUIRED", "Field", "Layer", "ParamSpec", "check_bool", "check_int", "check_number", "describe_shape",
           "describe_value", "require_image"]


@dataclass(frozen=True)
class ParamSpec:
    """A parameter a layer will create: enough to count it and to initialise it."""

    shape: tuple[int, ...]
    initializer: Any  # an initializer config (str or dict), resolved by engine.initializers.get
    fans: tuple[int, int]  # (fan_in, fan_out) for variance-scaling initialisers
    regularize: bool = True
    transposed: bool = False  # stored as its transpose (see Dense); the shape seen is always ``shape``


class Layer:
    """Base class; subclasses set ``type_name``, ``fields`` and override what they need."""

    type_name: ClassVar[str] = ""
    # config field -> its declaration (kind, default, range, choices, help; engine.layers.fields). __init__
    # checks each setting against it and the app's editors read it through engine.layer_schema, so a range
    # is written once. Window fields have relative rules on top (docs/spec.md, "Limits").
    fields: ClassVar[dict[str, Field]] = {}
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int | None] = 1
    # Whether a backward pass may follow the next forward: the network sets it before each pass, so a
    # layer whose record for backward costs work of its own (max pooling's winners) can skip it.
    keep_for_backward: bool = True
    # Whether the next pass stops before this layer's activation (Dense, Conv2D, Activation): the network
    # sets it on its output layer before each pass, for the loss of a final softmax or sigmoid to read the
    # pre-activation (engine.output_head); backward then skips the activation's derivative as well.
    skip_activation: bool = False
    # True where the engine cuts this layer's passes into pieces for the cores itself (convolution,
    # pooling); a network with such a layer keeps BLAS to one thread per call (``Network._threads_for``).
    shares_out_its_work: ClassVar[bool] = False

    def __init__(self, node_id: str, config: dict):
        self.id = node_id
        unknown = sorted(set(config) - set(self.fields) - {"id", "type"}, key=str)
        if unknown:
            known = ", ".join(self.fields) or "none"
            raise SpecError(f"unknown field {describe_value(unknown[0])} for {self.type_name}; "
                            f"expected one of: {known}", node_id, "unknown field")
        settings = {}
        for field, declaration in self.fields.items():
            if field in config:
                settings[field] = config[field]
            elif declaration.required:
                raise SpecError(f"{self.type_name} needs the field {field!r}", node_id, "missing field")
            else:
                settings[field] = declaration.default
        try:
            for field, declaration in self.fields.items():
                settings[field] = declaration.checked(settings[field], field)
            self.configure(**settings)
        except ValueError as exc:
            raise SpecError(str(exc), node_id, "invalid setting") from None
        self._params = {}
        self._buffers = {}

    # -- 1. settings --------------------------------------------------------------------------
    def configure(self, **settings) -> None:
        """Check and store settings; raise ValueError with a Keras-style message."""
        for name, value in settings.items():
            setattr(self, name, value)

    def get_config(self) -> dict:
        config = {"id": self.id, "type": self.type_name}
        for field in self.fields:
            config[field] = getattr(self, field)
        return config

    # -- 2. shapes without data -----------------------------------------------------------------
    def output_shape(self, input_shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        return input_shapes[0]

    def param_shapes(self, input_shapes) -> dict[str, ParamSpec]:
        return {}

    def buffer_shapes(self, input_shapes) -> dict[str, tuple[tuple[int, ...], float]]:
        """Non-trainable state (name -> (shape, initial value)), e.g. BatchNorm's moving statistics."""
        return {}

    def flops(self, input_shapes, output_shape) -> int:
        """Forward floating-point operations per example (a multiply-add counts 2)."""
        return 0

    def error(self, message: str, rule: str) -> SpecError:
        return SpecError(message, self.id, rule)

    # -- 3. weights ------------------------------------------------------------------------------
    def build(self, input_shapes, store, rng, xp, dtype) -> None:
        from engine import initializers

        for name, spec in self.param_shapes(input_shapes).items():
            param = store.take(spec.shape, spec.regularize, spec.transposed)
            init = initializers.get(spec.initializer)
            param.value[...] = xp.asarray(init(spec.shape, spec.fans[0], spec.fans[1], rng, dtype))
            self._params[name] = param
        for name, (shape, fill) in self.buffer_shapes(input_shapes).items():
            self._buffers[name] = xp.full(shape, fill, dtype=dtype)

    def parameters(self) -> dict:
        return self._params

    def buffers(self) -> dict:
        return self._buffers

    # -- 4. math ----------------------------------------------------------------------------------
    def forward(self, inputs: list, training: bool):
        raise NotImplementedError

    def backward(self, dy, need_input_grads: bool = True) -> list:
        """Gradients w.r.t. each input (None where not needed); sets this layer's parameter grads.

        Gradients are *set*, not accumulated: each parameter belongs to one layer, used once per pass.
        """
        raise NotImplementedError

    def forget(self) -> None:
        """Drop what forward kept for backward (an inference pass calls this to free memory early)."""
        for name in ("_cache", "_saved", "_x", "_mask"):
            if hasattr(self, name):
                setattr(self, name, None)


# -- helpers shared by the layer types (the setting checks live in engine.layers.fields) ---------

def describe_shape(shape) -> str:
    return "x".join(str(d) for d in shape)


def require_image(layer: Layer, shape, what: str) -> tuple[int, int, int]:
    """The (C, H, W) of an image input, or a SpecError explaining what the layer needs."""
    if len(shape) != 3:
        raise layer.error(f"{what} expects an image input CxHxW; received shape {describe_shape(shape)}",
                          "input must be an image")
    return shape
