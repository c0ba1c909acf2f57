"""SimpleRNN, LSTM and GRU to ONNX's RNN, LSTM and GRU operators and back.

LayerLab keeps Keras's layout: ``kernel`` (features, G*units), ``recurrent_kernel`` (units, G*units), ``bias``
(G*units), the gates in the order LSTM i, f, c, o and GRU z, r, h (GRU with a second ``recurrent_bias``, the
reset applied after the recurrent product). ONNX keeps W (1, G*units, features), R (1, G*units, units) and
B (1, 2*G*units) = [Wb, Rb], the gates in the order LSTM i, o, f, c and GRU z, r, h. So going out:

    W = kernel.T, R = recurrent_kernel.T, gate blocks reordered (LSTM i f c o -> i o f c)
    B = [bias, zeros] (SimpleRNN, LSTM: one bias, added once), [bias, recurrent_bias] (GRU)
    GRU: linear_before_reset=1 (ONNX's name for Keras's reset_after=True, PyTorch's GRU)
    SimpleRNN: activations=[its activation] (Relu, Tanh, Sigmoid, LeakyRelu 0.2, Elu 1.0, Affine for linear)

ONNX's operators read the steps first (layout=0: X (steps, batch, features); onnxruntime runs no other
layout), so the input goes through Transpose [1, 0, 2]; the last state Y_h (1, batch, units) is squeezed to
(batch, units), and with return_sequences every step's Y (steps, 1, batch, units) is squeezed and transposed
back to (batch, steps, units). The initializers are named after the node: "lstm.W", "lstm.R", "lstm.B".

Coming in (``RecurrentOps``, mixed into engine/export/onnx_layers.py's GraphTranslator), the same in
reverse; a sequence read or written steps first is a ``Permuted`` value (engine/export/onnx_graph.py) until
Transpose, Squeeze or Gather put the batch back first. LSTM's two biases add up into its one bias. Settings
LayerLab's layers do not have are refused naming the attribute: direction other than forward, clip,
other activations, input_forget, peepholes (P), sequence_lens, an initial state that is not zeros, a GRU
with linear_before_reset=0, reading the cell state Y_c, or reading both Y and Y_h.
"""

from __future__ import annotations

import numpy as np

from engine.export.onnx_graph import NO_LAYER, Permuted, Tensor, Unsupported, is_data

ONNX_OP = {"SimpleRNN": "RNN", "LSTM": "LSTM", "GRU": "GRU"}
LAYER_OF_OP = {op: layer for layer, op in ONNX_OP.items()}
GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}
# ONNX's gate block j is LayerLab's block ONNX_ORDER[j] (LSTM: i o f c from i f c o); coming in, the inverse.
ONNX_ORDER = {"SimpleRNN": [0], "LSTM": [0, 3, 1, 2], "GRU": [0, 1, 2]}
LAYERLAB_ORDER = {"SimpleRNN": [0], "LSTM": [0, 2, 3, 1], "GRU": [0, 1, 2]}
DEFAULT_ACTIVATIONS = {"RNN": ["Tanh"], "LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"]}
# SimpleRNN's activation -> ONNX's name and its alpha/beta (engine.ops.activations: leaky 0.2, elu 1.0).
RNN_ACTIVATIONS = {"tanh": ("Tanh", None, None), "relu": ("Relu", None, None), "sigmoid": ("Sigmoid", None, None),
                   "leaky_relu": ("LeakyRelu", 0.2, None), "elu": ("Elu", 1.0, None),
                   "linear": ("Affine", 1.0, 0.0)}


def reorder_gates(matrix: np.ndarray, order: list[int]) -> np.ndarray:
    """``matrix`` (G*units, ...) with its G row blocks put in ``order`` (block j of the result is block
    order[j] of ``matrix``)."""
    blocks = np.split(np.asarray(matrix), len(order), axis=0)
    return np.concatenate([blocks[j] for j in order], axis=0)


# -- export ---------------------------------------------------------------------------------------------------

