"""A design as one readable, self-contained PyTorch script, with its weights in a .safetensors file beside it.

    from engine.export.pytorch_code import export_pytorch
    export_pytorch(network, "seed_cnn.py", training=project["training"])   # [seed_cnn.py, seed_cnn.safetensors]

The script imports only torch, numpy and safetensors (and the standard library): it runs where LayerLab is not
installed. It holds an ``nn.Module`` mirroring the design (engine/export/pytorch_module.py), the same
initializers, loss, optimizer, schedule, batch size and epochs (engine/export/pytorch_training.py), a reader
for the same data set and a training loop that trains data-parallel when started by ``torchrun``
(engine/export/pytorch_script.py). With the exported weights loaded, its forward pass gives the engine's
outputs (tests/engine/export/test_pytorch_export.py checks within 1e-5 on MNIST).
"""

from __future__ import annotations

import importlib.metadata
import re
import string
import textwrap
from pathlib import Path

from engine.datasets import DatasetError, get_info, list_datasets
from engine.datasets.storage import download_folder
from engine.export.extras import require
from engine.export.pytorch_loop import LOOP
from engine.export.pytorch_module import ModuleCode, PyTorchExportError
from engine.export.pytorch_script import AVG_POOL, BATCH_NORM, CIFAR_DATA, IDX_DATA, IMPORTS, INITIALIZE, SPLITS
from engine.export.pytorch_sequence_layers import CROP_TO
from engine.export.pytorch_training import Recipe
from engine.files import atomic_write

__all__ = ["PyTorchExportError", "export_pytorch", "torch_weights"]

HEADER = string.Template('''\
"""$title: a PyTorch model exported from LayerLab $version.

$intro

Train it from scratch, on the first GPU or else the CPU:

    python $script --epochs 3

Train data-parallel (DistributedDataParallel) on N GPUs of one machine; the batch of $batch_size is shared
out among them, so the learning rate means what it did on one:

    torchrun --nproc_per_node N $script

On M machines with N GPUs each: run this on every machine, HOST being the first machine's address
(any port free on it will do for 29500); CPUs only: the same, with --cpu (gloo instead of NCCL):

    torchrun --nnodes M --nproc_per_node N --rdzv_backend c10d --rdzv_endpoint HOST:29500 $script

Start from the exported weights: --weights $weights (with --epochs 0: only evaluate them).
Only load the weights, in your own code:

    from safetensors.torch import load_file
    $import_line
    model = $class_name()
    model.load_state_dict(load_file("$weights"))
    model.eval()    # model(images) gives what LayerLab shows; model(images, return_logits=True) the logits

$data_note
"""
''')

SETTINGS = string.Template('''\
# What LayerLab trains this design with (from its training settings at export time).
DESIGN = $design
DATASET = $dataset
# Where LayerLab read the data when this was exported; --data overrides it.
DATA_FOLDER = $data_folder
DATA_HELP = $data_help
INPUT_SHAPE = $input_shape
EPOCHS = $epochs
BATCH_SIZE = $batch_size
MAX_STEPS = $max_steps
SEED = $seed
VALIDATION = $validation  # examples (or a fraction) carved from the end of the training set
EARLY_STOPPING_PATIENCE = $patience  # epochs without a better validation $best before stopping
TRAINED_WEIGHTS = $trained  # where the weights go after training
TARGET = $target  # what the outputs are compared with: "labels", or "input" (the input itself: an autoencoder)
LABEL_TYPE = $label_type
INPUT_NOISE = $input_noise  # the standard deviation of Gaussian noise added to each training input
FIGURE = $figure  # what is reported beside the loss
FIGURE_WORDS = $figure_words
''')

# What an exported script imports: a script named like one of them would import itself instead.
SCRIPT_IMPORTS = {"argparse", "gzip", "json", "math", "os", "struct", "tarfile", "time", "pathlib", "numpy", "torch",
                  "safetensors"}


