"""ONNX files holding RNN, LSTM, GRU, Resize and ConvTranspose (from torch.onnx.export and written by hand)
come in as LayerLab's SimpleRNN, LSTM, GRU, UpSampling2D and Conv2DTranspose with onnxruntime's outputs;
settings those layers do not have are refused in words naming the node and the attribute."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
torch = pytest.importorskip("torch")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402  (after the skips)

from engine.export.onnx_import import OnnxImportError, import_onnx  # noqa: E402
from tests.engine.export.onnx_helpers import engine_outputs, export_torch, runtime_outputs  # noqa: E402

nn = torch.nn
TOLERANCE = 1e-5
STEPS, FEATURES, UNITS = 7, 5, 4
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning",  # torch's exporter
                                       "ignore:Converting a tensor to a Python boolean")


class Recurrent(nn.Module):
    """nn.RNN/LSTM/GRU (batch_first, as people write them), then either h_n[-1] into a Linear or every step."""

    def __init__(self, kind, read):
        super().__init__()
        torch.manual_seed(1)
        self.rnn = kind(FEATURES, UNITS, batch_first=True)
        self.fc = nn.Linear(UNITS, 3)
        self.read = read

    def forward(self, x):
        every_step, state = self.rnn(x)
        last = state[0] if isinstance(state, tuple) else state
        return self.fc(last[-1]) if self.read == "last" else every_step


@pytest.mark.parametrize("read", ["last", "every-step"])
@pytest.mark.parametrize("kind", [nn.RNN, nn.LSTM, nn.GRU], ids=["RNN", "LSTM", "GRU"])
def test_torch_recurrent_models_come_in_with_onnxruntimes_outputs(kind, read, tmp_path):
    path = export_torch(Recurrent(kind, read), tmp_path / "rnn.onnx", (STEPS, FEATURES))

    imported = import_onnx(path)

    layer_type = {nn.RNN: "SimpleRNN", nn.LSTM: "LSTM", nn.GRU: "GRU"}[kind]
    types = [node["type"] for node in imported.spec["nodes"]]
    assert types == ["Input", "Reshape", layer_type] + (["Dense"] if read == "last" else [])
    recurrent = imported.spec["nodes"][2]
    assert recurrent["units"] == UNITS and recurrent["return_sequences"] == (read == "every-step")
    # a sequence input comes in as a 1 x steps x features image, reshaped: MNIST's rows read as they are
    assert imported.spec["nodes"][0]["shape"] == [1, STEPS, FEATURES]
    assert any("7 steps x 5 features" in note for note in imported.notes)
    x = np.random.default_rng(2).standard_normal((6, STEPS, FEATURES)).astype(np.float32)
    np.testing.assert_allclose(engine_outputs(imported, x[:, None]), runtime_outputs(path, x), atol=TOLERANCE,
                               rtol=0)


class Decoder(nn.Module):
    """nn.Upsample (nearest), ConvTranspose2d with a kernel equal to its stride and one 'valid' one, a sigmoid."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(3)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.deconv1 = nn.ConvTranspose2d(2, 3, 2, stride=2)
        self.deconv2 = nn.ConvTranspose2d(3, 1, 3, stride=2, bias=False)

    def forward(self, x):
        return torch.sigmoid(self.deconv2(torch.relu(self.deconv1(self.up(x)))))


def test_a_torch_decoder_comes_in_as_upsampling_and_transposed_convolutions(tmp_path):
    path = export_torch(Decoder(), tmp_path / "decoder.onnx", (2, 3, 4))

    imported = import_onnx(path)

    nodes = imported.spec["nodes"]
    assert [node["type"] for node in nodes] == ["Input", "UpSampling2D", "Conv2DTranspose", "Conv2DTranspose"]
    assert nodes[1]["size"] == 2 and nodes[2]["activation"] == "relu" and nodes[3]["activation"] == "sigmoid"
    assert nodes[3]["padding"] == "valid" and nodes[3]["use_bias"] is False
    x = np.random.default_rng(4).standard_normal((5, 2, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(engine_outputs(imported, x), runtime_outputs(path, x), atol=TOLERANCE, rtol=0)


# -- hand-written graphs --------------------------------------------------------------------------------------

# the outputs' ranks, for symbolic shapes (the checker infers the sizes)
RANKS = {"output": 4, "squeezed": 2, "every": 4, "last": 3, "cell": 3}


def save_model(path, nodes, initializers, input_shape, outputs=("output",)):
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", *input_shape])],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, [f"d{i}" for i in range(RANKS.get(name, 4))])
         for name in outputs], list(initializers))
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def resize_model(path, scales, **attributes):
    scales = numpy_helper.from_array(np.array(scales, np.float32), "scales")
    node = helper.make_node("Resize", ["input", "", "scales"], ["output"], name="up1", **attributes)
    return save_model(path, [node], [scales], (2, 3, 4))