def _recurrent(graph, node_id, layer, inputs, doc):
    kind, config, state = layer.type_name, layer.get_config(), graph.state
    units, order = int(config["units"]), ONNX_ORDER[layer.type_name]
    kernel = np.asarray(state[f"{node_id}.kernel"], np.float32)
    zeros = np.zeros(GATES[kind] * units, np.float32)
    bias = np.asarray(state.get(f"{node_id}.bias", zeros), np.float32)
    recurrent_bias = np.asarray(state.get(f"{node_id}.recurrent_bias", zeros), np.float32)
    attributes = {"hidden_size": units, "direction": "forward"}
    if kind == "GRU":
        attributes["linear_before_reset"] = 1
    if kind == "SimpleRNN":
        activation = config.get("activation") or "linear"
        if activation not in RNN_ACTIVATIONS:
            graph.refuse(node_id, f"ONNX's RNN has no {activation!r} activation; choose one of "
                                  f"{', '.join(RNN_ACTIVATIONS)} to export this SimpleRNN")
        name, alpha, beta = RNN_ACTIVATIONS[activation]
        attributes["activations"] = [name]
        if alpha is not None:
            attributes["activation_alpha"] = [alpha]
        if beta is not None:
            attributes["activation_beta"] = [beta]
    weights = [
        graph.weight(f"{node_id}.W", reorder_gates(kernel.T, order)[None]),
        graph.weight(f"{node_id}.R", reorder_gates(np.asarray(state[f"{node_id}.recurrent_kernel"]).T, order)[None]),
        graph.weight(f"{node_id}.B", np.concatenate([reorder_gates(bias, order),
                                                     reorder_gates(recurrent_bias, order)])[None]),
    ]
    steps_first = graph.node("Transpose", [inputs[0]], f"{node_id}/steps_first", doc, perm=[1, 0, 2])
    sequences = bool(config["return_sequences"])
    every_step, last = graph.node_with_outputs(ONNX_OP[kind], [steps_first, *weights], node_id, doc,
                                               [sequences, not sequences], **attributes)
    if not sequences:  # Y_h (1, batch, units) -> (batch, units)
        return graph.node("Squeeze", [last, graph.int64("axes.0", [0])], f"{node_id}/last_state", doc)
    # Y (steps, 1, batch, units) -> (steps, batch, units) -> (batch, steps, units)
    squeezed = graph.node("Squeeze", [every_step, graph.int64("axes.1", [1])], f"{node_id}/squeeze", doc)
    return graph.node("Transpose", [squeezed], f"{node_id}/batch_first", doc, perm=[1, 0, 2])


RECURRENT_CONVERTERS = {kind: _recurrent for kind in ONNX_OP}


# -- import ---------------------------------------------------------------------------------------------------

def _permuted(value) -> Permuted:
    return value if isinstance(value, Permuted) else Permuted(value, tuple(range(len(value.shape) + 1)))


