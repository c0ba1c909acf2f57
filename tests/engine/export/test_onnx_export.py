"""ONNX export checked against the real libraries: onnx.checker (full check) and onnxruntime's outputs.

Every layer type of the engine's catalog is exported in a small design and run by onnxruntime on random
inputs; the bundled trained seed CNN is run on 1,000 MNIST test images.
"""

from __future__ import annotations

import copy
import json
import sys

import numpy as np
import pytest

import engine
from engine.export.extras import MissingExtraError
from engine.layers import Layer
from tests.engine.export.conftest import give_batchnorm_statistics

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from engine.export.onnx_export import OnnxExportError, export_onnx  # noqa: E402  (after the skips)

TOLERANCE = 1e-5  # the bar: onnxruntime's outputs equal the engine's within 1e-5 (max abs)


def run_onnx(path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["output"], {"input": np.ascontiguousarray(x, dtype=np.float32)})[0]


def exported_and_checked(network, path, **options):
    """Export ``network`` to ``path``, pass the full checker, and return the loaded ModelProto."""
    written = export_onnx(network, path, **options)
    assert written == path and path.is_file()
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    return model


def assert_same_outputs(network, path, x):
    expected = network.predict(x)
    actual = run_onnx(path, x)
    assert actual.shape == expected.shape
    difference = float(np.max(np.abs(actual - expected)))
    assert difference <= TOLERANCE, f"onnxruntime differs from the engine by {difference:.3g}"
    return actual


def spec_of(input_shape, *nodes, edges=None, name="tiny"):
    spec = {"format": "layerlab-network", "version": 1, "name": name,
            "nodes": [{"id": "input", "type": "Input", "shape": list(input_shape)}, *nodes]}
    if edges is not None:
        spec["edges"] = edges
    return spec


def conv(node_id, **fields):
    return {"id": node_id, "type": "Conv2D", "filters": 3, "kernel_size": 3, **fields}


# One or more small designs per layer type of the catalog (the test below checks that none is missing).
LAYER_DESIGNS = {
    "Input": [spec_of([5])],
    "Dense": [
        spec_of([6], {"id": "d", "type": "Dense", "units": 4}),
        spec_of([6], {"id": "d", "type": "Dense", "units": 4, "use_bias": False, "activation": "tanh"}),
    ],
    "Flatten": [spec_of([2, 3, 5], {"id": "f", "type": "Flatten"}), spec_of([7], {"id": "f", "type": "Flatten"})],
    "Conv2D": [
        spec_of([2, 9, 8], conv("c", padding="valid")),
        spec_of([2, 9, 8], conv("c", padding="same", strides=2, activation="relu")),
        spec_of([2, 9, 8], conv("c", kernel_size=[4, 2], padding="same", strides=[3, 2])),
        spec_of([2, 9, 8], conv("c", kernel_size=5, padding=[2, 1], use_bias=False, activation="sigmoid")),
    ],
    "MaxPooling2D": [
        spec_of([2, 7, 7], {"id": "p", "type": "MaxPooling2D"}),
        spec_of([2, 7, 7], {"id": "p", "type": "MaxPooling2D", "pool_size": 3, "strides": 2, "padding": "same"}),
        spec_of([2, 7, 6], {"id": "p", "type": "MaxPooling2D", "pool_size": [3, 2], "strides": 1, "padding": [1, 1]}),
    ],
    "AveragePooling2D": [
        spec_of([2, 7, 7], {"id": "p", "type": "AveragePooling2D"}),
        spec_of([2, 7, 7], {"id": "p", "type": "AveragePooling2D", "pool_size": 3, "strides": 2, "padding": "same"}),
        spec_of([2, 7, 6], {"id": "p", "type": "AveragePooling2D", "pool_size": [3, 2], "padding": [1, 1]}),
    ],
    "BatchNormalization": [
        spec_of([3, 4, 5], {"id": "bn", "type": "BatchNormalization", "epsilon": 0.01}),
        spec_of([6], {"id": "bn", "type": "BatchNormalization"}),
        spec_of([3, 4, 5], {"id": "bn", "type": "BatchNormalization", "center": False, "scale": False}),
    ],
    "Dropout": [spec_of([2, 4, 4], {"id": "drop", "type": "Dropout", "rate": 0.5})],
    "Activation": [spec_of([3, 4, 4], {"id": "act", "type": "Activation", "activation": name})
                   for name in ("relu", "leaky_relu", "sigmoid", "tanh", "softmax", "elu", "gelu")]
                  + [spec_of([6], {"id": "act", "type": "Activation", "activation": "softmax"})],
    "Add": [
        spec_of([2, 5, 5], conv("a", padding="same", filters=2), {"id": "sum", "type": "Add"},
                edges=[["input", "a"], ["a", "sum"], ["input", "sum"]]),
        spec_of([4], {"id": "a", "type": "Dense", "units": 4}, {"id": "b", "type": "Dense", "units": 4},
                {"id": "sum", "type": "Add"},
                edges=[["input", "a"], ["input", "b"], ["a", "sum"], ["b", "sum"], ["input", "sum"]]),
    ],
    "Concatenate": [
        spec_of([2, 5, 5], conv("a", padding="same"), {"id": "join", "type": "Concatenate", "axis": axis},
                edges=[["input", "a"], ["a", "join"], ["input", "join"]])
        for axis in (1, -3)
    ] + [
        spec_of([2, 5, 5], conv("a", padding="same", filters=2), conv("b", filters=2, kernel_size=1),
                {"id": "join", "type": "Concatenate", "axis": axis},
                edges=[["input", "a"], ["input", "b"], ["a", "join"], ["input", "join"], ["b", "join"]])
        for axis in (2, -1)
    ] + [
        spec_of([4], {"id": "a", "type": "Dense", "units": 3}, {"id": "join", "type": "Concatenate"},
                edges=[["input", "a"], ["input", "join"], ["a", "join"]]),
    ],
    # issue 24's layers: every setting of theirs in tests/engine/export/test_onnx_new_layers.py
    "Reshape": [spec_of([2, 3, 4], {"id": "r", "type": "Reshape", "target_shape": [4, -1]})],
    "UpSampling2D": [spec_of([2, 3, 4], {"id": "up", "type": "UpSampling2D", "size": [2, 3]})],
    "Conv2DTranspose": [spec_of([2, 5, 4], {"id": "up", "type": "Conv2DTranspose", "filters": 3, "kernel_size": 3,
                                            "strides": 2, "padding": padding}) for padding in ("valid", "same")],
    **{kind: [spec_of([1, 6, 5], {"id": "steps", "type": "Reshape", "target_shape": [6, 5]},
                      {"id": "rec", "type": kind, "units": 4, "return_sequences": every}) for every in (False, True)]
       for kind in ("SimpleRNN", "LSTM", "GRU")},
}
LAYER_CASES = [pytest.param(spec, id=f"{layer_type}-{index}")
               for layer_type, specs in LAYER_DESIGNS.items() for index, spec in enumerate(specs)]


