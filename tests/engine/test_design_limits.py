"""Designs too big or too odd for any computer are SpecErrors naming node and rule, before anything is
allocated (issue 19: F9 absurd sizes, F13 a slow rejection, hostile field values)."""

import time
import tracemalloc

import numpy as np
import pytest

import engine
from engine import design_limits
from tests.engine.specs import seed_cnn

GB = 10**9


@pytest.fixture
def memory(monkeypatch):
    """Pretend this computer has ``memory.set(n)`` bytes, so messages and limits are the same everywhere."""

    class Memory:
        def set(self, count):
            monkeypatch.setattr(design_limits, "memory_limit_bytes", lambda: count)

    return Memory()


def _refusal(spec, **kwargs) -> engine.SpecError:
    with pytest.raises(engine.SpecError) as caught:
        engine.infer_shapes(spec, **kwargs)
    return caught.value


def _image_net(*layers, shape=(1, 28, 28)):
    return {"nodes": [{"id": "input", "type": "Input", "shape": list(shape)}, *layers]}


# -- F9: memory ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec,node", [
    (_image_net({"id": "flat", "type": "Flatten"}, shape=(1, 2**20, 2**20)), "input"),  # 4.4 TB per example
    ({"nodes": [{"id": "input", "type": "Input", "shape": [784]},
                {"id": "fc", "type": "Dense", "units": 2**31 - 1}]}, "fc"),  # 6.7 TB of weights
    (_image_net({"id": "conv1", "type": "Conv2D", "filters": 2**31 - 1, "kernel_size": 3}), "conv1"),
])
def test_absurd_sizes_are_refused_by_shape_inference_naming_the_node(spec, node):
    error = _refusal(spec)
    assert error.node == node and error.rule == "memory"
    assert "this computer has" in str(error) and str(error).startswith(f"{node}: ")


def test_memory_messages_say_what_the_node_needs_and_what_the_computer_has(memory):
    memory.set(24 * GB)
    wide = _image_net({"id": "conv1", "type": "Conv2D", "filters": 32, "kernel_size": 3, "padding": "same"},
                      shape=(1, 40000, 40000))
    assert str(_refusal(wide)) == ("conv1: its output for one example (32x40000x40000) needs 204.8 GB; "
                                   "this computer has 24.0 GB")
    heavy = {"nodes": [{"id": "input", "type": "Input", "shape": [100000]},
                       {"id": "fc", "type": "Dense", "units": 100000}]}
    assert str(_refusal(heavy)) == "fc: its 10,000,100,000 parameters need 40.0 GB; this computer has 24.0 GB"


def test_the_whole_networks_parameters_and_gradients_must_fit(memory):
    memory.set(1 * GB)
    spec = {"nodes": [{"id": "input", "type": "Input", "shape": [10000]},
                      {"id": "a", "type": "Dense", "units": 10000},  # 400 MB each: every node fits alone
                      {"id": "b", "type": "Dense", "units": 5000}]}
    error = _refusal(spec)
    assert error.node == "a" and error.rule == "memory"  # the node with the most parameters
    assert "the network's 150,015,000 parameters and their gradients need 1.2 GB" in str(error)


def test_collecting_mode_lists_a_node_too_big_and_keeps_the_rest(memory):
    memory.set(1 * GB)
    spec = seed_cnn()
    spec["nodes"][6]["units"] = 10**6  # fc1: 3136 x 10^6 weights, 12.5 GB
    report = engine.infer_shapes(spec, collect_errors=True)
    assert [(e.node, e.rule) for e in report.errors] == [("fc1", "memory")]
    assert "flatten" in report and "fc1" not in report and "logits" not in report


def test_build_refuses_before_allocating_anything(memory):
    memory.set(50 * 10**6)  # 50 MB: a 20-million-weight layer (80 MB, 160 MB with gradients) cannot fit
    spec = {"nodes": [{"id": "input", "type": "Input", "shape": [2000]},
                      {"id": "fc", "type": "Dense", "units": 10000}]}
    tracemalloc.start()
    try:
        with pytest.raises(engine.SpecError) as caught:
            engine.build(spec)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.node == "fc" and caught.value.rule == "memory"
    assert peak < 5 * 10**6


