"""Whether a design can train on a data set, said in words before any data is loaded.

    problem = data_fit_problem(engine.infer_shapes(spec), (1, 28, 28), 10, "MNIST")
    problem   # None, or "input: the network reads 2 values per example, but the examples of MNIST are 1x28x28 ..."

The app shows the answer in its Problems list and on a disabled Start; the ``layerlab train`` command
refuses with it. Shapes come from shape inference alone, so asking costs no weights and no data.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.shapes import ShapeReport


@dataclass(frozen=True)
class DataFitProblem:
    """What does not fit, the node to fix (None when no single node is at fault) and the message."""

    node: str | None
    message: str

    def __str__(self) -> str:
        return self.message


def describe_example(shape) -> str:
    """(1, 28, 28) -> '1x28x28 images'; (2,) -> '2 values'."""
    shape = tuple(shape)
    if len(shape) == 1:
        return f"{shape[0]} value{'s' * (shape[0] != 1)}"
    return f"{'x'.join(map(str, shape))} images"


def outputs_fit_classes(output_shape, num_classes: int) -> bool:
    """One output per class; or, for two classes, a single output read as the chance of the second."""
    output_shape = tuple(output_shape)
    return output_shape == (num_classes,) or (num_classes == 2 and output_shape == (1,))


def data_fit_problem(report: ShapeReport, input_shape, num_classes: int, data_title: str, *,
                     target_width: int | None = None) -> DataFitProblem | None:
    """Why the design in ``report`` cannot train on examples of ``input_shape`` in ``num_classes`` classes.

    The check follows the design's task (``report.loss`` / ``report.target``, the spec's keys): a classifier's
    output must fit the classes; an autoencoder's (target "input") only its input, whatever the classes; a
    network trained with another loss on the labels must output ``target_width`` values per example (the
    labels' width: 1 for a regression set of one value, or for class labels; ``num_classes`` is 0 for a set
    of values, such as toy:sine). Returns None when it can train, or when the design's own problems (already
    in ``report.errors``) hide the shapes needed to tell.
    """
    input_shape = tuple(int(size) for size in input_shape)
    node = report.input_node
    if node is not None and node.output_shape != input_shape:
        return DataFitProblem(node.id, (
            f"{node.id}: the network reads {describe_example(node.output_shape)} per example, but the examples of "
            f"{data_title} are {describe_example(input_shape)}; set the Input's shape to "
            f"{list(input_shape)} or choose a data set of {describe_example(node.output_shape)}"))
    output_shape = report.output_shape
    if not report.order or output_shape is None or report.errors:
        return None
    last = report.order[-1]
    if report.target == "input":
        return None  # the target is the input: the output's size is a design rule ("target shape")
    if report.loss != "cross_entropy":
        return _fits_values(last, output_shape, num_classes, data_title, target_width or 1)
    if num_classes < 1:
        return DataFitProblem(last, (
            f"{last}: {data_title} has no classes (its targets are values), but the network is trained with "
            f"cross-entropy, for classes; set the loss to mean_squared_error"))
    if not outputs_fit_classes(output_shape, num_classes):
        if len(output_shape) != 1:
            fix = f"end it with Flatten and a Dense layer of {num_classes} units"
        else:
            fix = f"give its last layer {num_classes} units"
        return DataFitProblem(last, (
            f"{last}: the network ends in {describe_example(output_shape)}, but {data_title} has {num_classes} "
            f"classes (one output per class); {fix}"))
    return None


def _fits_values(last: str, output_shape, num_classes: int, data_title: str, width: int) -> DataFitProblem | None:
    """A network trained on its labels with a loss for values: it must output as many values as a label holds."""
    size = 1
    for d in output_shape:
        size *= d
    if size == width:
        return None
    what = "its class label" if num_classes > 0 else f"{width} target value{'s' * (width != 1)}"
    fix = f"give its last layer {width} unit{'s' * (width != 1)}"
    if num_classes > 0:
        fix += ", or train it with cross_entropy to tell the classes apart"
    return DataFitProblem(last, (
        f"{last}: the network ends in {describe_example(output_shape)}, but each example of {data_title} has "
        f"{what} to compare them with; {fix}"))