def test_every_layer_type_of_the_catalog_has_an_export_case():
    assert set(LAYER_DESIGNS) == {info.type for info in engine.layer_types()}


@pytest.mark.parametrize("spec", LAYER_CASES)
def test_each_layer_type_gives_the_engines_outputs_in_onnxruntime(spec, tmp_path):
    network = engine.build(copy.deepcopy(spec), seed=3)
    give_batchnorm_statistics(network, seed=3)
    exported_and_checked(network, tmp_path / "layer.onnx")
    x = np.random.default_rng(5).normal(0.0, 2.0, (6, *network.input_shape)).astype(np.float32)
    assert_same_outputs(network, tmp_path / "layer.onnx", x)


@pytest.mark.parametrize("activation", ["linear", "relu", "leaky_relu", "sigmoid", "tanh", "softmax", "elu", "gelu"])
@pytest.mark.parametrize("opset", [17, 20])
def test_fused_activations_of_dense_and_conv_at_two_opsets(activation, opset, tmp_path):
    spec = spec_of([2, 6, 6], conv("c", padding="same", activation=activation), {"id": "f", "type": "Flatten"},
                   {"id": "d", "type": "Dense", "units": 5, "activation": activation})
    network = engine.build(spec, seed=1)
    model = exported_and_checked(network, tmp_path / "act.onnx", opset=opset)
    assert model.opset_import[0].version == opset
    x = np.random.default_rng(2).normal(0.0, 3.0, (4, 2, 6, 6)).astype(np.float32)
    assert_same_outputs(network, tmp_path / "act.onnx", x)


def test_the_trained_seed_cnn_gives_the_engines_logits_and_accuracy_on_1000_mnist_images(
        trained_seed_cnn, mnist_test_subset, tmp_path):
    images, labels = mnist_test_subset
    path = tmp_path / "seed-cnn.onnx"
    exported_and_checked(trained_seed_cnn, path)
    logits = assert_same_outputs(trained_seed_cnn, path, images)
    engine_accuracy = float(np.mean(trained_seed_cnn.predict(images).argmax(axis=1) == labels))
    onnx_accuracy = float(np.mean(logits.argmax(axis=1) == labels))
    assert onnx_accuracy == engine_accuracy
    assert onnx_accuracy > 0.97  # the trained weights went out, not initial ones


def test_a_dag_design_with_branches_both_merges_and_a_final_softmax(dag_design, mnist_test_subset, tmp_path):
    path = tmp_path / "dag.onnx"
    model = exported_and_checked(dag_design, path)
    probabilities = assert_same_outputs(dag_design, path, mnist_test_subset[0][:50])
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)  # the output is the softmax's
    ops = [node.op_type for node in model.graph.node]
    assert {"Add", "Concat", "BatchNormalization", "MaxPool", "AveragePool", "Dropout", "Softmax"} <= set(ops)