def test_a_float64_network_is_checked_at_eight_bytes_a_value(memory):
    spec = {"nodes": [{"id": "input", "type": "Input", "shape": [1000]},
                      {"id": "fc", "type": "Dense", "units": 1000}]}  # 1,001,000 parameters
    memory.set(12 * 10**6)  # float32 with gradients: 8.0 MB; float64: 16.0 MB
    engine.build(spec, dtype="float32")
    with pytest.raises(engine.SpecError, match="fc: the network's 1,001,000 parameters and their gradients need 16.0"):
        engine.build(spec, dtype="float64")


def test_training_memory_problem_names_the_node_with_the_largest_activations(memory):
    report = engine.infer_shapes(seed_cnn())
    memory.set(8 * GB)
    assert engine.training_memory_problem(report, batch_size=128) is None
    problem = engine.training_memory_problem(report, batch_size=50000)
    # conv1's output is 32x28x28 floats a example, kept for backward and matched by its gradient
    assert problem.startswith("one training step at batch size 50,000 needs at least ")
    assert "the most at conv1 (10.0 GB)" in problem
    assert "this computer has 8.0 GB. Use a smaller batch size or a smaller design." in problem
    # the optimizer's state counts: Adam's two slots tip a design that plain SGD fits
    memory.set(2 * GB)
    big = seed_cnn()
    big["nodes"][6]["units"] = 50000  # fc1: 157 million weights, 627 MB
    report = engine.infer_shapes(big)
    assert engine.training_memory_problem(report, batch_size=1, optimizer_slots=0) is None
    assert "weights, gradients and optimizer state 2.5 GB" in engine.training_memory_problem(report, batch_size=1)


def test_a_containers_memory_limit_is_the_limit(tmp_path, monkeypatch):
    limit = tmp_path / "memory.max"
    limit.write_text("2000000000\n")
    monkeypatch.setattr(design_limits, "CGROUP_LIMIT_FILES", (str(tmp_path / "absent"), str(limit)))
    assert design_limits.memory_limit_bytes() <= 2_000_000_000
    limit.write_text("max\n")  # cgroup v2's "no limit"
    assert design_limits.memory_limit_bytes() > 2_000_000_000 or design_limits._physical_memory_bytes() <= 2 * 10**9


def test_the_memory_of_this_computer_is_found():
    assert design_limits.memory_limit_bytes() >= 10**8
    assert design_limits.format_bytes(204_900_000_000) == "204.9 GB"
    assert design_limits.format_bytes(512) == "512 B"


# -- F9: sizes absurd whatever the memory -----------------------------------------------------------------------

@pytest.mark.parametrize("layer,message", [
    ({"type": "MaxPooling2D", "strides": 2**31}, "strides must be at most 2,147,483,647; received strides=2147483648"),
    ({"type": "MaxPooling2D", "padding": 2**31}, "padding must be at most 2,147,483,647"),
    ({"type": "MaxPooling2D", "pool_size": 2, "strides": 2**31 - 1},
     "strides 2147483647x2147483647 step past the whole 28x28 (padded) input and the pool 2x2"),
    ({"type": "AveragePooling2D", "pool_size": 2, "padding": 1000}, "padding 1000x1000 is larger than the 28x28 input"),
    ({"type": "AveragePooling2D", "pool_size": 2, "padding": 2},
     "padding 2x2 is not smaller than the pool 2x2: some outputs would see nothing but padding"),
    ({"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": 20000},
     "padding 20000x20000 is larger than the 28x28 input it pads"),
    ({"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": [1, 3]},
     "padding 1x3 is not smaller than the kernel 3x3"),
    ({"type": "Conv2D", "filters": 4, "kernel_size": 3, "strides": [1, 40]}, "strides 1x40 step past the whole 28x28"),
])
def test_window_sizes_beyond_any_input_are_refused(layer, message):
    error = _refusal(_image_net({"id": "win", **layer}))
    assert error.node == "win" and message in str(error)


@pytest.mark.parametrize("layer,shape,output", [
    ({"type": "Conv2D", "filters": 2, "kernel_size": 3, "padding": 2}, (1, 5, 5), (2, 7, 7)),  # "full": kernel - 1
    ({"type": "MaxPooling2D", "pool_size": 2, "strides": 2, "padding": "same"}, (3, 1, 1), (3, 1, 1)),
    ({"type": "MaxPooling2D", "pool_size": 3, "strides": 2, "padding": 1}, (3, 1, 1), (3, 1, 1)),
    ({"type": "Conv2D", "filters": 2, "kernel_size": 1, "strides": 3}, (1, 7, 7), (2, 3, 3)),  # stride past kernel
])
def test_the_designs_people_make_still_pass(layer, shape, output):
    assert engine.infer_shapes(_image_net({"id": "win", **layer}, shape=shape))["win"].output_shape == output


