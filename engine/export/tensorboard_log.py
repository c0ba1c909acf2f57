"""Training events -> TensorBoard event files, through tensorboardX (LayerLab's optional 'export' extra).

    logger = TensorBoardLogger("runs", network, settings={"dataset": "mnist", **config.to_dict()})
    trainer = Trainer(network, data, config, callback=logger)   # or called from another callback
    trainer.run()                                                # the logger closes itself at the end
    print(logger.run_dir)                                        # runs/2026-12-07_06-13-10

What it writes, every step number being the trainer's global step (``StepEvent.step``):

- each step: ``train/loss``, ``train/accuracy`` (the batch's) and ``train/learning_rate``;
- each epoch: ``epoch/train_loss``, ``epoch/train_accuracy``, ``epoch/val_loss``, ``epoch/val_accuracy`` (with a
  validation split) and ``epoch/seconds`` (the training time the epoch took); the file is flushed then; no
  accuracy for a network that is not a classifier (an autoencoder, a regression: its events carry None);
- histograms ``weights/<name>`` and ``gradients/<name>`` of every parameter (and buffer) at a snapshot, at most
  every ``histogram_interval_s`` (the app publishes one a second: a histogram of every weight each second would
  cost training several percent), and with a ``network``, at every epoch's end and at the finish, as Keras's
  TensorBoard callback does per epoch;
- with a ``network``: the design as the Graphs tab's graph (one node per layer, its op the layer type, its inputs
  the layers feeding it, its attributes the output shape, parameter count and settings) and the design's JSON as
  the text ``design``; ``settings``, if given, as the text ``run/settings``; how the run ended as ``run/end``.

Files are written only in a new folder under ``log_dir`` (named ``run_name``, made safe as a folder name, or the
date and time), so ``tensorboard --logdir LOG_DIR`` compares runs. The graph is a GraphDef built here from
tensorboardX's own protos: its ``add_graph`` needs a torch model, and LayerLab's designs are not one.

The logger is called on the thread that trains and is not itself thread-safe; tensorboardX writes the file on a
thread of its own. A missing tensorboardX is a ``MissingExtraError`` naming the 'export' extra;
``tensorboard_available()`` asks without importing it (the app's checkbox).
"""

from __future__ import annotations

import importlib.util
import json
import re
import time
from pathlib import Path

import numpy as np

from engine.backend import to_host
from engine.export.extras import require
from engine.training.events import EpochEvent, FailedEvent, FinishedEvent, SnapshotEvent, StepEvent

FEATURE = "TensorBoard logging"
HISTOGRAM_INTERVAL_S = 30.0  # between histograms from snapshots; epoch ends and the finish always get them
MAX_FOLDER_NAME = 120  # characters of a run folder's name (a file system takes 255 bytes)
GRAPH_PRODUCER = 22  # the GraphDef version TensorBoard's graph plugin reads (as tensorboardX writes)

__all__ = ["FEATURE", "TensorBoardLogger", "safe_folder_name", "tensorboard_available"]


def tensorboard_available() -> bool:
    """Whether tensorboardX is installed (found without importing it: its import takes a second)."""
    try:
        return importlib.util.find_spec("tensorboardX") is not None
    except (ImportError, ValueError):
        return False


def safe_folder_name(text: str) -> str:
    """``text`` as one folder name on every system: no separators, no characters Windows refuses, no leading dot
    (so never "." or ".."), at most MAX_FOLDER_NAME characters. "run 1: seed-cnn, adam lr=0.001" ->
    "run 1 seed-cnn, adam lr=0.001"."""
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', " ", str(text))
    name = re.sub(r"\s+", " ", name).strip(" .")
    return name[:MAX_FOLDER_NAME].rstrip(" .") or "run"


