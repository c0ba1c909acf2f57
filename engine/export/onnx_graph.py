"""Reading an ONNX graph's values: constants (initializers, Constant nodes and the shape arithmetic exporters
write around a Reshape), and the per-example shapes of the tensors layers produce.

torch.onnx.export writes ``x.view(x.size(0), -1)`` as Shape -> Gather -> Unsqueeze -> Concat -> Reshape; the
batch size is unknown (dynamic), so a shape value holds ``BATCH`` where the batch goes. Folding these few
operators on constants is all the "shape inference" an import needs: anything that mixes the batch into
arithmetic is a dynamic shape LayerLab cannot resolve, and is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BATCH = np.iinfo(np.int64).min + 1  # stands for the (dynamic) batch size inside a folded shape value

# Operators folded when every input is a constant: they compute shapes and weights, not layers.
FOLDABLE = ("Constant", "Identity", "Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Slice", "Cast",
            "Add", "Sub", "Mul", "Div", "Transpose", "ConstantOfShape")


@dataclass(frozen=True)
class Tensor:
    """The output of a layer in the spec being built: its node id and one example's shape (no batch)."""

    node_id: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class Permuted:
    """A layer's output read with its axes reordered, as ONNX's recurrent operators read and write sequences
    (steps first, batch second, a size-1 axis for the direction). ``axes`` lists, for each axis of this
    value, the axis of the layer's output it is (0 the batch, 1.. the example's) or None for an inserted
    size-1 axis. Transpose, Squeeze and Gather move it about; when the batch is first again and in order it
    becomes the ``Tensor`` itself (``as_tensor``)."""

    tensor: Tensor
    axes: tuple

    @property
    def node_id(self) -> str:
        return self.tensor.node_id

    def batch_shape(self) -> list[int]:
        return [BATCH if a == 0 else 1 if a is None else self.tensor.shape[a - 1] for a in self.axes]

    def as_tensor(self):
        """The Tensor once the axes are back in order (batch first), else this Permuted."""
        return self.tensor if self.axes == tuple(range(len(self.tensor.shape) + 1)) else self


def is_data(value) -> bool:
    """Whether ``value`` is the network's data (a layer's output, maybe with its axes moved), not a constant."""
    return isinstance(value, (Tensor, Permuted))


NO_LAYER = "has no LayerLab layer"  # Unsupported's words for an operator the refusal lists with the others


class Unsupported(ValueError):
    """This node cannot become a LayerLab layer; the message says why (the caller adds the node's name)."""


class FoldError(ValueError):
    """A constant cannot be worked out here (the words say why; the caller adds the node)."""


def attributes(node, onnx) -> dict:
    """A node's attributes as Python values (ints, floats, strings, lists, tensors as arrays)."""
    from onnx import numpy_helper

    values = {}
    for attribute in node.attribute:
        value = onnx.helper.get_attribute_value(attribute)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif isinstance(value, onnx.TensorProto):
            value = numpy_helper.to_array(value)
        elif isinstance(value, list):
            value = [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in value]
        values[attribute.name] = value
    return values


def bias_values(value, units: int, rank: int | None = None) -> np.ndarray:
    """``value`` as a bias of ``units`` values. With ``rank`` (the output's, batch included) it is added
    by ONNX's broadcasting, so it must vary along axis 1 alone (a (units, 1) constant added to a batch
    of vectors would be a different number per example, not a bias)."""
    if not isinstance(value, np.ndarray) or value.size not in (1, units):
        raise Unsupported(f"adds a bias that is not a constant of {units} values")
    if rank is not None and value.size > 1:
        aligned = (1,) * (rank - value.ndim) + value.shape if value.ndim <= rank else None
        if aligned is None or aligned[1] != units or any(d != 1 for i, d in enumerate(aligned) if i != 1):
            raise Unsupported(f"adds a constant of shape {list(value.shape)}, which is not one value a "
                              f"{'channel' if rank == 4 else 'feature'}; LayerLab adds a bias that way only")
    return np.broadcast_to(value.reshape(-1), (units,)).astype(np.float32)


def has_batch(value: np.ndarray) -> bool:
    return value.dtype == np.int64 and bool(np.any(value == BATCH))