def test_every_bundled_example_passes():
    import json
    from pathlib import Path

    for path in sorted(Path("resources/examples").glob("*.json")):
        engine.infer_shapes(json.loads(path.read_text()))


# -- hostile values: every one a SpecError naming node and field ---------------------------------------------

HUGE = 10**29  # the largest integer engine.user_files.parse_json lets through has 30 digits
INT_VALUES = [True, HUGE, 10**400, -1, 2.5, "3", None, [1, 2, 3], {"a": 1}, float("nan")]
NUMBER_VALUES = [True, HUGE, 10**400, -1, "0.5", None, [0.5], {"a": 1}, float("inf"), float("nan")]
BOOL_VALUES = [1, 0, "true", None, [True]]
INITIALIZERS = [5, ["he_normal"], {"name": 5}, {"name": "constant", "value": "1"},
                {"name": "constant", "value": 10**400}, {"name": "constant", "value": True},
                {"name": "constant", "value": 1e308}, {"name": "random_normal", "stddev": -1},
                {"name": "random_uniform", "minval": -1e300, "maxval": 1e300}, {"name": "he_normal", "scale": 3},
                {"name": "x" * 100000}]
BASE = {
    "Dense": {"units": 4},
    "Conv2D": {"filters": 2, "kernel_size": 3},
    "MaxPooling2D": {},
    "Dropout": {"rate": 0.5},
    "BatchNormalization": {},
    "Activation": {"activation": "relu"},
}
CASES = (
    [(t, f, v) for t, f in [("Dense", "units"), ("Conv2D", "filters"), ("Conv2D", "kernel_size"),
                            ("Conv2D", "strides"), ("Conv2D", "padding"), ("MaxPooling2D", "pool_size"),
                            ("MaxPooling2D", "strides"), ("MaxPooling2D", "padding")] for v in INT_VALUES
     if not (v is None and f == "strides" and t == "MaxPooling2D")]
    + [(t, f, v) for t, f in [("Dropout", "rate"), ("BatchNormalization", "momentum"),
                              ("BatchNormalization", "epsilon")] for v in NUMBER_VALUES]
    + [(t, f, v) for t, f in [("Dense", "use_bias"), ("Conv2D", "use_bias"), ("BatchNormalization", "center")]
       for v in BOOL_VALUES]
    + [(t, "activation", v) for t in ("Dense", "Conv2D", "Activation") for v in [5, ["relu"], {"a": 1}, "x" * 100000]]
    + [(t, f, v) for t in ("Dense", "Conv2D") for f in ("kernel_initializer", "bias_initializer") for v in INITIALIZERS]
)
FORBIDDEN = ("Error", "Traceback", "Exceeds the limit")


def _with_node(layer_type, field, value):
    node = {"id": "culprit", "type": layer_type, **BASE[layer_type], field: value}
    if layer_type == "Dense":
        return {"nodes": [{"id": "input", "type": "Input", "shape": [8]}, node]}
    return _image_net(node, shape=(2, 8, 8))


@pytest.mark.parametrize("layer_type,field,value", CASES, ids=lambda v: repr(v)[:24])
def test_a_hostile_value_is_a_spec_error_naming_node_and_field(layer_type, field, value):
    for collect in (False, True):
        spec = _with_node(layer_type, field, value)
        if collect:
            errors = engine.infer_shapes(spec, collect_errors=True).errors
            assert len(errors) == 1
            error = errors[0]
        else:
            error = _refusal(spec)
        message = str(error)
        assert error.node == "culprit" and message.startswith("culprit: ")
        assert field in message or (field == "activation" and "activation" in message)
        assert not any(word in message for word in FORBIDDEN), message
        assert len(message) < 400


@pytest.mark.parametrize("shape", [[True], [HUGE], [10**400], [-1], [2.5], ["3"], [1, 2], "784", 784, [[1]], None,
                                   [2**31], [1, 28, 2**31]])