@pytest.mark.parametrize(("scales", "attributes"), [
    ([1, 1, 2, 2], {"mode": "nearest"}),  # ONNX's defaults: half_pixel, round_prefer_floor
    ([1, 1, 3, 3], {"mode": "nearest", "coordinate_transformation_mode": "pytorch_half_pixel",
                    "nearest_mode": "round_prefer_ceil"}),
    ([1, 1, 3, 2], {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}),
], ids=["defaults", "pytorch-half-pixel", "asymmetric-floor"])
def test_a_nearest_resize_that_repeats_pixels_is_an_upsampling(tmp_path, scales, attributes):
    path = resize_model(tmp_path / "up.onnx", scales, **attributes)

    imported = import_onnx(path)

    (layer,) = imported.spec["nodes"][1:]
    assert layer["type"] == "UpSampling2D" and layer["size"] in (scales[2], scales[2:])
    x = np.random.default_rng(5).standard_normal((3, 2, 3, 4)).astype(np.float32)
    np.testing.assert_array_equal(engine_outputs(imported, x), runtime_outputs(path, x))


@pytest.mark.parametrize(("scales", "attributes", "words"), [
    ([1, 1, 2, 2], {"mode": "linear"}, "has mode=linear; LayerLab's UpSampling2D repeats pixels"),
    ([1, 1, 1.5, 1.5], {"mode": "nearest"}, "scales height and width by 1.5 x 1.5"),
    ([1, 1, 3, 3], {"mode": "nearest", "coordinate_transformation_mode": "asymmetric"},
     "has coordinate_transformation_mode=asymmetric with nearest_mode=round_prefer_floor, which does not repeat"),
    ([1, 1, 3, 3], {"mode": "nearest", "coordinate_transformation_mode": "align_corners"},
     "has coordinate_transformation_mode=align_corners"),
], ids=["linear", "fractional", "asymmetric-rounded", "align-corners"])
def test_a_resize_that_is_not_a_pixel_repeat_is_refused_naming_the_attribute(tmp_path, scales, attributes, words):
    path = resize_model(tmp_path / "up.onnx", scales, **attributes)
    with pytest.raises(OnnxImportError, match=rf"up\.onnx: node up1 \(Resize\) {words}"):
        import_onnx(path)


def transpose_model(path, kernel_shape=(2, 3, 3, 3), **attributes):
    kernel = numpy_helper.from_array(np.random.default_rng(6).standard_normal(kernel_shape).astype(np.float32), "w")
    node = helper.make_node("ConvTranspose", ["input", "w"], ["output"], name="deconv", **attributes)
    return save_model(path, [node], [kernel], (2, 4, 5))


def test_a_convtranspose_cropped_as_tensorflows_same_comes_in_as_same(tmp_path):
    # k 3, s 2: 'same' crops max(3 - 2, 0) = 1 row, 0 at the top, 1 at the bottom
    path = transpose_model(tmp_path / "same.onnx", strides=[2, 2], pads=[0, 0, 1, 1])

    imported = import_onnx(path)

    assert imported.spec["nodes"][1]["padding"] == "same"
    x = np.random.default_rng(7).standard_normal((3, 2, 4, 5)).astype(np.float32)
    outputs = engine_outputs(imported, x)
    assert outputs.shape == (3, 3, 8, 10)
    np.testing.assert_allclose(outputs, runtime_outputs(path, x), atol=TOLERANCE, rtol=0)


