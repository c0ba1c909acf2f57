"""The spec contract: shape inference without weights, and SpecErrors that name node, rule and value."""

import copy

import pytest

import engine
from tests.engine.specs import seed_cnn, sequence_and_decoder_layers, small_cnn_with_everything


def test_seed_cnn_shapes_params_memory_and_flops():
    info = engine.infer_shapes(seed_cnn())
    assert list(info) == ["input", "conv1", "pool1", "conv2", "pool2", "flatten", "fc1", "dropout", "logits"]
    assert info["conv1"].output_shape == (32, 28, 28)
    assert info["pool1"].output_shape == (32, 14, 14)
    assert info["conv2"].output_shape == (64, 14, 14)
    assert info["pool2"].output_shape == (64, 7, 7)
    assert info["flatten"].output_shape == (3136,)
    assert info["logits"].output_shape == (10,)
    # The classic tutorial's count: 832 + 51,264 + 3,212,288 + 10,250.
    assert [info[n].params for n in ("conv1", "conv2", "fc1", "logits")] == [832, 51264, 3212288, 10250]
    assert info.total_params == 3274634
    assert info["conv1"].activation_bytes == 32 * 28 * 28 * 4
    assert info["conv2"].flops == (2 * 32 * 25 + 1) * 64 * 14 * 14
    assert info["fc1"].flops == 2 * 3136 * 1024 + 1024


def test_infer_shapes_allocates_no_weights(monkeypatch):
    import engine.parameter

    def refuse(*args, **kwargs):
        raise AssertionError("shape inference must not allocate parameters")

    monkeypatch.setattr(engine.parameter.ParameterStore, "__init__", refuse)
    # on a computer of any size: 12.5 GB of weights must not be refused for memory here (test_design_limits)
    monkeypatch.setattr(engine.design_limits, "memory_limit_bytes", lambda: 10**15)
    big = seed_cnn()
    big["nodes"][6]["units"] = 10**6  # a 3-billion-weight layer is only arithmetic here
    assert engine.infer_shapes(big)["fc1"].params == 3136 * 10**6 + 10**6


def test_edges_default_to_a_chain_in_node_order():
    spec = seed_cnn()
    explicit = copy.deepcopy(spec)
    ids = [n["id"] for n in spec["nodes"]]
    explicit["edges"] = [[a, b] for a, b in zip(ids, ids[1:], strict=False)]
    assert engine.infer_shapes(spec).nodes == engine.infer_shapes(explicit).nodes


def test_dag_with_every_layer_type():
    info = engine.infer_shapes(small_cnn_with_everything())
    assert info["join"].output_shape == (8, 8, 8)
    assert info["avg"].output_shape == (8, 4, 4)
    assert info["logits"].output_shape == (3,)
    sequences = engine.infer_shapes(sequence_and_decoder_layers())
    assert sequences["deconv"].output_shape == (2, 24, 24)
    assert sequences["rows"].output_shape == (24, 48)
    assert sequences["gru"].output_shape == (24, 4)
    assert sequences["lstm"].output_shape == (3,)
    used = {n.type for n in info.values()} | {n.type for n in sequences.values()}
    assert used == {t.type for t in engine.layer_types()}


@pytest.mark.parametrize("padding,strides,expected", [
    ("valid", 1, (4, 24, 24)), ("same", 1, (4, 28, 28)), ("same", 2, (4, 14, 14)), ("same", 3, (4, 10, 10)),
    ("valid", 2, (4, 12, 12)), (2, 1, (4, 28, 28)), ([1, 2], 2, (4, 13, 14)),
])
def test_conv_output_size_rules(padding, strides, expected):
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [1, 28, 28]},
                      {"id": "c", "type": "Conv2D", "filters": 4, "kernel_size": 5, "strides": strides,
                       "padding": padding}]}
    assert engine.infer_shapes(spec)["c"].output_shape == expected


def _error(spec) -> engine.SpecError:
    with pytest.raises(engine.SpecError) as caught:
        engine.infer_shapes(spec)
    return caught.value


def test_kernel_that_does_not_fit_names_node_rule_and_sizes():
    spec = {"nodes": [{"id": "input", "type": "Input", "shape": [1, 3, 3]},
                      {"id": "conv2", "type": "Conv2D", "filters": 2, "kernel_size": 5}]}
    error = _error(spec)
    assert str(error) == "conv2: kernel 5x5 does not fit a 3x3 input with padding 'valid'"
    assert error.node == "conv2"