def _new_run_folder(log_dir: Path, run_name: str | None) -> Path:
    """A new, empty folder under ``log_dir`` (made, with log_dir): "NAME", else "NAME-2", "NAME-3", ..."""
    log_dir.mkdir(parents=True, exist_ok=True)
    base = safe_folder_name(run_name or time.strftime("%Y-%m-%d_%H-%M-%S"))
    for number in range(1, 10_000):
        folder = log_dir / (base if number == 1 else f"{base}-{number}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise FileExistsError(f"{log_dir}: every run folder named {base}-N is taken")


class TensorBoardLogger:
    """A callable for the Trainer's events that writes them as TensorBoard event files (see the module's text)."""

    def __init__(self, log_dir, network=None, *, run_name: str | None = None, settings: dict | None = None,
                 histogram_interval_s: float = HISTOGRAM_INTERVAL_S):
        tensorboard_x = require("tensorboardX", FEATURE)
        self.run_dir = _new_run_folder(Path(log_dir).expanduser(), run_name)
        self.writer = tensorboard_x.SummaryWriter(logdir=str(self.run_dir))
        self.network = network
        self.histogram_interval_s = histogram_interval_s
        self.closed = False
        self._last_histogram_step: int | None = None
        self._last_histogram_time = -float("inf")
        self._epoch_started_at: float | None = None  # training seconds when the current epoch began
        if network is not None:
            self._write_design(network)
        if settings:
            self.writer.add_text("run/settings", _code_block(settings), 0)

    # -- the events ---------------------------------------------------------------------------------
    def __call__(self, event) -> None:
        if self.closed:
            return
        if isinstance(event, StepEvent):
            self._step(event)
        elif isinstance(event, EpochEvent):
            self._epoch(event)
        elif isinstance(event, SnapshotEvent):
            due = time.monotonic() - self._last_histogram_time >= self.histogram_interval_s
            if due and event.step != self._last_histogram_step:
                self._histograms(event.step, event.weights, event.gradients)
        elif isinstance(event, (FinishedEvent, FailedEvent)):
            self._network_histograms(event.step)
            self.writer.add_text("run/end", event.message, event.step)
            self.close()

    def _step(self, event: StepEvent) -> None:
        if self._epoch_started_at is None:
            # The first step seen: a new run starts at 0 s; a resumed one at this step (its own time is lost).
            self._epoch_started_at = 0.0 if event.step == 1 else event.elapsed
        self.writer.add_scalar("train/loss", event.loss, event.step)
        if event.batch_accuracy is not None:  # None for a network that is not a classifier (issue 24)
            self.writer.add_scalar("train/accuracy", event.batch_accuracy, event.step)
        self.writer.add_scalar("train/learning_rate", event.learning_rate, event.step)

    def _epoch(self, event: EpochEvent) -> None:
        values = {"epoch/train_loss": event.train_loss, "epoch/train_accuracy": event.train_accuracy,
                  "epoch/val_loss": event.val_loss, "epoch/val_accuracy": event.val_accuracy}
        if self._epoch_started_at is not None:
            values["epoch/seconds"] = event.elapsed - self._epoch_started_at
        self._epoch_started_at = event.elapsed
        for tag, value in values.items():
            if value is not None:
                self.writer.add_scalar(tag, value, event.step)
        self._network_histograms(event.step)
        self.writer.flush()

    # -- histograms ---------------------------------------------------------------------------------
    def _network_histograms(self, step: int) -> None:
        """Histograms of the network's weights and last gradients now (called on the training thread, between
        steps, so the arrays are not moving)."""
        if self.network is None or self._last_histogram_step == step:
            return
        gradients = {name: to_host(parameter.grad) for name, parameter in self.network.parameters().items()}
        self._histograms(step, self.network.state_dict(), gradients)

    def _histograms(self, step: int, weights: dict, gradients: dict) -> None:
        for kind, arrays in (("weights", weights), ("gradients", gradients)):
            for name, values in arrays.items():
                values = np.asarray(values).reshape(-1)
                if not np.isfinite(values).all():  # a diverging run: the finite values still show
                    values = values[np.isfinite(values)]
                if values.size:
                    self.writer.add_histogram(f"{kind}/{name}", values, step)
        self._last_histogram_step = step
        self._last_histogram_time = time.monotonic()

    # -- the design ---------------------------------------------------------------------------------
    def _write_design(self, network) -> None:
        self.writer.add_text("design", _code_block(network.spec), 0)
        from tensorboardX.proto import event_pb2

        graph = design_graph(network)
        self.writer._get_file_writer().add_event(event_pb2.Event(graph_def=graph.SerializeToString()))

    def flush(self) -> None:
        if not self.closed:
            self.writer.flush()

    def close(self) -> None:
        """Write what is queued and close the file (again: nothing)."""
        if not self.closed:
            self.closed = True
            self.writer.close()


def design_graph(network):
    """The design as a TensorFlow GraphDef (tensorboardX's protos): a node per layer, in run order."""
    from tensorboardX.proto import attr_value_pb2, graph_pb2, node_def_pb2, tensor_shape_pb2, versions_pb2

    def text(value) -> attr_value_pb2.AttrValue:
        return attr_value_pb2.AttrValue(s=(value if isinstance(value, str) else json.dumps(value)).encode())

    nodes = []
    for node_id in network.order:
        info = network.shapes[node_id]
        dims = [tensor_shape_pb2.TensorShapeProto.Dim(size=-1)]  # the batch
        dims += [tensor_shape_pb2.TensorShapeProto.Dim(size=int(size)) for size in info.output_shape]
        attributes = {
            # TensorBoard labels the edges out of a node with its "_output_shapes".
            "_output_shapes": attr_value_pb2.AttrValue(list=attr_value_pb2.AttrValue.ListValue(
                shape=[tensor_shape_pb2.TensorShapeProto(dim=dims)])),
            "params": attr_value_pb2.AttrValue(i=int(info.params)),
        }
        for key, value in network.layers[node_id].get_config().items():
            if key not in ("id", "type"):
                attributes[key] = text(value)
        nodes.append(node_def_pb2.NodeDef(name=node_id, op=info.type, input=list(network.graph.inputs[node_id]),
                                          attr=attributes))
    return graph_pb2.GraphDef(node=nodes, versions=versions_pb2.VersionDef(producer=GRAPH_PRODUCER))


def _code_block(value) -> str:
    """JSON as a Markdown code block (TensorBoard's text tab renders Markdown: an indented block stays verbatim)."""
    return "\n".join("    " + line for line in json.dumps(value, indent=2, default=str).splitlines())
