"""ONNX import: models from torch.onnx.export and from our own export_onnx read back as LayerLab designs whose
outputs equal onnxruntime's; files and operators LayerLab cannot take are refused in words naming them."""

from __future__ import annotations

import numpy as np
import pytest

import engine

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
torch = pytest.importorskip("torch")

from engine.export.onnx_import import OnnxImportError, import_onnx  # noqa: E402
from tests.engine.export.conftest import dag_spec, give_batchnorm_statistics  # noqa: E402
from tests.engine.export.onnx_helpers import engine_outputs, export_torch, runtime_outputs  # noqa: E402

nn = torch.nn
TOLERANCE = 1e-5
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch names its legacy exporter


def random_inputs(shape, count=6, seed=0):
    return np.random.default_rng(seed).standard_normal((count, *shape)).astype(np.float32)


def shuffle_batchnorm(module, seed=0):
    """Moving statistics, scale and shift away from 0 / 1, so a swapped or dropped one shows."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
                layer.running_mean.copy_(torch.randn(layer.num_features, generator=generator) * 0.5)
                layer.running_var.copy_(torch.rand(layer.num_features, generator=generator) + 0.5)
                layer.weight.copy_(torch.rand(layer.num_features, generator=generator) + 0.5)
                layer.bias.copy_(torch.randn(layer.num_features, generator=generator) * 0.5)


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(12, 16)
        self.norm = nn.BatchNorm1d(16)
        self.out = nn.Linear(16, 3)

    def forward(self, x):
        return torch.softmax(self.out(torch.tanh(self.norm(self.hidden(x)))), dim=1)


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(4, 6, 3, stride=2)
        self.pool2 = nn.AvgPool2d(2)
        self.drop = nn.Dropout(0.3)
        self.fc = nn.Linear(6 * 3 * 3, 10)

    def forward(self, x):
        x = self.pool1(torch.relu(self.bn1(self.conv1(x))))
        x = self.pool2(torch.sigmoid(self.conv2(x)))
        return self.fc(self.drop(x.view(x.size(0), -1)))


class Dag(nn.Module):
    """Two branches added (a residual), a third joined on channels, then a global average and a Dense."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(2, 4, 3, padding=1)
        self.b = nn.Conv2d(2, 4, 1)
        self.c = nn.Conv2d(2, 3, 3, padding=1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(7, 5)

    def forward(self, x):
        summed = torch.relu(self.a(x)) + self.b(x)
        joined = torch.cat([summed, torch.tanh(self.c(x))], dim=1)
        return self.fc(torch.flatten(self.gap(joined), 1))


class Smooth(nn.Module):
    """'same' padding, no biases, nn.Flatten, and ELU then exact GELU (written out with Erf before opset 20)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding="same", bias=False)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(2 * 5 * 5, 4, bias=False)

    def forward(self, x):
        return nn.functional.gelu(self.fc(self.flatten(nn.functional.elu(self.conv(x)))))


@pytest.mark.parametrize(("module", "shape", "options"), [
    (Mlp, (12,), {}),
    (Smooth, (1, 5, 5), {}),
    (Smooth, (1, 5, 5), {"opset_version": 20}),  # Gelu as one operator
    (Dag, (2, 8, 8), {"opset_version": 11}),  # Unsqueeze's axes as an attribute, Softmax's old rule
    (Cnn, (1, 28, 28), {}),
    (Cnn, (1, 28, 28), {"do_constant_folding": False}),  # BatchNormalization kept as its own node
    (Dag, (2, 8, 8), {}),
], ids=["mlp", "smooth", "smooth-opset20", "dag-opset11", "cnn", "cnn-unfolded", "dag"])
def test_torch_exported_models_give_onnxruntimes_outputs(tmp_path, module, shape, options):
    torch.manual_seed(1)
    model = module()
    shuffle_batchnorm(model)
    path = export_torch(model, tmp_path / "model.onnx", shape, **options)

    imported = import_onnx(path)

    x = random_inputs(shape)
    np.testing.assert_allclose(engine_outputs(imported, x), runtime_outputs(path, x), atol=TOLERANCE, rtol=0)
    assert imported.spec["nodes"][0] == {"id": "input", "type": "Input", "shape": list(shape)}


def test_the_cnns_layers_come_in_as_the_layers_a_person_would_place(tmp_path):
    path = export_torch(Cnn(), tmp_path / "cnn.onnx", (1, 28, 28), do_constant_folding=False)

    spec = import_onnx(path).spec

    types = [(node["type"], node.get("activation")) for node in spec["nodes"]]
    assert types == [("Input", None), ("Conv2D", None), ("BatchNormalization", None), ("Activation", "relu"),
                     ("MaxPooling2D", None), ("Conv2D", "sigmoid"), ("AveragePooling2D", None),
                     ("Flatten", None), ("Dense", None)]
    conv2 = spec["nodes"][5]
    assert conv2["strides"] == [2, 2] and conv2["kernel_size"] == [3, 3] and conv2["padding"] == "valid"
    assert len({node["id"] for node in spec["nodes"]}) == len(spec["nodes"])


def test_our_export_of_the_trained_seed_cnn_comes_back_with_identical_outputs(tmp_path, trained_seed_cnn,
                                                                              mnist_test_subset):
    from engine.export.onnx_export import export_onnx

    images, _ = mnist_test_subset
    path = export_onnx(trained_seed_cnn, tmp_path / "seed.onnx")

    imported = import_onnx(path)

    np.testing.assert_array_equal(engine_outputs(imported, images[:200]), trained_seed_cnn.predict(images[:200]))
    assert [node["id"] for node in imported.spec["nodes"]] == list(trained_seed_cnn.order)


def test_our_export_of_a_dag_with_every_layer_type_comes_back_with_identical_outputs(tmp_path):
    from engine.export.onnx_export import export_onnx

    network = engine.build(dag_spec(), seed=3)
    give_batchnorm_statistics(network, seed=3)
    path = export_onnx(network, tmp_path / "dag.onnx")

    imported = import_onnx(path)

    x = np.random.default_rng(2).random((5, 1, 28, 28)).astype(np.float32)
    np.testing.assert_array_equal(engine_outputs(imported, x), network.predict(x))
    assert [node["id"] for node in imported.spec["nodes"]] == [node["id"] for node in dag_spec()["nodes"]]
    hidden = next(node for node in imported.spec["nodes"] if node["id"] == "hidden")
    assert hidden["activation"] == "gelu"  # the written-out GELU of opset 17 comes back as one


IMAGE_OUT = ["batch", "c", "h", "w"]  # symbolic: the checker wants a shape, and infers the sizes itself
FLAT_OUT = ["batch", "n"]


def _graph_with(nodes, initializers=(), input_shape=(None, 3, 8, 8), output_shape=FLAT_OUT):
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", *input_shape[1:]])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, output_shape)], list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_every_operator_without_a_layer_is_named_with_its_nodes(tmp_path):
    from onnx import helper

    model = _graph_with([
        helper.make_node("Relu", ["input"], ["r"], name="relu1"),
        helper.make_node("Sin", ["r"], ["up"], name="up1"),
        helper.make_node("Neg", ["up"], ["n1"], name="neg_a"),
        helper.make_node("Neg", ["n1"], ["output"], name="neg_b"),
    ], output_shape=IMAGE_OUT)
    path = tmp_path / "model.onnx"
    onnx.save(model, str(path))

    with pytest.raises(OnnxImportError) as caught:
        import_onnx(path)

    message = str(caught.value)
    assert message.startswith(f"{path}: LayerLab has no layer for these operators: ")
    assert "Sin (node up1)" in message and "Neg (nodes neg_a, neg_b)" in message
    assert "supported: Gemm" in message and "Relu" not in message.split("supported:")[0]


def test_a_setting_the_layer_lacks_is_named(tmp_path):
    from onnx import helper, numpy_helper

    kernel = numpy_helper.from_array(np.ones((3, 1, 3, 3), np.float32), "w")
    model = _graph_with([helper.make_node("Conv", ["input", "w"], ["output"], name="depthwise", group=3,
                                          pads=[1, 1, 1, 1])], [kernel], output_shape=IMAGE_OUT)
    path = tmp_path / "grouped.onnx"
    onnx.save(model, str(path))

    with pytest.raises(OnnxImportError, match=r"grouped\.onnx: node depthwise \(Conv\) has group=3"):
        import_onnx(path)


@pytest.mark.parametrize(("content", "words"), [
    (None, "is not an ONNX model"),  # the seed CNN's export cut in half (filled in below)
    (b"name,score\nada,3\n" * 20, "is not an ONNX model"),
    (b"", "is empty"),
    ("tensor", "is not an ONNX model"),  # a protobuf, but an ONNX tensor's, not a model's
], ids=["truncated", "text", "empty", "another-protobuf"])
def test_a_file_that_is_not_a_whole_onnx_model_is_refused_in_words(tmp_path, trained_seed_cnn, content, words):
    from engine.export.onnx_export import export_onnx

    path = tmp_path / "model.onnx"
    if content is None:
        whole = export_onnx(trained_seed_cnn, tmp_path / "whole.onnx").read_bytes()
        content = whole[: len(whole) // 2]
    elif content == "tensor":
        content = onnx.numpy_helper.from_array(np.ones((4, 4), np.float32), "w").SerializeToString()
    path.write_bytes(content)

    with pytest.raises(OnnxImportError) as caught:
        import_onnx(path)

    assert str(caught.value).startswith(f"{path}: ") and words in str(caught.value)
    assert "Error" not in str(caught.value) and "Traceback" not in str(caught.value)


def test_weights_claiming_more_data_than_the_file_holds_are_refused(tmp_path):
    from onnx import TensorProto, helper

    # A 100,000 x 100,000 kernel (40 GB) whose data is eight bytes: the claim alone must not be believed.
    kernel = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[100_000, 100_000], raw_data=b"\0" * 8)
    graph = helper.make_graph([helper.make_node("Gemm", ["input", "w"], ["output"], name="fc")], "g",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 100_000])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, FLAT_OUT)], [kernel])
    path = tmp_path / "claims.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))

    with pytest.raises(OnnxImportError, match=r"claims\.onnx: "):
        import_onnx(path)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from engine.export import onnx_import

    monkeypatch.setattr(onnx_import, "MAX_ONNX_BYTES", 1000)
    path = tmp_path / "big.onnx"
    path.write_bytes(b"\0" * 1001)

    with pytest.raises(OnnxImportError, match=r"big\.onnx: is 1,001 bytes; this kind of file is at most 1,000"):
        import_onnx(path)


def test_weights_kept_in_another_file_are_refused(tmp_path):
    from onnx import helper, numpy_helper

    kernel = numpy_helper.from_array(np.ones((3, 2), np.float32), "w")
    model = _graph_with([helper.make_node("Gemm", ["input", "w"], ["output"], name="fc")], [kernel],
                        input_shape=(None, 3))
    path = tmp_path / "split.onnx"
    onnx.save(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True, location="split.data",
              size_threshold=0)

    with pytest.raises(OnnxImportError, match=r"split\.onnx: keeps the weights w in separate files"):
        import_onnx(path)


def test_a_missing_initializer_is_named(tmp_path):
    from onnx import helper

    model = _graph_with([helper.make_node("Gemm", ["input", "w"], ["output"], name="fc")], input_shape=(None, 3))
    path = tmp_path / "missing.onnx"
    onnx.save(model, str(path))  # onnx.save checks nothing: the import must

    with pytest.raises(OnnxImportError, match=r"missing\.onnx: .*'w' of node: name: fc OpType: Gemm"):
        import_onnx(path)


def test_a_shape_that_depends_on_the_data_is_refused(tmp_path):
    from onnx import helper

    # Reshape to a shape computed by multiplying the batch size: a dynamic shape the import cannot resolve.
    nodes = [helper.make_node("Shape", ["input"], ["s"], name="shape"),
             helper.make_node("Mul", ["s", "s"], ["s2"], name="square"),
             helper.make_node("Reshape", ["input", "s2"], ["output"], name="reshape")]
    path = tmp_path / "dynamic.onnx"
    onnx.save(_graph_with(nodes, input_shape=(None, 4)), str(path))

    with pytest.raises(OnnxImportError, match=r"dynamic\.onnx: node square \(Mul\) .*batch size"):
        import_onnx(path)


def test_matmul_then_add_of_a_bias_then_relu_is_one_dense_layer(tmp_path):
    from onnx import helper, numpy_helper

    rng = np.random.default_rng(4)
    kernel = numpy_helper.from_array(rng.standard_normal((6, 4)).astype(np.float32), "w")
    bias = numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "b")
    model = _graph_with([helper.make_node("MatMul", ["input", "w"], ["z"], name="fc/MatMul"),
                         helper.make_node("Add", ["b", "z"], ["zb"], name="fc/Add"),  # the bias first: either order
                         helper.make_node("Relu", ["zb"], ["output"], name="fc/Relu")],
                        [kernel, bias], input_shape=(None, 6))
    path = tmp_path / "mlp.onnx"
    onnx.save(model, str(path))

    imported = import_onnx(path)

    assert imported.spec["nodes"][1:] == [{"id": "fc_MatMul", "type": "Dense", "units": 4, "use_bias": True,
                                           "activation": "relu"}]
    x = random_inputs((6,))
    np.testing.assert_allclose(engine_outputs(imported, x), runtime_outputs(path, x), atol=TOLERANCE, rtol=0)


def test_pads_as_same_puts_them_come_in_as_same(tmp_path):
    from onnx import helper, numpy_helper

    kernel = numpy_helper.from_array(np.random.default_rng(5).standard_normal((2, 3, 2, 2)).astype(np.float32), "w")
    model = _graph_with([helper.make_node("Conv", ["input", "w"], ["output"], name="conv", pads=[0, 0, 1, 1])],
                        [kernel], output_shape=IMAGE_OUT)
    path = tmp_path / "same.onnx"
    onnx.save(model, str(path))

    imported = import_onnx(path)

    assert imported.spec["nodes"][1]["padding"] == "same"
    x = random_inputs((3, 8, 8))
    np.testing.assert_allclose(engine_outputs(imported, x), runtime_outputs(path, x), atol=TOLERANCE, rtol=0)


@pytest.mark.parametrize(("node", "words"), [
    (dict(op_type="Conv", pads=[1, 0, 0, 1]), r"node c \(Conv\) has pads=\[1, 0, 0, 1\], different on opposite sides"),
    (dict(op_type="Conv", dilations=[2, 2]), r"node c \(Conv\) has dilations=\[2, 2\]"),
    (dict(op_type="MaxPool", kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
     r"node c \(MaxPool\) has ceil_mode=1 where it changes the output size"),
    (dict(op_type="LeakyRelu", alpha=0.01),
     r"node c \(LeakyRelu\) has alpha=0.01; LayerLab's leaky_relu has slope 0.2"),
    (dict(op_type="Softmax", axis=3), r"node c \(Softmax\) acts along axis 3"),
], ids=["pads", "dilations", "ceil_mode", "leaky-slope", "softmax-axis"])
def test_a_setting_a_layer_lacks_is_named_with_the_node(tmp_path, node, words):
    from onnx import helper, numpy_helper

    op = node.pop("op_type")
    kernel = numpy_helper.from_array(np.ones((2, 3, 3, 3), np.float32), "w")
    inputs = ["input", "w"] if op == "Conv" else ["input"]
    if op == "Conv":
        node.setdefault("kernel_shape", [3, 3])
    model = _graph_with([helper.make_node(op, inputs, ["output"], name="c", **node)],
                        [kernel] if op == "Conv" else [], output_shape=IMAGE_OUT)
    path = tmp_path / "setting.onnx"
    onnx.save(model, str(path))

    with pytest.raises(OnnxImportError, match=rf"setting\.onnx: {words}"):
        import_onnx(path)


@pytest.mark.parametrize(("shape", "accepted"), [((1, 2, 1, 1), True), ((2, 1, 1), True), ((1,), True),
                                                 ((2,), False), ((1, 1, 2, 1), False)],
                         ids=["1x2x1x1", "2x1x1", "scalar", "across-width", "across-height"])
def test_a_constant_added_to_a_convolution_is_its_bias_only_when_it_is_one_value_a_channel(tmp_path, shape, accepted):
    from onnx import helper, numpy_helper

    rng = np.random.default_rng(6)
    kernel = numpy_helper.from_array(rng.standard_normal((2, 3, 1, 1)).astype(np.float32), "w")
    constant = numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), "b")
    model = _graph_with([helper.make_node("Conv", ["input", "w"], ["z"], name="conv"),
                         helper.make_node("Add", ["z", "b"], ["output"], name="plus")],
                        [kernel, constant], input_shape=(None, 3, 2, 2), output_shape=IMAGE_OUT)
    path = tmp_path / "bias.onnx"
    onnx.save(model, str(path))

    if not accepted:  # two values a channel would be, but ONNX broadcasts them along the width or height
        with pytest.raises(OnnxImportError, match=r"bias\.onnx: node plus \(Add\) adds a constant of shape"):
            import_onnx(path)
        return
    imported = import_onnx(path)
    assert [node["type"] for node in imported.spec["nodes"]] == ["Input", "Conv2D"]
    x = random_inputs((3, 2, 2))
    np.testing.assert_allclose(engine_outputs(imported, x), runtime_outputs(path, x), atol=TOLERANCE, rtol=0)
