"""A runnable network built from a spec: forward, backward, parameters, state.

    net = engine.build(spec, seed=0)
    head = net.output_head                # what the output means for the loss (engine.output_head)
    scores = net.forward(x, training=True, pre_activation=head.fused)
    loss, dscores = head.loss(scores, labels)
    net.backward(dscores)                 # sets every parameter's grad; returns d(input)
"""

from __future__ import annotations

import time
from contextlib import nullcontext

import numpy as np

from engine import backend, design_limits
from engine.layers.core import Dropout
from engine.one_image import OneImagePlan
from engine.ops.dispatch import choose
from engine.output_head import OutputHead
from engine.parallel import engine_threads
from engine.parameter import ParameterStore
from engine.shapes import analyse_spec
from engine.spec import DEFAULT_LOSS, DEFAULT_TARGET, SPEC_FORMAT, SPEC_VERSION
from engine.task import ending_node

DTYPES = ("float32", "float64")


class Network:
    """The layers of a spec wired as a DAG, with all parameters in one flat store."""

    def __init__(self, spec: dict, seed: int = 0, dtype: str = "float32", xp=None):
        dtype = np.dtype(dtype).name
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}; received dtype={dtype!r}")
        self.xp = xp or backend.current()
        self.dtype = np.dtype(dtype)
        self.seed = int(seed)
        # One parse and one layer per node: shape inference's own graph and layers (raises SpecError naming
        # the node for any invalid design).
        graph, layers, report = analyse_spec(spec)
        if self.dtype.itemsize != design_limits.BYTES_PER_VALUE:  # infer_shapes counted float32 bytes
            too_big = design_limits.network_memory_error(report.nodes.values(), design_limits.memory_limit_bytes(),
                                                         self.dtype.itemsize)
            if too_big is not None:
                raise too_big
        self.graph = graph
        self.name = self.graph.name
        description = spec.get("description")
        self.description = description if isinstance(description, str) else None
        self.order = list(self.graph.order)
        self.layers = {node_id: layers[node_id] for node_id in self.order}
        self._shares_out_work = any(layer.shares_out_its_work for layer in self.layers.values())
        self.shapes = report
        self.input_id = self.graph.input_ids[0]
        self.output_id = self.order[-1]
        self.input_shape = report[self.input_id].output_shape
        self.output_shape = report[self.output_id].output_shape
        ending = self.graph.nodes[ending_node(self.graph, self.output_id)]  # a final sigmoid before a Reshape
        self.output_head = OutputHead.for_node(self.graph.nodes[self.output_id], self.output_shape,
                                               self.graph.loss, self.graph.target, ending)
        self._plan = None  # see _one_image_plan
        self._build()

    def _build(self) -> None:
        init_rng, dropout_seed = _split_seed(self.seed)
        store = ParameterStore(self.xp, self.dtype, self.shapes.total_params)
        for node_id in self.order:
            layer = self.layers[node_id]
            input_shapes = [self.shapes[s].output_shape for s in self.graph.inputs[node_id]]
            layer.build(input_shapes, store, init_rng, self.xp, self.dtype)
        self.store = store
        self.reseed_dropout(dropout_seed)
        # Whether a node's output depends on some parameter: only then does training need the
        # gradient with respect to it (e.g. nothing flows back through Input -> Flatten).
        self._depends_on_parameters = {}
        for node_id in self.order:
            self._depends_on_parameters[node_id] = bool(self.layers[node_id].parameters()) or any(
                self._depends_on_parameters[s] for s in self.graph.inputs[node_id])

    def reseed_dropout(self, seed: int) -> None:
        """Give every Dropout layer the run's device-side generator, seeded with ``seed``."""
        generator = self.xp.random.default_rng(int(seed))
        for layer in self.layers.values():
            if isinstance(layer, Dropout):
                layer.set_random_generator(generator)

    # -- the spec, normalised ---------------------------------------------------------------------
    @property
    def spec(self) -> dict:
        """The spec with explicit edges and every default filled in (what save() writes)."""
        nodes = [self.layers[n].get_config() for n in self.graph.nodes]
        edges = [[source, target] for target in self.graph.nodes for source in self.graph.inputs[target]]
        spec = {"format": SPEC_FORMAT, "version": SPEC_VERSION, "name": self.name, "nodes": nodes, "edges": edges}
        if self.description:
            spec["description"] = self.description
        if self.graph.loss != DEFAULT_LOSS:  # the task, where it is not a classifier's (docs/spec.md)
            spec["loss"] = self.graph.loss
        if self.graph.target != DEFAULT_TARGET:
            spec["target"] = self.graph.target
        return spec

    # -- running ----------------------------------------------------------------------------------
    def _threads_for(self, batch_size: int):
        """Who shares the cores during a pass: the engine itself or BLAS.

        A convolutional network's pass over a training-size batch runs inside ``engine_threads``: BLAS
        single-threaded, convolutions and large products cut into pieces for the engine's workers. A
        BLAS call on BLAS's own threads in between would leave them spinning, taking a core from those
        workers, for a good while after. Where BLAS's products are nearly all the work (dense layers
        only) that spinning is what makes its hand-offs fast, faster than waking a worker of ours: the
        MLP 784-128-10 trains ~1.4x faster at batch 128 with BLAS's threads. While an app limits the
        engine's cores (``set_core_limit``), every network's batches run inside ``engine_threads``, so
        that BLAS keeps to one thread as well. A few images (a drawing being read) are always left to
        BLAS's threads (``engine.ops.dispatch.SMALL_BATCH``). The "network threads" rules of
        ``engine.ops.dispatch`` decide.
        """
        if choose("network threads", self.xp, batch_size, self._shares_out_work) == "BLAS threads":
            return nullcontext()
        return engine_threads()

    def forward(self, x, training: bool = False, keep_for_backward: bool | None = None, return_all: bool = False,
                timings: dict | None = None, pre_activation: bool = False):
        """The output for a batch ``x`` (N, *input_shape); host arrays are moved to the device.

        ``training`` switches dropout and batch statistics on. What backward needs is kept when
        ``keep_for_backward`` (default: ``training``); an inference pass frees it layer by layer.
        With ``return_all`` the result is a dict: node id -> that node's output (for activation views).
        With a ``timings`` dict, each node's forward seconds are added to ``timings[node_id]``.
        With ``pre_activation``, the output node stops before its own activation (a Dense or Conv2D
        returns x @ W + b, an Activation layer its input) and ``backward`` then takes the gradient with
        respect to that: what the loss of a final softmax or sigmoid reads (``output_head``).
        One NumPy image in inference, with none of these options, runs the network's compiled plan
        (``engine.one_image``): the same result, in about two thirds of the time.
        """
        keep = training if keep_for_backward is None else keep_for_backward
        x = self.xp.asarray(x, dtype=self.dtype)
        if tuple(x.shape[1:]) != tuple(self.input_shape):
            expected = "x".join(map(str, self.input_shape))
            raise ValueError(f"{self.name}: input must be a batch of shape N x {expected}; "
                             f"received {tuple(x.shape)}")
        # read by its forward and the next backward: the output node, or the sigmoid a Reshape follows
        self.layers[self.output_head.activation_node].skip_activation = pre_activation
        if choose("network forward", self.xp, len(x), training, keep, return_all, timings,
                  pre_activation) == "one-image plan":
            return self._one_image_plan().run(x)  # every drawn digit's reading
        with self._threads_for(len(x)):
            outputs = {}
            unread = {node_id: len(self.graph.consumers[node_id]) for node_id in self.order}
            for node_id in self.order:
                layer = self.layers[node_id]
                sources = self.graph.inputs[node_id]
                inputs = [outputs[s] for s in sources] if sources else [x]
                started = self._clock() if timings is not None else 0.0
                layer.keep_for_backward = keep
                outputs[node_id] = layer.forward(inputs, training)
                if timings is not None:
                    timings[node_id] = timings.get(node_id, 0.0) + self._clock() - started
                if not keep:
                    layer.forget()
                for s in sources:
                    unread[s] -= 1
                    if unread[s] == 0 and not return_all:
                        del outputs[s]  # no later node reads it
        return outputs if return_all else outputs[self.output_id]

    def forward_from(self, node_id: str, values):
        """The network's output (inference) when ``node_id``'s output is ``values`` (N, *its shape): only the nodes
        after it run. What a decoder does with a code (``engine.latent.decode``).

        A ValueError names the node when a later node reads from outside ``node_id``'s downstream (the design
        has a path around it, so its value alone does not decide the output), or when ``values`` has the
        wrong shape.
        """
        if node_id not in self.layers:
            raise ValueError(f"{self.name}: there is no node {node_id!r}")
        shape = tuple(self.shapes[node_id].output_shape)
        values = self.xp.asarray(values, dtype=self.dtype)
        if tuple(values.shape[1:]) != shape:
            raise ValueError(f"{node_id}: values must be a batch of shape N x {'x'.join(map(str, shape))}; "
                             f"received {tuple(values.shape)}")
        downstream = self._downstream(node_id)
        if self.output_id not in downstream:
            raise ValueError(f"{node_id}: the output {self.output_id} does not depend on this node")
        for later in downstream - {node_id}:
            around = [s for s in self.graph.inputs[later] if s not in downstream]
            if around:
                raise ValueError(f"{node_id}: {later} also reads {around[0]}, which comes before {node_id} on another "
                                 f"path; the output cannot be worked out from {node_id}'s values alone")
        self.layers[self.output_head.activation_node].skip_activation = False
        with self._threads_for(len(values)):
            outputs = {node_id: values}
            for later in self.order:
                if later == node_id or later not in downstream:
                    continue
                layer = self.layers[later]
                layer.keep_for_backward = False
                outputs[later] = layer.forward([outputs[s] for s in self.graph.inputs[later]], False)
                layer.forget()
        return outputs[self.output_id]

    def _downstream(self, node_id: str) -> set[str]:
        """``node_id`` and every node that reads from it, directly or not."""
        seen, waiting = {node_id}, [node_id]
        while waiting:
            for consumer in self.graph.consumers[waiting.pop()]:
                if consumer not in seen:
                    seen.add(consumer)
                    waiting.append(consumer)
        return seen

    def _one_image_plan(self) -> OneImagePlan:
        """The compiled single-image inference plan (``engine.one_image``), made at its first use."""
        if self._plan is None:
            self._plan = OneImagePlan(self)
        return self._plan

    def backward(self, dy, input_grad: bool = True, timings: dict | None = None):
        """Back-propagate ``dy`` (d loss / d output, or d loss / d pre-activation after a forward with
        ``pre_activation``): sets every parameter's grad; returns d(input).

        With ``input_grad=False`` the gradient w.r.t. the input is not computed (training never
        needs it; the first convolution then skips its most expensive step) and None is returned.
        With a ``timings`` dict, each node's backward seconds are added to ``timings[node_id]``.
        """
        grads = {self.output_id: self.xp.asarray(dy, dtype=self.dtype)}
        with self._threads_for(len(grads[self.output_id])):
            dx = None
            for node_id in reversed(self.order):
                grad = grads.pop(node_id, None)
                if grad is None:
                    continue
                sources = self.graph.inputs[node_id]
                if not sources:  # the Input node
                    dx = grad
                    continue
                need = input_grad or any(self._depends_on_parameters[s] for s in sources)
                started = self._clock() if timings is not None else 0.0
                input_grads = self.layers[node_id].backward(grad, need)
                if timings is not None:
                    timings[node_id] = timings.get(node_id, 0.0) + self._clock() - started
                for source, g in zip(sources, input_grads, strict=True):
                    if g is None or not (input_grad or self._depends_on_parameters[source]):
                        continue
                    grads[source] = g if source not in grads else grads[source] + g
        return dx

    def _clock(self) -> float:
        """Seconds, after the device has finished what was queued (so per-layer timings are honest on a GPU)."""
        if backend.backend_name(self.xp) == "cupy":
            self.xp.cuda.Device().synchronize()
        return time.perf_counter()

    def predict(self, x, batch_size: int = 256):
        """The outputs for any number of examples (logits, or a final softmax's probabilities), in inference
        mode, in batches; a host NumPy array. ``output_head.probabilities`` turns them into probabilities."""
        outputs = []
        for start in range(0, len(x), batch_size):
            outputs.append(backend.to_host(self.forward(x[start:start + batch_size], training=False)))
        if not outputs:
            return np.zeros((0,) + tuple(self.output_shape), dtype=self.dtype)
        return np.concatenate(outputs)

    # -- parameters and state ---------------------------------------------------------------------
    def parameters(self) -> dict:
        """{"conv1.kernel": Parameter, "conv1.bias": ...} in run order (views into one flat store)."""
        return {f"{node_id}.{name}": param
                for node_id in self.order for name, param in self.layers[node_id].parameters().items()}

    def buffers(self) -> dict:
        """Non-trainable state, e.g. {"bn1.moving_mean": array}."""
        return {f"{node_id}.{name}": buffer
                for node_id in self.order for name, buffer in self.layers[node_id].buffers().items()}

    @property
    def num_params(self) -> int:
        return int(self.store.values.size)

    def hidden_states(self, node_id: str):
        """A recurrent node's hidden state at every step of the last forward pass: host (N, steps, units).

        None for a node that is not recurrent (SimpleRNN, LSTM, GRU) or before any pass; the Activations view
        shows it as an image (steps x units per example). KeyError for an id not in the network.
        """
        reader = getattr(self.layers[node_id], "hidden_states", None)
        return reader() if reader is not None else None

    def zero_grad(self) -> None:
        self.store.grads.fill(0)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Host copies of every parameter and buffer: safe to hand to another thread or to save."""
        state = {name: backend.to_host(p.value) for name, p in self.parameters().items()}
        state.update({name: backend.to_host(b) for name, b in self.buffers().items()})
        return state

    def load_state_dict(self, state: dict) -> None:
        """Copy arrays into this network's parameters and buffers; names and shapes must match exactly."""
        targets = {name: p.value for name, p in self.parameters().items()}
        targets.update(self.buffers())
        missing = sorted(set(targets) - set(state))
        unexpected = sorted(set(state) - set(targets))
        if missing or unexpected:
            raise ValueError(f"{self.name}: state does not match the network (missing: {', '.join(missing) or 'none'}; "
                             f"unexpected: {', '.join(unexpected) or 'none'})")
        for name, target in targets.items():
            value = state[name]
            if tuple(value.shape) != tuple(target.shape):
                raise ValueError(f"{name}: expected shape {tuple(target.shape)}; received {tuple(value.shape)}")
            target[...] = self.xp.asarray(value, dtype=self.dtype)

    def __repr__(self) -> str:
        return (f"Network({self.name!r}, {len(self.order)} nodes, {self.num_params:,} parameters, "
                f"{backend.backend_name(self.xp)})")


def _split_seed(seed: int):
    """Independent streams for initialisation (host) and dropout (device) from one run seed."""
    init_seq, dropout_seq = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(init_seq), int(dropout_seq.generate_state(1)[0])


def build(spec: dict, seed: int = 0, dtype: str = "float32") -> Network:
    """A Network for ``spec`` on the current backend; SpecError naming the node if the design is invalid."""
    return Network(spec, seed=seed, dtype=dtype)