def test_the_graph_reads_input_and_gives_output_for_any_batch_size(trained_seed_cnn, mnist_test_subset, tmp_path):
    path = tmp_path / "seed-cnn.onnx"
    model = exported_and_checked(trained_seed_cnn, path)
    (graph_input,), (graph_output,) = model.graph.input, model.graph.output
    assert graph_input.name == "input" and graph_output.name == "output"
    input_dims = graph_input.type.tensor_type.shape.dim
    assert input_dims[0].dim_param == "batch" and [d.dim_value for d in input_dims[1:]] == [1, 28, 28]
    output_dims = graph_output.type.tensor_type.shape.dim
    assert output_dims[0].dim_param == "batch" and output_dims[1].dim_value == 10
    for batch in (1, 7):
        assert run_onnx(path, mnist_test_subset[0][:batch]).shape == (batch, 10)
        assert_same_outputs(trained_seed_cnn, path, mnist_test_subset[0][:batch])


def test_opset_weights_names_and_documentation(dag_design, tmp_path):
    model = exported_and_checked(dag_design, tmp_path / "dag.onnx")
    assert model.opset_import[0].domain == "" and model.opset_import[0].version >= 17
    assert all(node.domain in ("", "ai.onnx") for node in model.graph.node)  # standard operators only
    assert model.producer_name == "LayerLab"
    assert "export-dag" in model.doc_string and dag_design.description in model.doc_string
    assert model.graph.name == "export-dag"
    initializers = {tensor.name: onnx.numpy_helper.to_array(tensor) for tensor in model.graph.initializer}
    for name, value in dag_design.state_dict().items():  # every parameter and buffer, under its engine name
        assert np.array_equal(initializers[name], value), name
    assert {"conv_a", "conv_b", "sum", "bn", "join", "output"} <= {node.name for node in model.graph.node}
    spec = json.loads({p.key: p.value for p in model.metadata_props}["layerlab.spec"])
    assert spec == json.loads(json.dumps(dag_design.spec))


def test_node_ids_that_meet_reserved_or_weight_names_still_give_a_valid_graph(tmp_path):
    spec = {"format": "layerlab-network", "version": 1, "name": "awkward ids", "nodes": [
        {"id": "output", "type": "Input", "shape": [4]},
        {"id": "input", "type": "Dense", "units": 3, "activation": "relu"},
        {"id": "input.kernel", "type": "Dense", "units": 2}]}
    network = engine.build(spec, seed=0)
    model = exported_and_checked(network, tmp_path / "awkward.onnx")
    assert [i.name for i in model.graph.input] == ["input"] and [o.name for o in model.graph.output] == ["output"]
    initializers = {tensor.name: onnx.numpy_helper.to_array(tensor) for tensor in model.graph.initializer}
    assert np.array_equal(initializers["input.kernel"], network.state_dict()["input.kernel"])
    assert np.array_equal(initializers["input.kernel.kernel"], network.state_dict()["input.kernel.kernel"])
    assert_same_outputs(network, tmp_path / "awkward.onnx", np.random.default_rng(0).normal(size=(5, 4)))


def test_a_float64_network_goes_out_as_float32(dag_design, tmp_path):
    network = engine.build(dag_design.spec, seed=0, dtype="float64")
    network.load_state_dict(dag_design.state_dict())
    model = exported_and_checked(network, tmp_path / "f64.onnx")
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    x = np.random.default_rng(4).random((3, 1, 28, 28))
    assert np.max(np.abs(run_onnx(tmp_path / "f64.onnx", x) - network.predict(x))) <= TOLERANCE


def test_an_opset_below_17_is_refused(dag_design, tmp_path):
    with pytest.raises(OnnxExportError, match="opset must be an integer from 17"):
        export_onnx(dag_design, tmp_path / "old.onnx", opset=13)
    assert list(tmp_path.iterdir()) == []


def test_a_layer_type_without_an_onnx_equivalent_is_refused_naming_the_node(tmp_path):
    class Square(Layer):
        type_name = "SquareForOnnxTest"

        def forward(self, inputs, training):
            return inputs[0] * inputs[0]

    engine.register_layer_type(Square, "activation", "x * x")
    try:
        network = engine.build(spec_of([3], {"id": "squarer", "type": "SquareForOnnxTest"}))
        with pytest.raises(OnnxExportError, match="squarer: the layer type SquareForOnnxTest has no standard ONNX"):
            export_onnx(network, tmp_path / "custom.onnx")
    finally:
        engine.unregister_layer_type("SquareForOnnxTest")
    assert list(tmp_path.iterdir()) == []


def test_the_write_is_atomic_and_replaces_an_old_file_whole(dag_design, tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"an older export")
    export_onnx(dag_design, path)
    assert onnx.load(str(path)).producer_name == "LayerLab"
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]  # no temporary left behind


def test_without_the_onnx_package_the_message_names_the_extra(dag_design, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # what Python does for a package that is not installed
    with pytest.raises(MissingExtraError) as caught:
        export_onnx(dag_design, tmp_path / "model.onnx")
    message = str(caught.value)
    assert message == ("ONNX export needs the onnx package, part of LayerLab's 'export' extra: "
                       "pip install 'layerlab[export]'")
    assert not (tmp_path / "model.onnx").exists()
