"""What the dashboard and the Draw panel both read about a run: its identity, its data and its published
weights. The dashboard's RunController makes runs; the Draw panel and the dashboard's views read them.

    run = controller.run                      # an ActiveRun, or None before the first run
    run.number, run.name, run.spec            # who it is; number None: a model no run trained
    run.latest_snapshot                       # the trainer's latest published weights (a SnapshotEvent)
    run.latest_network()                      # a NumPy copy holding them, for views on the GUI thread
    ActiveRun.of_model(spec, weights, class_names, name)   # a model (the pad's) in the shape of a run
    ImportedModel(spec, weights, "model.onnx")  # a design opened with weights (File > Open of an .onnx)

Here, and not in either package, so that neither reaches into the other's insides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import engine


@dataclass
class RunData:
    """The data a run trains and evaluates on (loaded by app/dashboard/run_data.py)."""

    name: str
    training: engine.training.TrainingData | None  # None: a model shown, not trained here
    test_images: np.ndarray
    test_labels: np.ndarray
    class_names: tuple[str, ...]
    is_toy: bool

    @property
    def num_train(self) -> int:
        return len(self.training.train_labels)


@dataclass(frozen=True)
class ImportedModel:
    """A design that came with weights (File > Open of an .onnx file): the Draw pad and the dashboard's views
    read with them while the design on the canvas is still this one and no run has trained it."""

    spec: dict
    weights: dict  # engine state_dict naming, host NumPy arrays
    file_name: str  # "model.onnx", for captions


@dataclass
class ActiveRun:
    number: int | None  # runs count from 1; None: a model that no run of this window trained
    name: str
    spec: dict
    settings: object  # the dashboard's RunSettings; None for a model
    data: RunData
    inference_network: engine.Network  # NumPy, GUI thread only: its structure; weights via latest_network()
    total_steps: int
    checkpoint_dir: Path  # the trainer's checkpoints while it runs; removed once the best weights are taken
    best_network: engine.Network | None = None  # the best checkpoint's network, read from it as the run ended
    latest_snapshot: object = None  # SnapshotEvent
    history: list = field(default_factory=list)  # EpochEvents
    # Each learning rate set while it trained: {"step": the first step at that rate, "lr": the rate}.
    learning_rate_changes: list = field(default_factory=list)
    _loaded_step: int | None = None

    @classmethod
    def of_model(cls, spec: dict, weights: dict, class_names, name: str) -> ActiveRun:
        """A network that is not training (the draw panel's), in the shape of a run the dashboard's views read:
        its spec, a NumPy copy for its structure, its weights as the latest snapshot, no data of its own, and
        no number."""
        network = engine.Network(spec, xp=np)
        input_shape = tuple(network.input_shape)
        data = RunData(name="drawings", training=None, test_images=np.zeros((0, *input_shape), dtype=np.float32),
                       test_labels=np.zeros(0, dtype=np.int64), class_names=tuple(class_names), is_toy=False)
        snapshot = engine.training.SnapshotEvent(step=0, epoch=0, weights=weights)
        return cls(number=None, name=name, spec=spec, settings=None, data=data, inference_network=network,
                   total_steps=0, checkpoint_dir=Path(), latest_snapshot=snapshot)

    @property
    def is_model(self) -> bool:
        """A model shown in the views (``of_model``), not a run that trained."""
        return self.number is None

    def latest_network(self) -> engine.Network:
        """The inference copy holding the latest snapshot's weights (loaded on first use after a snapshot)."""
        snapshot = self.latest_snapshot
        if snapshot is not None and self._loaded_step != snapshot.step:
            self.inference_network.load_state_dict(snapshot.weights)
            self._loaded_step = snapshot.step
        return self.inference_network

    @property
    def input_shape(self) -> tuple:
        return tuple(self.inference_network.input_shape)

    @property
    def classifier(self) -> bool:
        """Its network classifies (cross-entropy on labels): accuracy and a confusion matrix apply. Otherwise
        (an autoencoder, a regression) the events carry no accuracy and evaluation measures the error."""
        return self.inference_network.output_head.classifier

    @property
    def reconstructs(self) -> bool:
        """Its network is trained to give back its input (an autoencoder: the spec's target "input")."""
        return self.inference_network.output_head.reconstructs