def export_pytorch(network, path, *, training: dict | None = None, dataset: str = "mnist") -> list[Path]:
    """Write ``path`` (a .py script) and ``path.with_suffix(".safetensors")`` (the weights); returns both.

    ``training`` is a project's "training" object (TrainingConfig's names plus "dataset", "schedule"...; None:
    LayerLab's defaults); its "dataset" wins over ``dataset``. Raises PyTorchExportError naming the node for a
    layer PyTorch has no equivalent for, ValueError for bad training settings, and MissingExtraError when
    safetensors is not installed. Both files are written atomically.
    """
    safetensors_numpy = require("safetensors.numpy", "PyTorch export", "safetensors")
    path = Path(path)
    if path.stem in SCRIPT_IMPORTS:  # Python puts the script's folder first: `import torch` would import itself
        raise ValueError(f"{path.name}: a script of that name would hide the {path.stem} module it imports; "
                         f"choose another name, such as {path.stem}_model{path.suffix}")
    weights_path = path.with_suffix(".safetensors")
    module = ModuleCode.of(network)
    recipe = Recipe.of(network, training)
    dataset = (training or {}).get("dataset") or dataset
    script = script_source(network, module, recipe, str(dataset), path, weights_path)
    tensors = module.weights(network)
    metadata = {"format": "pt", "layerlab_design": network.name, "layerlab_version": _version()}
    blob = safetensors_numpy.save(tensors, metadata=metadata)
    atomic_write(weights_path, lambda stream: stream.write(blob))
    atomic_write(path, lambda stream: stream.write(script.encode("utf-8")))
    return [path, weights_path]


def torch_weights(network) -> dict:
    """The network's weights under the exported module's state_dict names (what the .safetensors holds)."""
    return ModuleCode.of(network).weights(network)


def script_source(network, module: ModuleCode, recipe: Recipe, dataset: str, path: Path, weights_path: Path) -> str:
    class_name = class_name_for(network.name)
    config = recipe.config
    data = data_source(dataset, tuple(network.input_shape))
    version = _version()
    stem = path.stem
    import_line = (f"from {stem} import {class_name}" if stem.isidentifier()
                   else f"{class_name} = ...  # import it from {path.name} (rename it to a module name first)")
    description = (network.description or "").strip()
    loss = {"softmax": "cross-entropy from the logits", "logits": "cross-entropy from the logits",
            "mse": "mean squared error", "sigmoid_bce": "binary cross-entropy from the final sigmoid's "
            "pre-activation"}.get(recipe.head_kind, "binary cross-entropy")
    if recipe.target == "input":
        loss += ", towards the input itself: an autoencoder"
    intro = (f"{description + chr(10) + chr(10) if description else ''}Written from the design \"{network.name}\" "
             f"by LayerLab {version}: an nn.Module mirroring the design, its initializers, loss ({loss}), optimizer "
             f"({_optimizer_words(recipe.optimizer)}), learning-rate schedule, batch size ({config.batch_size}) and "
             f"epochs ({config.epochs}), a reader for the data set ({dataset}) and a training loop. The trained "
             f"weights LayerLab exported with it are in {weights_path.name} (tensor names: the module's state_dict "
             f"names). It needs only torch, numpy and safetensors: pip install torch numpy safetensors")
    header = HEADER.substitute(
        title=class_name, version=version, intro=_wrapped(intro), batch_size=config.batch_size,
        weights=weights_path.name, script=path.name, import_line=import_line, class_name=class_name,
        data_note=_wrapped("Data: " + data["note"]))
    settings = SETTINGS.substitute(
        design=repr(network.name), dataset=repr(dataset), data_folder=repr(data["folder"]),
        data_help=repr(data["help"]), input_shape=repr(tuple(network.input_shape)), epochs=config.epochs,
        batch_size=config.batch_size, max_steps=config.max_steps, seed=config.seed,
        validation=repr(recipe.validation), patience=config.early_stopping_patience,
        trained=repr(f"{stem}-trained.safetensors"), target=repr(recipe.target),
        label_type="np.int64" if recipe.classifier else "np.float32", input_noise=repr(float(recipe.input_noise)),
        best="accuracy" if recipe.classifier else "loss",
        figure=repr("accuracy" if recipe.classifier else "mean_squared_error"),
        figure_words=repr("accuracy" if recipe.classifier else "mean squared error"))
    if config.augment:  # said where the settings are read, so nobody expects it
        shown = ", ".join(f"{key}={value}" for key, value in config.augmentation().get_config().items())
        words = f"LayerLab's augmentation ({shown}) is not part of this script: it trains on the images as they are."
        settings += "".join(f"# {line}\n" for line in textwrap.wrap(words, 100))
    helpers = [INITIALIZE]
    if "batch_norm" in module.helpers:
        helpers.append(BATCH_NORM)
    if "avg_pool" in module.helpers:
        helpers.append(AVG_POOL)
    if "crop_to" in module.helpers:
        helpers.append(CROP_TO)
    parts = [settings, *helpers, module.source(class_name, network.name), recipe.source(module.regularized),
             data["reader"], SPLITS, LOOP.replace("MODEL_CLASS", class_name)]
    # PEP 8: one blank line after the docstring and the imports, two between top-level definitions
    text = header + "\n" + IMPORTS + "\n" + "\n\n".join(part.rstrip("\n") + "\n" for part in parts)
    return _drop_unused_imports(text)