@pytest.mark.parametrize(("attributes", "words"), [
    ({"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]},  # torch's usual "same-looking" one
     r"has pads=\[1, 1, 1, 1\] and output_padding=\[1, 1\]; LayerLab's Conv2DTranspose crops as 'valid'"),
    ({"group": 2}, "has group=2"),
    ({"strides": [2, 2], "output_shape": [8, 10]}, r"has output_shape=\[8, 10\]"),
    ({"dilations": [2, 2]}, r"has dilations=\[2, 2\]"),
], ids=["torch-padding", "group", "output-shape", "dilations"])
def test_a_convtranspose_setting_the_layer_lacks_is_refused(tmp_path, attributes, words):
    kernel_shape = (2, 1, 3, 3) if attributes.get("group") == 2 else (2, 3, 3, 3)
    path = transpose_model(tmp_path / "deconv.onnx", kernel_shape, **attributes)
    with pytest.raises(OnnxImportError, match=rf"deconv\.onnx: node deconv \(ConvTranspose\) {words}"):
        import_onnx(path)


GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


def recurrent_model(path, op, attributes=None, extra_inputs=None, outputs=("last",), directions=1, layout=None):
    """input (batch, 7, 5) -> Transpose -> ``op`` (4 units) -> its ``outputs`` as the graph's outputs; with
    ``layout`` (0 or 1) the last state alone, squeezed to (batch, units) (and no Transpose for layout 1)."""
    rng = np.random.default_rng(8)
    gates = GATES[op]
    weights = {"W": rng.standard_normal((directions, gates * UNITS, FEATURES)),
               "R": rng.standard_normal((directions, gates * UNITS, UNITS)),
               "B": rng.standard_normal((directions, 2 * gates * UNITS)), **(extra_inputs or {})}
    initializers = [numpy_helper.from_array(np.asarray(v, np.int32 if k == "lens" else np.float32), k)
                    for k, v in weights.items()]
    inputs = ["input" if layout == 1 else "steps_first"] + [name if name in weights else "" for name in
                                                            ("W", "R", "B", "lens", "h0", "c0", "P")]
    node_outputs = [name if name in outputs else "" for name in ("every", "last", "cell")]
    while inputs[-1] == "":
        inputs.pop()
    while node_outputs[-1] == "":
        node_outputs.pop()
    settings = {**(attributes or {}), **({"layout": 1} if layout == 1 else {})}
    nodes = [] if layout == 1 else [helper.make_node("Transpose", ["input"], ["steps_first"], name="tr",
                                                     perm=[1, 0, 2])]
    nodes.append(helper.make_node(op, inputs, node_outputs, name="rec_1", hidden_size=UNITS, **settings))
    graph_outputs = [o for o in node_outputs if o]
    if layout is not None:  # Y_h: (1, batch, units) with layout 0, (batch, 1, units) with layout 1
        initializers.append(numpy_helper.from_array(np.array([layout], np.int64), "direction_axis"))
        nodes.append(helper.make_node("Squeeze", ["last", "direction_axis"], ["output"], name="squeeze"))
        graph_outputs = ["squeezed"]
        nodes[-1].output[0] = "squeezed"
    return save_model(path, nodes, initializers, (STEPS, FEATURES), outputs=graph_outputs)


@pytest.mark.parametrize(("op", "attributes", "extra", "outputs", "words"), [
    ("LSTM", {"direction": "bidirectional"}, {}, ("last",),
     "has direction=bidirectional; LayerLab's LSTM reads the steps forward only"),
    ("GRU", {"direction": "reverse", "linear_before_reset": 1}, {}, ("last",), "has direction=reverse"),
    ("LSTM", {"clip": 5.0}, {}, ("last",), "has clip=5; LayerLab's LSTM does not clip"),
    ("LSTM", {"activations": ["Sigmoid", "Tanh", "Relu"]}, {}, ("last",),
     r"has activations=\['Sigmoid', 'Tanh', 'Relu'\]; LayerLab's LSTM uses"),
    ("RNN", {"activations": ["Softsign"]}, {}, ("last",), r"has activations=\['Softsign'\]; LayerLab's SimpleRNN"),
    ("LSTM", {"input_forget": 1}, {}, ("last",), "has input_forget=1"),
    ("LSTM", {}, {"P": np.ones((1, 3 * UNITS))}, ("last",), r"has peepholes \(input P\)"),
    ("LSTM", {}, {"h0": np.ones((1, 1, UNITS))}, ("last",),
     r"has an initial state \(initial_h\) that is not zeros; LayerLab's LSTM starts from zeros"),
    ("GRU", {"linear_before_reset": 1}, {"lens": np.full(1, STEPS)}, ("last",), "has sequence_lens"),
    ("GRU", {}, {}, ("last",), "has linear_before_reset=0"),
    ("LSTM", {}, {}, ("last", "cell"), r"reads its cell state \(Y_c\)"),
    ("RNN", {}, {}, ("every", "last"), r"reads both every step \(Y\) and the last state \(Y_h\)"),
], ids=["bidirectional", "reverse", "clip", "activations", "rnn-activation", "input-forget", "peepholes",
        "initial-state", "sequence-lens", "reset-before", "cell-state", "both-outputs"])
def test_a_recurrent_setting_the_layers_lack_is_refused_naming_the_node_and_attribute(
        tmp_path, op, attributes, extra, outputs, words):
    directions = 2 if attributes.get("direction") == "bidirectional" else 1
    path = recurrent_model(tmp_path / "rec.onnx", op, attributes, extra, outputs, directions)
    with pytest.raises(OnnxImportError, match=rf"rec\.onnx: node rec_1 \({op}\) {words}"):
        import_onnx(path)


def test_an_initial_state_of_zeros_is_the_layers_own(tmp_path):
    zeros = {"h0": np.zeros((1, 1, UNITS)), "c0": np.zeros((1, 1, UNITS))}
    path = recurrent_model(tmp_path / "rec.onnx", "LSTM", {}, zeros, layout=0)

    imported = import_onnx(path)

    assert [node["type"] for node in imported.spec["nodes"]] == ["Input", "Reshape", "LSTM"]
    x = np.random.default_rng(9).standard_normal((1, STEPS, FEATURES)).astype(np.float32)  # the states' batch: 1
    np.testing.assert_allclose(engine_outputs(imported, x[:, None]), runtime_outputs(path, x), atol=TOLERANCE,
                               rtol=0)


@pytest.mark.parametrize("op", ["RNN", "LSTM", "GRU"])
def test_layout_1_reads_the_batch_first_with_the_same_numbers(tmp_path, op):
    """onnxruntime runs layout 0 only: the same weights with layout=1 (the batch first, no Transpose) must
    come in as the same layer, checked against onnxruntime's run of the layout-0 file."""
    attributes = {"linear_before_reset": 1} if op == "GRU" else {}
    layout0 = recurrent_model(tmp_path / "l0.onnx", op, attributes, layout=0)
    layout1 = recurrent_model(tmp_path / "l1.onnx", op, attributes, layout=1)

    imported = import_onnx(layout1)

    x = np.random.default_rng(9).standard_normal((4, STEPS, FEATURES)).astype(np.float32)
    np.testing.assert_allclose(engine_outputs(imported, x[:, None]), runtime_outputs(layout0, x), atol=TOLERANCE,
                               rtol=0)
    assert import_onnx(layout0).weights.keys() == imported.weights.keys()


def test_a_transpose_left_in_place_is_refused_at_the_layer_reading_it_and_one_undone_disappears(tmp_path):
    to_channels_last = helper.make_node("Transpose", ["input"], ["nhwc"], name="t1", perm=[0, 2, 3, 1])
    left = save_model(tmp_path / "nhwc.onnx", [to_channels_last,
                                               helper.make_node("Relu", ["nhwc"], ["output"], name="act")], [],
                      (2, 3, 4))
    with pytest.raises(OnnxImportError, match=r"nhwc\.onnx: node act \(Relu\) its input has its axes in another "
                                              r"order than the batch first"):
        import_onnx(left)

    undone = save_model(tmp_path / "back.onnx", [
        to_channels_last, helper.make_node("Transpose", ["nhwc"], ["nchw"], name="t2", perm=[0, 3, 1, 2]),
        helper.make_node("Relu", ["nchw"], ["output"], name="act")], [], (2, 3, 4))
    imported = import_onnx(undone)
    assert [node["type"] for node in imported.spec["nodes"]] == ["Input", "Activation"]
    x = np.random.default_rng(10).standard_normal((3, 2, 3, 4)).astype(np.float32)
    np.testing.assert_array_equal(engine_outputs(imported, x), runtime_outputs(undone, x))