def test_structural_errors():
    spec = seed_cnn()
    spec["edges"] = [["input", "conv1"], ["conv1", "pool1"], ["pool1", "conv1"]]
    assert "cycle" in str(_error(spec))

    spec = seed_cnn()
    spec["edges"] = [["input", "conv1"], ["conv1", "ghost"]]
    assert "'ghost'" in str(_error(spec))

    spec = seed_cnn()
    spec["nodes"][3]["type"] = "Conv3D"
    error = _error(spec)
    assert error.node == "conv2" and "unknown layer type 'Conv3D'" in str(error)

    for wrong in (["Conv2D"], {"name": "Conv2D"}, None):  # a type that is no name (issue 19, F1)
        spec = seed_cnn()
        spec["nodes"][3]["type"] = wrong
        error = _error(spec)
        assert error.node == "conv2" and "'type' must be a layer type's name" in str(error)

    spec = seed_cnn()
    spec["nodes"][1]["filtres"] = 3
    error = _error(spec)
    assert error.node == "conv1" and "unknown field 'filtres'" in str(error)

    spec = seed_cnn()
    del spec["nodes"][1]["filters"]
    assert "needs the field 'filters'" in str(_error(spec))

    spec = seed_cnn()
    spec["nodes"][1]["filters"] = 0
    assert "filters must be an integer >= 1; received filters=0" in str(_error(spec))

    spec = seed_cnn()
    spec["nodes"][1]["activation"] = "relu6"
    assert "unknown activation 'relu6'" in str(_error(spec))

    spec = seed_cnn()
    spec["nodes"][7]["rate"] = 1.5
    assert "rate must be a number in [0.0, 1.0)" in str(_error(spec))


def test_missing_inputs_and_mismatched_merges():
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [4]}, {"id": "a", "type": "Dense", "units": 3},
                      {"id": "b", "type": "Dense", "units": 5}, {"id": "sum", "type": "Add"}],
            "edges": [["in", "a"], ["in", "b"], ["a", "sum"], ["b", "sum"]]}
    error = _error(spec)
    assert error.node == "sum" and "Add needs inputs of one shape; received 3, 5" in str(error)

    spec["edges"] = [["in", "a"], ["a", "sum"]]
    assert _error(spec).node == "b"  # b has no input
    spec["nodes"][2] = {"id": "b", "type": "Dense", "units": 3}
    spec["edges"] = [["in", "a"], ["a", "sum"], ["in", "b"]]
    assert "needs at least 2 inputs; received 1" in str(_error(spec))

    flat_needed = {"nodes": [{"id": "in", "type": "Input", "shape": [1, 28, 28]}, {"id": "fc", "type": "Dense",
                                                                                   "units": 3}]}
    assert "add a Flatten layer before it" in str(_error(flat_needed))


def test_format_and_version_are_checked():
    spec = seed_cnn()
    spec["version"] = 99
    assert "newer LayerLab" in str(_error(spec))
    spec = seed_cnn()
    spec["format"] = "keras"
    assert "format must be 'layerlab-network'" in str(_error(spec))
    assert "JSON object" in str(_error([1, 2]))
    assert "non-empty list 'nodes'" in str(_error({"nodes": []}))


def test_collecting_mode_reports_every_problem_and_keeps_valid_nodes():
    spec = seed_cnn()
    spec["nodes"][3]["kernel_size"] = 40  # conv2 fails; everything after it is unknown
    spec["nodes"][3]["padding"] = "valid"
    report = engine.infer_shapes(spec, collect_errors=True)
    assert not report.valid
    assert [e.node for e in report.errors] == ["conv2"]
    assert "pool1" in report and "conv2" not in report and "logits" not in report


def test_build_refuses_invalid_specs_with_the_same_error():
    spec = seed_cnn()
    spec["nodes"][3]["kernel_size"] = 40
    spec["nodes"][3]["padding"] = "valid"
    with pytest.raises(engine.SpecError, match="conv2: kernel 40x40 does not fit a 14x14 input"):
        engine.build(spec)


def test_network_spec_round_trips_with_defaults_filled_in():
    net = engine.build(seed_cnn())
    spec = net.spec
    assert spec["nodes"][2]["pool_size"] == 2 and spec["nodes"][1]["use_bias"] is True
    assert engine.infer_shapes(spec).nodes == engine.infer_shapes(seed_cnn()).nodes
    assert len(spec["edges"]) == 8


def test_a_description_survives_the_round_trip_through_a_network():
    spec = seed_cnn()
    spec["description"] = "The classic tutorial CNN."
    assert engine.build(spec).spec["description"] == "The classic tutorial CNN."