def data_source(dataset: str, input_shape: tuple) -> dict:
    """The script's data reader and where its data is: {"reader", "folder", "help", "note"}."""
    if dataset.startswith("toy:"):
        return _generated(dataset, "a 2-D toy set LayerLab makes with code (engine.datasets.make_toy)")
    try:
        info = get_info(dataset)
    except DatasetError as exc:
        raise ValueError(f"PyTorch export: {exc}") from None
    if info.format == "generated":
        return _generated(info.name, "made by LayerLab's code")
    status = next((s for s in list_datasets() if s.name == info.name), None)
    folder = status.location if status is not None and status.location else None
    if folder is None and status is not None and status.kind != "imported":
        folder = str(download_folder(info))
    where = f"read from {folder}" if folder else "not found on this computer at export time"
    if info.format == "cifar10-binary":
        note = (f"{info.title}: the official binary archive cifar-10-binary.tar.gz in the --data folder "
                f"({where}); pixels scaled to [0, 1] as in LayerLab.")
        return {"reader": CIFAR_DATA, "folder": folder, "help": f"--data FOLDER: the folder of {info.name}'s "
                "cifar-10-binary.tar.gz", "note": note}
    note = (f"{info.title}: its four IDX files (gzipped or not) in the --data folder ({where}); pixels "
            f"scaled to [0, 1] and the validation split carved from the end of the training set, as in LayerLab.")
    return {"reader": IDX_DATA, "folder": folder, "help": f"--data FOLDER: the folder of {info.name}'s four IDX "
            "files", "note": note}


# Writes a generated set's four arrays as IDX files into the folder OUT (run where LayerLab is installed).
WRITE_GENERATED = ("python -c \"from engine import datasets as d; s = d.load('{name}'); "
                   "[d.write_idx(f'OUT/{{n}}.gz', a) for n, a in (('train-images', s.train_images), "
                   "('train-labels', s.train_labels.astype('int32')), ('test-images', s.test_images), "
                   "('test-labels', s.test_labels.astype('int32')))]\"")


def _generated(name: str, what: str) -> dict:
    """A set LayerLab makes with code: the script reads it from IDX files the user writes once."""
    if name.startswith("toy:"):
        how = ("write its points (float32, N x 2) and labels (int32) as IDX files named train-images, "
               "train-labels, test-images and test-labels (engine.datasets.write_idx)")
    else:
        how = f"write it as IDX files once, where LayerLab is installed:\n\n    {WRITE_GENERATED.format(name=name)}\n\n"
    note = f"{name} is {what}, not read from files: to train on it here, {how}and give their folder as --data."
    note = note.replace("\n\nand", "\n\nThen")
    return {"reader": IDX_DATA, "folder": None, "note": note,
            "help": f"{name} is made by LayerLab: write it as IDX files (see the top of this script) and give "
                    "their folder as --data"}


def class_name_for(design: str) -> str:
    """"seed-cnn" -> "SeedCnn"; "Model" when the name gives no identifier."""
    words = re.findall(r"[A-Za-z0-9]+", design or "")
    name = "".join(word[:1].upper() + word[1:] for word in words)
    if not name or name[0].isdigit():
        name = "Model" + name
    return name


def _optimizer_words(config: dict) -> str:
    rate = config["lr"]
    shown = f"{rate['name']} schedule from {rate.get('initial_learning_rate')}" if isinstance(rate, dict) \
        else f"lr {rate}"
    return f"{config['name']}, {shown}"


def _wrapped(text: str, width: int = 100) -> str:
    """Paragraphs wrapped for the docstring, with nothing in them that could end it or start an escape."""
    text = text.replace('"""', "'''").replace("\\", "/")
    return "\n\n".join(paragraph if paragraph.startswith("    ") else "\n".join(textwrap.wrap(paragraph, width))
                       for paragraph in text.split("\n\n"))


def _drop_unused_imports(text: str) -> str:
    """Leave out the standard-library imports this script's readers do not use (tarfile for CIFAR only...)."""
    body = text.split("from torch.utils.data import DistributedSampler", 1)[1]
    for module in ("gzip", "struct", "tarfile"):
        if f"{module}." not in body:
            text = text.replace(f"import {module}\n", "", 1)
    return text


def _version() -> str:
    try:
        return importlib.metadata.version("layerlab")
    except importlib.metadata.PackageNotFoundError:
        return "(version unknown)"
