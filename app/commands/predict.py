"""``layerlab predict MODEL IMAGE [IMAGE...]``: the classes a model reads in image files, most likely first.

Each image becomes the model's input (see ``image_input``); probabilities are its output head's: a final softmax
layer's own output, else the softmax of the logits (``engine.OutputHead``).
Class names come from the data set the model file's metadata names ({"dataset": "mnist"}), else indices.
Every image is read before any prediction is printed, so a bad file stops the command with nothing half done.
"""

from __future__ import annotations

import json
import math

from app.commands.command_error import CommandError
from app.commands.engine_files import finite_or_null, import_engine, load_model, positive_int, shape_text

INVERT_CHOICES = ("auto", "always", "never")

DEFAULT_TOP = 3


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="classify image files with a trained model",
        description="Read each image (PNG, JPEG, ...), convert it to the model's input (grayscale or RGB, "
        "resized to the model's height x width, pixels scaled to [0, 1]) and print the most likely classes. "
        "Grayscale models expect white ink on black, as in MNIST: a mostly light image is inverted first.",
    )
    parser.add_argument("model", metavar="MODEL", help="a model file (.llmodel)")
    parser.add_argument("images", metavar="IMAGE", nargs="+", help="image files to classify")
    parser.add_argument("--top", type=positive_int, default=DEFAULT_TOP, metavar="K",
                        help=f"how many classes to show per image (default {DEFAULT_TOP})")
    parser.add_argument("--invert", choices=INVERT_CHOICES, default="auto",
                        help="grayscale models: invert light images (auto, the default), always, or never")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.set_defaults(run=run)


def run(args) -> int:
    import numpy as np  # here, not at the top: `layerlab --help` should not wait for NumPy

    from app.commands.image_input import read_image

    engine = import_engine()
    checkpoint = load_model(args.model)
    network = checkpoint.network
    input_shape = tuple(network.input_shape)
    if len(input_shape) != 3 or input_shape[0] not in (1, 3):
        raise CommandError(f"{args.model}: predict reads images, so the model must take 1 (grayscale) or 3 (RGB) "
                           f"channels x height x width; it takes {shape_text(input_shape)}")
    if len(network.output_shape) != 1 or not network.output_head.classifier:
        raise CommandError(f"{args.model}: expected a classifier with one score per class; the model outputs "
                           f"{shape_text(network.output_shape)}" + ("" if network.output_head.classifier else
                                                                    " values (it is not trained with cross-entropy)"))
    images = [read_image(path, input_shape, args.invert) for path in args.images]

    outputs = network.predict(np.stack([image.pixels for image in images]))
    probabilities = network.output_head.probabilities(outputs.astype(np.float64))
    class_names = _class_names(engine, checkpoint.metadata, network.output_head.classes)
    top = min(args.top, probabilities.shape[1])
    results = []
    for image, row in zip(images, probabilities, strict=True):
        ranked = np.argsort(-row, kind="stable")[:top]
        results.append({"image": image.path, "inverted": image.inverted,
                        "top": [{"class": int(k), "name": class_names[k] if class_names else str(k),
                                 "probability": float(row[k])} for k in ranked]})
    if args.json:
        output = {"model": str(args.model), "class_names": class_names, "predictions": results}
        print(json.dumps(finite_or_null(output), allow_nan=False))
    else:
        print(format_predictions(results))
    return 0


def _class_names(engine, metadata: dict, num_outputs: int) -> list[str] | None:
    """The names of the classes of the data set the model was trained on, when it says and they fit."""
    name = metadata.get("dataset")
    if not isinstance(name, str):
        return None
    try:
        info = engine.datasets.get_info(name)
    except engine.datasets.DatasetError:
        return None  # a data set this LayerLab does not know (imported, or newer): fall back to indices
    return list(info.class_names) if info.num_classes == num_outputs else None


def format_predictions(results: list[dict]) -> str:
    lines = []
    for result in results:
        best = result["top"][0]
        note = "  (inverted: dark ink on a light background)" if result["inverted"] else ""
        lines.append(f"{result['image']}: {best['name']}{note}")
        width = max(len(entry["name"]) for entry in result["top"])
        for entry in result["top"]:
            if math.isfinite(entry["probability"]):
                lines.append(f"  {entry['name'].ljust(width)}  {entry['probability']:.4f}")
            else:
                lines.append(f"  {entry['name'].ljust(width)}  -")
    return "\n".join(lines)