def fold(op: str, inputs: list, attrs: dict, opset: int):
    """The constant output of ``op`` on constant (or, for Shape, tensor) inputs; FoldError if it cannot be."""
    if op == "Constant":
        for key in ("value", "value_float", "value_floats", "value_int", "value_ints"):
            if key in attrs:
                kind = np.float32 if "float" in key else np.int64 if "int" in key else None
                return np.asarray(attrs[key], dtype=kind)
        raise FoldError("a Constant of a kind LayerLab does not read (sparse or string)")
    if op == "Shape":
        (source,) = inputs[:1]
        if isinstance(source, Tensor):
            shape = np.array([BATCH, *source.shape], dtype=np.int64)
        elif isinstance(source, Permuted):
            shape = np.array(source.batch_shape(), dtype=np.int64)
        else:
            shape = np.array(source.shape, dtype=np.int64)
        start, end = attrs.get("start", 0), attrs.get("end")
        return shape[start:end]
    if any(is_data(v) for v in inputs):
        raise FoldError("reads a layer's output")
    if op == "ConstantOfShape":
        # torch's zero initial state of an RNN: (1, batch, units) zeros. The batch axis becomes 1: the value is
        # the same along it, so ONNX's broadcasting reads this constant exactly as the full one.
        fill = np.asarray(attrs.get("value", np.zeros(1, np.float32))).reshape(-1)[:1]
        dims = [1 if d == BATCH else int(d) for d in np.asarray(inputs[0]).reshape(-1)]
        if any(d < 0 for d in dims):
            raise FoldError(f"has a negative size in its shape {dims}")
        return np.full(dims, fill[0] if fill.size else 0.0, dtype=fill.dtype)
    if op == "Identity":
        return inputs[0]
    if op == "Cast":
        return inputs[0] if has_batch(inputs[0]) else inputs[0].astype(_numpy_type(attrs.get("to", 1)))
    if op == "Gather":
        return np.take(inputs[0], inputs[1].astype(np.int64), axis=attrs.get("axis", 0))
    if op in ("Unsqueeze", "Squeeze"):
        axes = attrs.get("axes") if opset < 13 else (inputs[1].tolist() if len(inputs) > 1 and inputs[1] is not None
                                                     else None)
        value = inputs[0]
        if op == "Unsqueeze":
            for axis in sorted(a % (value.ndim + len(axes)) for a in axes):
                value = np.expand_dims(value, axis)
            return value
        return np.squeeze(value, axis=None if axes is None else tuple(axes))
    if op == "Concat":
        return np.concatenate([np.atleast_1d(v) for v in inputs], axis=attrs.get("axis", 0))
    if op == "Slice":
        return _slice(inputs, attrs, opset)
    if op == "Transpose":
        return np.transpose(inputs[0], attrs.get("perm"))
    if any(has_batch(v) for v in inputs):
        raise FoldError("computes with the batch size, a dynamic shape LayerLab cannot resolve")
    a, b = inputs[0], inputs[1]
    if op == "Div" and np.issubdtype(a.dtype, np.integer):
        return a // b
    return {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[op](a, b)


def _slice(inputs, attrs, opset):
    value = inputs[0]
    if opset < 10:
        starts, ends, axes = attrs["starts"], attrs["ends"], attrs.get("axes")
        steps = None
    else:
        starts, ends = inputs[1].tolist(), inputs[2].tolist()
        axes = inputs[3].tolist() if len(inputs) > 3 and inputs[3] is not None else None
        steps = inputs[4].tolist() if len(inputs) > 4 and inputs[4] is not None else None
    axes = list(range(len(starts))) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    index = [slice(None)] * value.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        index[axis] = slice(start, end, step)
    return value[tuple(index)]


def _numpy_type(onnx_type: int):
    from onnx import helper

    return helper.tensor_dtype_to_np_dtype(onnx_type)


def fuse_gelu(nodes: list, constants: dict, helper) -> list:
    """``nodes`` with each exact GELU written out before opset 20 (x * 0.5 * (1 + erf(x / sqrt 2)): Div, Erf,
    Add, Mul, Mul, as our own export and torch.onnx.export write it) replaced by one Gelu node, which the
    translator reads as LayerLab's gelu. Anything else with an Erf is left alone (and refused)."""
    made_by = {output: node for node in nodes for output in node.output}
    readers: dict[str, list] = {}
    for node in nodes:
        for name in node.input:
            readers.setdefault(name, []).append(node)

    def constant_near(name, target) -> bool:
        value = constants.get(name)
        return isinstance(value, np.ndarray) and value.size == 1 and np.isclose(float(value.reshape(-1)[0]), target)

    def only_reader(name, op):
        found = readers.get(name, [])
        return found[0] if len(found) == 1 and found[0].op_type == op else None

    def other(node, name):
        rest = [i for i in node.input if i != name]
        return rest[0] if len(rest) == 1 else None

    replaced, gelus = set(), {}
    for erf in (n for n in nodes if n.op_type == "Erf"):
        div = made_by.get(erf.input[0])
        if div is None or div.op_type != "Div" or not constant_near(div.input[1], np.sqrt(2.0)):
            continue
        x = div.input[0]
        add = only_reader(erf.output[0], "Add")
        if add is None or not constant_near(other(add, erf.output[0]), 1.0):
            continue
        first = only_reader(add.output[0], "Mul")
        last = first and only_reader(first.output[0], "Mul")
        if last is None:
            continue
        factors = [other(first, add.output[0]), other(last, first.output[0])]
        # x and 0.5 multiply in, in either order
        if not (x in factors and any(f != x and constant_near(f, 0.5) for f in factors)):
            continue
        pattern = (div, erf, add, first, last)
        replaced.update(id(n) for n in pattern)
        gelus[id(last)] = helper.make_node("Gelu", [x], [last.output[0]], name=div.name.rsplit("/", 1)[0] or div.name,
                                           approximate="none")
    return [gelus.get(id(n), n) for n in nodes if id(n) not in replaced or id(n) in gelus]
