"""Whether a design fits a data set: the input's shape and one output per class, said in words."""

import engine
from engine.data_fit import data_fit_problem, outputs_fit_classes


def report_of(input_shape, *layers):
    nodes = [{"id": "input", "type": "Input", "shape": list(input_shape)}, *layers]
    return engine.infer_shapes({"nodes": nodes}, collect_errors=True)


def test_a_design_that_fits_has_no_problem():
    report = report_of((1, 28, 28), {"id": "flat", "type": "Flatten"}, {"id": "out", "type": "Dense", "units": 10})
    assert data_fit_problem(report, (1, 28, 28), 10, "MNIST") is None


def test_a_wrong_input_is_named_with_both_shapes_and_the_fix():
    report = report_of((2,), {"id": "out", "type": "Dense", "units": 2})
    problem = data_fit_problem(report, (1, 28, 28), 10, "MNIST")
    assert problem.node == "input"
    assert str(problem) == ("input: the network reads 2 values per example, but the examples of MNIST are 1x28x28 "
                            "images; set the Input's shape to [1, 28, 28] or choose a data set of 2 values")


def test_a_wrong_number_of_outputs_names_the_last_node():
    report = report_of((2,), {"id": "logits", "type": "Dense", "units": 10})
    problem = data_fit_problem(report, (2,), 2, "spiral")
    assert problem.node == "logits"
    assert "ends in 10 values, but spiral has 2 classes" in str(problem)
    assert "give its last layer 2 units" in str(problem)


def test_an_image_output_asks_for_flatten_and_dense():
    report = report_of((1, 28, 28), {"id": "conv", "type": "Conv2D", "filters": 4, "kernel_size": 3})
    assert "end it with Flatten and a Dense layer of 10 units" in str(data_fit_problem(report, (1, 28, 28), 10, "x"))


def test_one_output_fits_two_classes_only():
    assert outputs_fit_classes((1,), 2) and outputs_fit_classes((2,), 2)
    assert not outputs_fit_classes((1,), 3) and not outputs_fit_classes((3,), 2)


def test_a_design_with_its_own_problems_is_left_to_them():
    report = report_of((1, 28, 28), {"id": "out", "type": "Dense", "units": 10})  # Dense needs a flat input
    assert report.errors
    assert data_fit_problem(report, (1, 28, 28), 10, "MNIST") is None


def test_a_report_names_its_one_input_node():
    assert report_of((2,), {"id": "out", "type": "Dense", "units": 2}).input_node.output_shape == (2,)
    two_inputs = engine.infer_shapes({"nodes": [{"id": "a", "type": "Input", "shape": [2]},
                                                {"id": "b", "type": "Input", "shape": [2]}], "edges": []},
                                     collect_errors=True)
    assert two_inputs.input_node is None