class RecurrentOps:
    """GraphTranslator's methods for RNN, LSTM and GRU, and for the Transpose, Squeeze and Gather around them."""

    def add_sequence_input(self, name: str, shape: tuple[int, int]) -> None:
        """A graph input of sequences (batch, steps, features): LayerLab's Input holds images or vectors, so it
        becomes an Input of 1 x steps x features (MNIST's rows read as they are) and a Reshape to the sequence."""
        self.add_input(name, (1, *shape))
        image = self.values[name]
        node_id = self.new_id(f"{image.node_id}_steps", "reshape")
        node = {"id": node_id, "type": "Reshape", "target_shape": list(shape)}
        self.nodes.append(node)
        self._by_id[node_id] = node
        self.edges.append([image.node_id, node_id])
        self.readers[node_id], self.readers[image.node_id] = self.readers[image.node_id], 1
        self.values[name] = Tensor(node_id, tuple(shape))
        self.notes.append(f"the input {name} ({shape[0]} steps x {shape[1]} features) comes in as a 1 x {shape[0]} "
                          f"x {shape[1]} image, made a sequence again by the Reshape {node_id}")

    # -- axes moved about (only the data's own order may come back: a layer reads the batch first) ------------

    def _op_Transpose(self, node, inputs, attrs):
        value = _permuted(inputs[0])
        perm = attrs.get("perm", list(reversed(range(len(value.axes)))))
        if sorted(perm) != list(range(len(value.axes))):
            raise Unsupported(f"has perm={list(perm)}, which does not fit its {len(value.axes)}-axis input")
        return Permuted(value.tensor, tuple(value.axes[p] for p in perm)).as_tensor()

    def _op_Squeeze(self, node, inputs, attrs):
        if not isinstance(inputs[0], Permuted):
            raise Unsupported(NO_LAYER)  # a layer's own size-1 axis removed: a reshape LayerLab reads elsewhere
        value = inputs[0]
        axes = attrs.get("axes") if self.opset < 13 else (
            inputs[1].reshape(-1).tolist() if len(inputs) > 1 and isinstance(inputs[1], np.ndarray) else None)
        rank = len(value.axes)
        drop = {a % rank for a in axes} if axes is not None else {i for i, a in enumerate(value.axes) if a is None}
        if any(value.axes[i] is not None for i in drop):
            raise Unsupported("removes an axis of the data itself; LayerLab reads it only around a recurrent "
                              "operator's direction axis")
        return Permuted(value.tensor, tuple(a for i, a in enumerate(value.axes) if i not in drop)).as_tensor()

    def _op_Gather(self, node, inputs, attrs):
        value, index = inputs[0], inputs[1] if len(inputs) > 1 else None
        axis = attrs.get("axis", 0)
        if not isinstance(value, Permuted) or not isinstance(index, np.ndarray) or index.ndim != 0 \
                or value.axes[axis % len(value.axes)] is not None or int(index) not in (0, -1):
            raise Unsupported(NO_LAYER)  # picking from the data: LayerLab has no layer for it
        axis %= len(value.axes)  # h_n[-1]: the one direction's state
        return Permuted(value.tensor, value.axes[:axis] + value.axes[axis + 1:]).as_tensor()

    # -- the recurrent operators ---------------------------------------------------------------------------------

    def _op_RNN(self, node, inputs, attrs):
        return self._recurrent(node, inputs, attrs)

    _op_LSTM = _op_GRU = _op_RNN

    def _recurrent(self, node, inputs, attrs):
        op = node.op_type
        kind = LAYER_OF_OP[op]
        self._refuse_recurrent_settings(op, kind, attrs, inputs)
        layout = int(attrs.get("layout", 0))
        x = self._sequence_input(inputs[0], layout, kind)
        weights, units = self._recurrent_weights(op, kind, inputs, x)
        outputs = list(node.output) + ["", "", ""]
        used = [bool(name) and self.uses.get(name, 0) > 0 for name in outputs[:3]]
        if used[2]:
            raise Unsupported("reads its cell state (Y_c); LayerLab's LSTM gives the hidden state only")
        if used[0] and used[1]:
            raise Unsupported(f"reads both every step (Y) and the last state (Y_h); LayerLab's {kind} gives one "
                              f"of them (return_sequences)")
        layer = {"type": kind, "units": units, "return_sequences": used[0]}
        if kind == "SimpleRNN":
            layer["activation"] = self._rnn_activation(attrs)
        result = self.add_layer(node, layer, [x], weights)
        if used[0]:  # Y: (steps, 1, batch, units), or (batch, steps, 1, units) with layout=1
            self.values[outputs[0]] = Permuted(result, (1, None, 0, 2) if layout == 0 else (0, 1, None, 2))
        if used[1]:  # Y_h: (1, batch, units), or (batch, 1, units)
            self.values[outputs[1]] = Permuted(result, (None, 0, 1) if layout == 0 else (0, None, 1))
        self.readers[result.node_id] = sum(self.uses.get(outputs[i], 0) for i in (0, 1) if used[i])
        return None  # the outputs are in place

    def _refuse_recurrent_settings(self, op, kind, attrs, inputs):
        direction = attrs.get("direction", "forward")
        if direction != "forward":
            raise Unsupported(f"has direction={direction}; LayerLab's {kind} reads the steps forward only")
        if "clip" in attrs:
            raise Unsupported(f"has clip={attrs['clip']:g}; LayerLab's {kind} does not clip its cell")
        if op != "RNN" and "activations" in attrs and list(attrs["activations"]) != DEFAULT_ACTIVATIONS[op]:
            raise Unsupported(f"has activations={list(attrs['activations'])}; LayerLab's {kind} uses "
                              f"{DEFAULT_ACTIVATIONS[op]}")
        if op == "LSTM" and attrs.get("input_forget", 0):
            raise Unsupported("has input_forget=1 (input and forget gates coupled); LayerLab's LSTM has both")
        if op == "GRU" and not attrs.get("linear_before_reset", 0):
            raise Unsupported("has linear_before_reset=0 (the reset applied before the recurrent product); "
                              "LayerLab's GRU applies it after (linear_before_reset=1, Keras's reset_after)")
        named = {4: "sequence_lens", 5: "initial_h", 6: "initial_c", 7: "P"}
        for index, name in named.items():
            value = inputs[index] if len(inputs) > index else None
            if value is None:
                continue
            if name == "sequence_lens":
                raise Unsupported("has sequence_lens (sequences of different lengths); LayerLab's layers read "
                                  "every step of every sequence")
            if not isinstance(value, np.ndarray) or np.any(value != 0):
                what = "peepholes (input P)" if name == "P" else f"an initial state ({name}) that is not zeros"
                raise Unsupported(f"has {what}; LayerLab's {kind} "
                                  f"{'has no peepholes' if name == 'P' else 'starts from zeros'}")

    def _sequence_input(self, value, layout: int, kind: str) -> Tensor:
        """The layer's input, from X as the operator reads it (steps first with layout=0)."""
        wanted = (1, 0, 2) if layout == 0 else (0, 1, 2)
        if is_data(value):
            permuted = _permuted(value)
            if permuted.axes == wanted and len(permuted.tensor.shape) == 2:
                return permuted.tensor
            if len(permuted.tensor.shape) != 2:
                raise Unsupported(f"reads a {'x'.join(map(str, permuted.tensor.shape))} input; LayerLab's {kind} "
                                  f"reads a sequence (steps x features)")
            raise Unsupported(f"reads its sequence with the axes in another order than layout={layout} wants "
                              f"({'steps, batch, features' if layout == 0 else 'batch, steps, features'})")
        return self.tensor(value)

    def _recurrent_weights(self, op, kind, inputs, x: Tensor):
        gates = GATES[kind]
        w, r = inputs[1], inputs[2]
        if not (isinstance(w, np.ndarray) and isinstance(r, np.ndarray) and w.ndim == r.ndim == 3
                and w.shape[0] == r.shape[0] == 1 and w.shape[1] % gates == 0):
            raise Unsupported("has weights (W, R) that are not constants of one direction")
        units = w.shape[1] // gates
        if w.shape[2] != x.shape[1] or r.shape[1:] != (gates * units, units):
            raise Unsupported(f"has weights for {w.shape[2]} features and {units} units that do not fit its "
                              f"{'x'.join(map(str, x.shape))} input")
        b = inputs[3] if len(inputs) > 3 and inputs[3] is not None else np.zeros((1, 2 * gates * units), np.float32)
        if not isinstance(b, np.ndarray) or b.size != 2 * gates * units:
            raise Unsupported("has a bias (B) that is not a constant of one direction")
        input_bias, recurrent_bias = np.split(b.reshape(-1), 2)
        order = LAYERLAB_ORDER[kind]
        weights = {"kernel": reorder_gates(w[0], order).T, "recurrent_kernel": reorder_gates(r[0], order).T}
        if kind == "GRU":  # the recurrent bias sits inside the reset: it stays apart
            weights["bias"] = reorder_gates(input_bias, order)
            weights["recurrent_bias"] = reorder_gates(recurrent_bias, order)
        else:  # both biases are added to the same sum: one bias
            weights["bias"] = reorder_gates(input_bias + recurrent_bias, order)
        return weights, units

    @staticmethod
    def _rnn_activation(attrs) -> str:
        names = list(attrs.get("activations", ["Tanh"]))
        alphas, betas = list(attrs.get("activation_alpha", [])), list(attrs.get("activation_beta", []))
        for layerlab, (name, alpha, beta) in RNN_ACTIVATIONS.items():
            # ONNX's own defaults where the file gives none: LeakyRelu 0.01, Elu 1.0, Affine's alpha 1, beta 0
            given_alpha = alphas[0] if alphas else {"LeakyRelu": 0.01}.get(name, 1.0)
            given_beta = betas[0] if betas else 0.0
            if names == [name] and (alpha is None or np.isclose(given_alpha, alpha)) \
                    and (beta is None or np.isclose(given_beta, beta)):
                return layerlab
        shown = f"{names}" + (f" with activation_alpha={alphas}" if alphas else "")
        raise Unsupported(f"has activations={shown}; LayerLab's SimpleRNN has tanh, relu, sigmoid, leaky_relu "
                          f"(alpha 0.2), elu (alpha 1) and linear")
