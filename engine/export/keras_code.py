"""A network as one readable Keras 3 script (functional API) and a .safetensors file of its weights.

    from engine.export.keras_code import export_keras
    export_keras(network, "model.py", training=project["training"], dataset="mnist")
    # -> [model.py, model.safetensors]; KERAS_BACKEND=torch python model.py

The script builds the same model (DAGs included: ``keras.Input``, then each node's layer called on its
inputs in run order, named after the node), compiles it with LayerLab's loss, optimizer and settings, loads
the data set from IDX files with LayerLab's scaling and validation split, trains with ``model.fit`` at the
same batch size and epochs, and loads the exported weights with ``safetensors.numpy.load_file`` and
``layer.set_weights``. It needs Keras 3 and safetensors, never LayerLab. How the channels-first design
becomes a channels-last Keras model: engine/export/keras_layers.py. Writing the weights needs the
safetensors package (the 'export' extra); Keras is needed only to run the script.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from engine.datasets.registry import REGISTRY, registry_key
from engine.datasets.storage import download_folder, find_local_copy
from engine.datasets.user_sets import imported_folder
from engine.export.extras import require
from engine.export.keras_layers import KerasExportError, KerasGraph, wrap
from engine.export.keras_script import EXCLUDE_DECAY, INPUT_NOISE, PADDED_POOLING, SCRIPT, STEP_DECAY
from engine.export.keras_training import LOSSES, KerasOptimizer, training_config
from engine.files import atomic_write

__all__ = ["KerasExportError", "export_keras", "keras_script"]

DEFAULT_VALIDATION = 0.1  # the app's validation fraction (a project's "validation" overrides it)


def export_keras(network, path, *, training: dict | None = None, dataset: str = "mnist") -> list[Path]:
    """Write ``path`` (a .py) and ``path.with_suffix(".safetensors")``; returns both paths.

    ``training``: a project's "training" object (TrainingConfig names, plus "validation"); None: defaults.
    Raises KerasExportError naming the node for a layer Keras has no equivalent of (nothing is written), and
    MissingExtraError when safetensors is not installed.
    """
    safetensors_numpy = require("safetensors.numpy", "Keras code export", "safetensors")
    path = Path(path)
    weights_path = path.with_suffix(".safetensors")
    script, weights = keras_script(network, training=training, dataset=dataset, weights_name=weights_path.name,
                                   script_name=path.name)
    data = safetensors_numpy.save(weights, metadata={"format": "layerlab-keras-weights", "layout": "channels_last"})
    atomic_write(weights_path, lambda handle: handle.write(data))
    atomic_write(path, lambda handle: handle.write(script.encode("utf-8")))
    return [path, weights_path]


def keras_script(network, *, training: dict | None = None, dataset: str = "mnist",
                 weights_name: str = "model.safetensors", script_name: str = "model.py") -> tuple[str, dict]:
    """(the script's text, {key: float32 array in Keras's layout}) for ``network``; writes nothing."""
    config = training_config(training)
    optimizer = KerasOptimizer(config)
    head = network.output_head
    input_noise = float(getattr(config, "input_noise", 0.0) or 0.0)
    graph = KerasGraph(network, l2=optimizer.l2, input_noise=input_noise)
    loss, metric = LOSSES[head.kind]
    classifier = "accuracy" in metric  # else a network trained towards values (an autoencoder, a regression)
    notes = list(optimizer.notes)
    if config.augment:
        notes.append("LayerLab's run augmented its training images; this script trains on them as they are.")
    if network.output_head.kind == "softmax":
        notes.append("The model ends in a softmax, so the loss reads probabilities (from_logits=False; Keras clips "
                     "them away from 0 and 1), where LayerLab's reads the logits before it.")
    if head.kind == "sigmoid_bce":
        notes.append("The model ends in a sigmoid, so the binary cross-entropy reads its probabilities (Keras clips "
                     "them away from 0 and 1), where LayerLab's reads the pre-activation: the same figures except "
                     "where a value's probability rounds to 0 or 1.")
    if input_noise:
        notes.append(f"Training inputs get Gaussian noise (standard deviation {input_noise!r}; the InputNoise "
                     f"layer, active only in training); the targets stay the clean inputs.")
    validation = training.get("validation", DEFAULT_VALIDATION) if training else DEFAULT_VALIDATION
    if not isinstance(validation, (int, float)) or isinstance(validation, bool) or not 0 <= validation < 1:
        validation = DEFAULT_VALIDATION
    text = SCRIPT.substitute(
        title=_one_line(network.name or "network"),
        description=_docstring_text(network.description) + "\n\n" if network.description else "",
        weights_name=_one_line(weights_name),
        weights_name_literal=repr(weights_name),
        script_name=_one_line(script_name),
        notes="".join("\n" + textwrap.fill(f"Note: {_docstring_text(note)}", 110) for note in notes),
        dataset_literal=repr(dataset),
        data_dir_literal=repr(_data_folder(dataset)),
        input_shape=repr(tuple(network.input_shape)),
        binary=repr(network.output_head.binary),
        batch_size=repr(config.batch_size),
        epochs=repr(config.epochs),
        max_steps=repr(config.max_steps),
        patience=repr(config.early_stopping_patience),
        validation=repr(float(validation)),
        seed=repr(config.seed),
        eval_batch_size=repr(config.eval_batch_size),
        step_decay=STEP_DECAY if optimizer.needs_step_decay else "",
        padded_pooling=PADDED_POOLING if graph.needs_padded_pooling else "",
        input_noise_layer=INPUT_NOISE if input_noise else "",
        input_noise=repr(input_noise),
        classifier=repr(classifier),
        target=repr(getattr(head, "target", "labels")),
        figure=repr("accuracy" if classifier else "mean_squared_error"),
        monitor=repr("val_accuracy" if classifier else "val_loss"),
        monitor_words="validation accuracy" if classifier else "validation loss",
        monitor_mode=repr("max" if classifier else "min"),
        body="\n".join(f"    {line}" for line in graph.lines),
        input_var=graph.input_var,
        output_var=graph.output_var,
        model_name_literal=repr(graph.model_name),
        weight_names=_weight_names_code(graph.weight_names),
        optimizer=wrap(f"optimizer = {optimizer.code}").removeprefix("optimizer = "),
        exclude_decay=EXCLUDE_DECAY if optimizer.adamw else "",
        loss=loss,
        metric=metric,
    )
    return text, graph.weights


def _data_folder(dataset: str) -> str | None:
    """The folder LayerLab reads ``dataset``'s IDX files from (None for a set it does not read from IDX files)."""
    key = registry_key(dataset)
    if key is None:
        folder = imported_folder(dataset)
        return str(folder) if folder is not None else None
    info = REGISTRY[key]
    if info.format != "idx":
        return None
    paths = find_local_copy(info)
    if paths:
        return str(next(iter(paths.values())).parent)
    return str(download_folder(info))


def _weight_names_code(weight_names: dict[str, list[str]]) -> str:
    if not weight_names:
        return "{}"
    rows = "".join(f"    {name!r}: {keys!r},\n" for name, keys in weight_names.items())
    return "{\n" + rows + "}"


def _one_line(text: str) -> str:
    """``text`` safe inside the script's docstring on one line."""
    return _docstring_text(" ".join(str(text).split()))


def _docstring_text(text: str) -> str:
    """User text made safe inside a triple-quoted docstring: no backslash escapes, no closing quotes."""
    cleaned = "".join(c if c.isprintable() or c == "\n" else " " for c in str(text))
    return cleaned.replace("\\", "/").replace('"""', "'''").rstrip('"')