def test_a_hostile_input_shape_is_a_spec_error(shape):
    error = _refusal({"nodes": [{"id": "input", "type": "Input", "shape": shape}]})
    assert error.node == "input" and "shape must be" in str(error)
    assert "Exceeds the limit" not in str(error)


@pytest.mark.parametrize("axis", [True, 0, 10**400, 1.0, "1", None], ids=lambda v: repr(v)[:12])
def test_a_hostile_concatenate_axis_is_a_spec_error(axis):
    spec = {"nodes": [{"id": "input", "type": "Input", "shape": [4]}, {"id": "a", "type": "Dense", "units": 2},
                      {"id": "join", "type": "Concatenate", "axis": axis}],
            "edges": [["input", "a"], ["input", "join"], ["a", "join"]]}
    error = _refusal(spec)
    assert error.node == "join" and "axis must be" in str(error)


def test_a_huge_unknown_field_name_is_cut_short():
    error = _refusal(_image_net({"id": "pool", "type": "MaxPooling2D", "x" * 100000: 1}))
    assert error.node == "pool" and "unknown field 'xxx" in str(error) and len(str(error)) < 300


# -- F13: big specs are quick -----------------------------------------------------------------------------------

def _chain(count):
    nodes = [{"id": "input", "type": "Input", "shape": [4]}]
    nodes += [{"id": f"d{i}", "type": "Dense", "units": 4} for i in range(count)]
    ids = [node["id"] for node in nodes]
    return nodes, [[a, b] for a, b in zip(ids, ids[1:], strict=False)]


@pytest.mark.parametrize("collect", [False, True])
def test_a_cycle_in_twenty_thousand_nodes_is_refused_within_a_second(collect):
    nodes, edges = _chain(20000)  # measured before: 18-19 s; after: 0.08-0.1 s
    nodes += [{"id": "x", "type": "Dense", "units": 4}, {"id": "y", "type": "Dense", "units": 4}]
    spec = {"nodes": nodes, "edges": edges + [["x", "y"], ["y", "x"]]}
    started = time.perf_counter()
    error = _refusal(spec, collect_errors=collect)
    assert time.perf_counter() - started < 1.0
    assert error.node == "x" and str(error) == "x: the connections form a cycle through x, y"


def test_a_cycle_with_many_nodes_after_it_names_ten():
    nodes, edges = _chain(50)
    spec = {"nodes": nodes, "edges": edges + [["d10", "d5"]]}
    message = str(_refusal(spec))
    assert message.startswith("d5: the connections form a cycle through d5, d6, d7") and "and 35 more" in message


def test_a_valid_twenty_thousand_node_chain_is_inferred_quickly():
    nodes, edges = _chain(20000)  # measured before: 2.3 s idle, 5.7 s profiled; after: 0.4 s idle, 0.7 s loaded
    started = time.perf_counter()
    report = engine.infer_shapes({"nodes": nodes, "edges": edges})
    assert time.perf_counter() - started < 3.0  # a guard with room for a busy machine
    assert len(report) == 20001 and report.output_shape == (4,)
    np.testing.assert_equal(report.total_params, 20000 * 20)


def test_a_trainer_refuses_a_step_that_cannot_fit_before_its_first_batch(memory):
    network = engine.build(seed_cnn(), seed=0)
    images = np.zeros((8, 1, 28, 28), np.float32)
    data = engine.training.TrainingData(images, np.zeros(8, np.int64))
    memory.set(200 * 10**6)  # the seed CNN's weights fit; a batch of 4,096 images' activations do not
    config = engine.training.TrainingConfig(batch_size=4096, optimizer={"name": "adam"})
    with pytest.raises(ValueError, match=r"batch size 4,096 needs at least .* the most at conv1"):
        engine.training.Trainer(network, data, config)
    config = engine.training.TrainingConfig(batch_size=8, optimizer={"name": "adam"})
    assert engine.training.Trainer(network, data, config).optimizer is not None


def test_an_optimizer_says_how_many_values_it_keeps_per_weight():
    slots = {name: engine.optimizers.state_slots(name) for name in ("sgd", "momentum", "adagrad", "adam")}
    assert slots == {"sgd": 0, "momentum": 1, "adagrad": 1, "adam": 2}
    assert engine.optimizers.state_slots({"name": "rmsprop", "momentum": 0.9, "centered": True}) == 3
