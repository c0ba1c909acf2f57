"""LayerLab's deep-learning engine: NumPy/CuPy only, no Qt, usable on its own (e.g. in a notebook).

    import engine
    info = engine.infer_shapes(spec)          # shapes, params, memory, FLOPs per node; SpecError if invalid
    net = engine.build(spec, seed=0)          # a Network on the current backend (LAYERLAB_BACKEND)
    head = net.output_head                    # a final softmax (or sigmoid) is fused with the loss
    scores = net.forward(x, training=True, pre_activation=head.fused)
    loss, dscores = head.loss(scores, labels)
    net.backward(dscores)
    probabilities = head.probabilities(net.predict(x))   # (N, classes), what the user sees
    opt = engine.optimizers.Adam(net.parameters(), lr=1e-4); opt.step(); opt.zero_grad()
    engine.save(net, "model.llmodel"); net2 = engine.load("model.llmodel")

The spec format is documented in docs/spec.md.
"""

from engine import (
    backend,
    datasets,
    export,
    initializers,
    latent,
    losses,
    metrics,
    ops,
    optimizers,
    schedules,
    training,
    user_files,
)
from engine.catalog import LayerSchema, layer_schema, layer_types, register_layer_type, unregister_layer_type
from engine.data_fit import DataFitProblem, data_fit_problem
from engine.design_limits import training_memory_problem
from engine.errors import ModelFileError, SpecError, UserFileError, describe_error
from engine.files import atomic_write, process_is_running, remove_stale_temporaries
from engine.metrics import ErrorEvaluation, Evaluation, evaluate
from engine.network import Network, build
from engine.output_head import OutputHead
from engine.parallel import keep_blas_threads_on_this_thread, set_core_limit, set_worker_niceness
from engine.parameter import Parameter
from engine.profiling import NodeTiming, profile_step
from engine.serialization import Checkpoint, load, load_checkpoint, save
from engine.shapes import NodeInfo, ShapeReport, infer_shapes
from engine.spec import SPEC_FORMAT, SPEC_VERSION

__all__ = [
    "backend",
    "datasets",
    "export",
    "initializers",
    "losses",
    "metrics",
    "Evaluation",
    "ErrorEvaluation",
    "evaluate",
    "latent",
    "ops",
    "optimizers",
    "schedules",
    "training",
    "layer_types",
    "layer_schema",
    "register_layer_type",
    "unregister_layer_type",
    "LayerSchema",
    "DataFitProblem",
    "data_fit_problem",
    "training_memory_problem",
    "ModelFileError",
    "UserFileError",
    "user_files",
    "describe_error",
    "atomic_write",
    "process_is_running",
    "remove_stale_temporaries",
    "SpecError",
    "Network",
    "build",
    "OutputHead",
    "Parameter",
    "set_core_limit",
    "keep_blas_threads_on_this_thread",
    "set_worker_niceness",
    "NodeTiming",
    "profile_step",
    "Checkpoint",
    "load",
    "load_checkpoint",
    "save",
    "NodeInfo",
    "ShapeReport",
    "infer_shapes",
    "SPEC_FORMAT",
    "SPEC_VERSION",
]
