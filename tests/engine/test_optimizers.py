"""Optimizers against two oracles (torch.optim when installed, and textbook NumPy rules written here),
the flat path against the per-parameter path, clipping, learning-rate control and exact resume."""

import json

import numpy as np
import pytest

from engine import optimizers
from engine.backend import array_module
from engine.backend import to_host as to_numpy
from engine.optimizers import layout
from engine.parameter import Parameter, ParameterStore, flat_buffers

# (shape, regularize): kernels decay, biases don't, interleaved so weight decay must follow the flags.
SHAPES = [((5, 4), True), ((4,), False), ((3, 2, 2, 2), True), ((3,), False)]
TRANSPOSED = {0}  # the (5, 4) kernel is stored transposed in the flat store, as a Dense kernel is
STEPS = 5

# (our name, our arguments, torch class, torch arguments). Weight decay reaches regularised params only.
CASES = [
    ("sgd", {"lr": 0.1}, "SGD", {"lr": 0.1}),
    ("sgd", {"lr": 0.1, "weight_decay": 0.05}, "SGD", {"lr": 0.1, "weight_decay": 0.05}),
    ("momentum", {"lr": 0.1}, "SGD", {"lr": 0.1, "momentum": 0.9}),
    ("nesterov", {"lr": 0.1, "momentum": 0.8, "weight_decay": 0.05}, "SGD",
     {"lr": 0.1, "momentum": 0.8, "nesterov": True, "weight_decay": 0.05}),
    ("adagrad", {"lr": 0.1, "initial_accumulator_value": 0.1}, "Adagrad",
     {"lr": 0.1, "initial_accumulator_value": 0.1}),
    ("rmsprop", {"lr": 0.01}, "RMSprop", {"lr": 0.01}),
    ("rmsprop", {"lr": 0.01, "rho": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 0.05}, "RMSprop",
     {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 0.05}),
    ("adadelta", {"lr": 1.0, "rho": 0.8}, "Adadelta", {"lr": 1.0, "rho": 0.8}),
    ("adam", {"lr": 0.01}, "Adam", {"lr": 0.01}),
    ("adam", {"lr": 0.01, "beta_1": 0.8, "weight_decay": 0.05}, "Adam",
     {"lr": 0.01, "betas": (0.8, 0.999), "weight_decay": 0.05}),
    ("adamw", {"lr": 0.01, "weight_decay": 0.1}, "AdamW", {"lr": 0.01, "weight_decay": 0.1}),
    ("adam", {"lr": 0.01, "clipnorm": 1.0}, "Adam", {"lr": 0.01}),
    ("sgd", {"lr": 0.1, "clipvalue": 0.5}, "SGD", {"lr": 0.1}),
]
CASE_IDS = [f"{name}-{'-'.join(kwargs)}" for name, kwargs, _, _ in CASES]
# Every optimizer with every common option at once, for the path and resume tests.
ALL_OPTIONS = {name: {"weight_decay": 0.05, "clipnorm": 2.0, "clipvalue": 1.0} for name in optimizers.OPTIMIZERS}
ALL_OPTIONS["RMSProp"].update(momentum=0.5, centered=True)


def make_params(xp, dtype, values, flat=True):
    """Parameters holding ``values``: views of one flat store (flat=True) or separate arrays."""
    if flat:
        store = ParameterStore(xp, dtype, sum(v.size for v in values))
        params = [store.take(shape, regularize, transposed=i in TRANSPOSED)
                  for i, (shape, regularize) in enumerate(SHAPES)]
        for param, value in zip(params, values, strict=True):
            param.value[...] = xp.asarray(value)
    else:
        params = [Parameter(xp.asarray(v, dtype=dtype), xp.zeros(v.shape, dtype=dtype), regularize)
                  for v, (_, regularize) in zip(values, SHAPES, strict=True)]
    return {f"layer{i}.w": p for i, p in enumerate(params)}


def random_values(rng):
    return [rng.standard_normal(shape) for shape, _ in SHAPES]


def random_grads(rng, steps=STEPS):
    return [[rng.standard_normal(shape) for shape, _ in SHAPES] for _ in range(steps)]


def run_steps(optimizer, params, grads_per_step):
    for grads in grads_per_step:
        for param, grad in zip(params.values(), grads, strict=True):
            param.grad[...] = array_module(param.grad).asarray(grad)
        optimizer.step()
    return [to_numpy(p.value) for p in params.values()]


def assert_same(actual, expected, rtol=1e-10, atol=1e-12):
    for a, e in zip(actual, expected, strict=True):
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)


# -- oracles ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "kwargs", "torch_name", "torch_kwargs"), CASES, ids=CASE_IDS)
def test_matches_torch(xp, rng, name, kwargs, torch_name, torch_kwargs):
    torch = pytest.importorskip("torch")
    values, grads = random_values(rng), random_grads(rng)
    params = make_params(xp, np.float64, values)
    ours = run_steps(optimizers.get(name, params, **kwargs), params, grads)

    tensors = [torch.nn.Parameter(torch.tensor(v)) for v in values]
    torch_kwargs = dict(torch_kwargs)  # CASES is shared by every backend's run
    decay = torch_kwargs.pop("weight_decay", 0.0)
    groups = [{"params": [t for t, (_, reg) in zip(tensors, SHAPES, strict=True) if reg], "weight_decay": decay},
              {"params": [t for t, (_, reg) in zip(tensors, SHAPES, strict=True) if not reg], "weight_decay": 0.0}]
    reference = getattr(torch.optim, torch_name)(groups, **torch_kwargs)
    for step_grads in grads:
        for tensor, grad in zip(tensors, step_grads, strict=True):
            tensor.grad = torch.tensor(grad)
        if "clipnorm" in kwargs:
            torch.nn.utils.clip_grad_norm_(tensors, kwargs["clipnorm"])
        if "clipvalue" in kwargs:
            torch.nn.utils.clip_grad_value_(tensors, kwargs["clipvalue"])
        reference.step()
    # clip_grad_norm_ adds 1e-6 to the norm, hence the looser tolerance there
    assert_same(ours, [t.detach().numpy() for t in tensors], rtol=1e-6 if "clipnorm" in kwargs else 1e-10)


@pytest.mark.parametrize(("name", "kwargs"), [(c[0], c[1]) for c in CASES], ids=CASE_IDS)
def test_matches_numpy_reference(xp, rng, name, kwargs):
    values, grads = random_values(rng), random_grads(rng)
    params = make_params(xp, np.float64, values)
    ours = run_steps(optimizers.get(name, params, **kwargs), params, grads)
    assert_same(ours, reference_run(name, kwargs, values, grads))


REFERENCE_DEFAULTS = {
    "sgd": {}, "momentum": {"momentum": 0.9}, "nesterov": {"momentum": 0.9, "nesterov": True},
    "adagrad": {"initial_accumulator_value": 0.0}, "rmsprop": {"rho": 0.99}, "adadelta": {"rho": 0.9},
    "adam": {}, "adamw": {},
}


def reference_run(name, kwargs, values, grads_per_step):
    """Textbook rules, one parameter at a time, in float64 (PyTorch's formulas)."""
    h = {"weight_decay": 0.0, "momentum": 0.0, **REFERENCE_DEFAULTS[name], **kwargs}
    values, states = [v.copy() for v in values], [{} for _ in values]
    for t, grads in enumerate(grads_per_step, start=1):
        if h.get("clipnorm"):
            norm = np.sqrt(sum((g * g).sum() for g in grads))
            grads = [g * min(1.0, h["clipnorm"] / norm) for g in grads]
        if h.get("clipvalue"):
            grads = [np.clip(g, -h["clipvalue"], h["clipvalue"]) for g in grads]
        for p, g, s, (_, regularize) in zip(values, grads, states, SHAPES, strict=True):
            reference_rule(name, h, p, g, s, t, h["weight_decay"] if regularize else 0.0)
    return values


def reference_rule(name, h, p, g, s, t, wd):
    lr = h["lr"]
    if name != "adamw":
        g = g + wd * p
    if name in ("sgd", "momentum", "nesterov"):
        if h["momentum"]:
            s["v"] = h["momentum"] * s.get("v", 0.0) + g
            g = g + h["momentum"] * s["v"] if h.get("nesterov") else s["v"]
        p -= lr * g
    elif name == "adagrad":
        s["sum"] = s.get("sum", h["initial_accumulator_value"]) + g * g
        p -= lr * g / (np.sqrt(s["sum"]) + 1e-10)
    elif name == "rmsprop":
        rho = h["rho"]
        s["sq"] = rho * s.get("sq", 0.0) + (1 - rho) * g * g
        if h.get("centered"):
            s["mean"] = rho * s.get("mean", 0.0) + (1 - rho) * g
            avg = np.sqrt(s["sq"] - s["mean"] ** 2) + 1e-8
        else:
            avg = np.sqrt(s["sq"]) + 1e-8
        if h["momentum"]:
            s["v"] = h["momentum"] * s.get("v", 0.0) + g / avg
            p -= lr * s["v"]
        else:
            p -= lr * g / avg
    elif name == "adadelta":
        rho = h["rho"]
        s["sq"] = rho * s.get("sq", 0.0) + (1 - rho) * g * g
        delta = np.sqrt(s.get("acc", 0.0) + 1e-6) / np.sqrt(s["sq"] + 1e-6) * g
        s["acc"] = rho * s.get("acc", 0.0) + (1 - rho) * delta * delta
        p -= lr * delta
    else:  # adam, adamw
        b1, b2 = h.get("beta_1", 0.9), h.get("beta_2", 0.999)
        if name == "adamw":
            p *= 1 - lr * wd
        s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
        p -= lr * (s["m"] / (1 - b1**t)) / (np.sqrt(s["v"] / (1 - b2**t)) + 1e-8)


# -- the two layouts ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", optimizers.OPTIMIZERS)
def test_flat_and_per_parameter_paths_agree(xp, rng, monkeypatch, name):
    monkeypatch.setattr(layout, "CPU_CHUNK", 7)  # many chunks and several lanes even on these small shapes
    values, grads = random_values(rng), random_grads(rng)
    results = []
    for flat in (True, False):
        params = make_params(xp, np.float32, values, flat=flat)
        optimizer = optimizers.get(name, params, **ALL_OPTIONS[name])
        assert (optimizer._flat is not None) == flat
        results.append(run_steps(optimizer, params, grads))
    # the global norm is summed in a different order on the two paths: last-bit differences only
    assert_same(results[0], results[1], rtol=2e-6, atol=1e-7)


def test_the_flat_path_needs_each_value_and_its_grad_in_one_memory_order():
    store = ParameterStore(np, np.float32, 20)
    kernel = store.take((5, 4), transposed=True)  # a Dense kernel's layout: (out, in) in memory
    assert flat_buffers([kernel]) is not None
    same_bytes_other_order = Parameter(kernel.value, store.grads.reshape(5, 4))
    assert flat_buffers([same_bytes_other_order]) is None  # element i of the two buffers would be two weights


def test_flat_path_uses_chunks_and_lanes_on_numpy(monkeypatch, rng):
    monkeypatch.setattr(layout, "CPU_CHUNK", 7)
    monkeypatch.setattr(layout, "cpu_lanes", lambda: 3)
    params = make_params(np, np.float32, random_values(rng))
    optimizer = optimizers.Adam(params, weight_decay=0.1)
    segments = [segment for lane in optimizer._lanes for segment in lane]
    assert len(optimizer._lanes) == 3
    assert all(segment.value.size <= 7 for segment in segments)
    assert sum(segment.value.size for segment in segments) == sum(p.size for p in params.values())
    decayed = sum(segment.value.size for segment in segments if segment.decay)
    assert decayed == sum(p.size for p in params.values() if p.regularize)


@pytest.mark.parametrize("name", optimizers.OPTIMIZERS)
def test_flat_step_allocates_no_parameter_sized_temporaries(name):
    import tracemalloc

    size = 400_000  # 1.6 MB of float32; scratch is chunk-sized and made once, at construction
    store = ParameterStore(np, np.float32, size)
    params = {"kernel": store.take((size - 100,)), "bias": store.take((100,), regularize=False)}
    store.grads[...] = 0.5
    optimizer = optimizers.get(name, params, **ALL_OPTIONS[name])
    optimizer.step()
    tracemalloc.start()
    optimizer.step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 64 * 1024  # bookkeeping only (about 6 KB measured); one temporary would be 1.6 MB


def test_fused_cupy_kernel_matches_plain_rule(xp, rng, monkeypatch):
    if xp is np:
        pytest.skip("the fused kernel is CuPy's")
    values, grads = random_values(rng), random_grads(rng)
    results = []
    for fused in (True, False):
        monkeypatch.setattr(optimizers.Adam, "use_fused_kernel", fused)
        params = make_params(xp, np.float64, values)
        results.append(run_steps(optimizers.AdamW(params, lr=0.01, weight_decay=0.1), params, grads))
    assert_same(results[0], results[1])


# -- clipping, learning rate, zero_grad -----------------------------------------------------------------
def test_clipnorm_scales_all_gradients_together_and_leaves_grads_alone(xp):
    params = {"a": Parameter(xp.zeros(2), xp.asarray([3.0, 0.0])), "b": Parameter(xp.zeros(1), xp.asarray([4.0]))}
    optimizers.SGD(params, lr=1.0, clipnorm=1.0).step()
    np.testing.assert_allclose(to_numpy(params["a"].value), [-0.6, 0.0])
    np.testing.assert_allclose(to_numpy(params["b"].value), [-0.8])
    np.testing.assert_array_equal(to_numpy(params["a"].grad), [3.0, 0.0])


def test_clipvalue_clips_each_element(xp):
    param = Parameter(xp.zeros(3), xp.asarray([-5.0, 0.25, 2.0]))
    optimizers.SGD([param], lr=1.0, clipvalue=0.5).step()
    np.testing.assert_allclose(to_numpy(param.value), [0.5, -0.25, -0.5])


def test_schedule_sets_each_steps_rate_and_set_learning_rate_rescales_it(xp):
    param = Parameter(xp.zeros(1), xp.ones(1))
    schedule = {"name": "exponential", "initial_learning_rate": 0.1, "decay_steps": 1, "decay_rate": 0.5}
    optimizer = optimizers.SGD([param], lr=schedule)
    moves = []
    for _ in range(3):
        before = float(to_numpy(param.value)[0])
        optimizer.step()
        moves.append(before - float(to_numpy(param.value)[0]))
    np.testing.assert_allclose(moves, [0.1, 0.05, 0.025])
    optimizer.set_learning_rate(0.5)  # live change: now 0.5, and still halving each step
    assert optimizer.learning_rate == pytest.approx(0.5)
    optimizer.step()
    assert optimizer.learning_rate == pytest.approx(0.25)
    assert optimizer.get_config()["lr"]["initial_learning_rate"] == pytest.approx(4.0)


def test_set_learning_rate_on_a_constant_rate(xp):
    optimizer = optimizers.Adam([Parameter(xp.zeros(2))], lr=0.1)
    optimizer.set_learning_rate(0.01)
    assert optimizer.learning_rate == 0.01 and optimizer.get_config()["lr"] == 0.01
    with pytest.raises(ValueError, match="learning_rate must be > 0. Received: learning_rate=0"):
        optimizer.set_learning_rate(0)


@pytest.mark.parametrize("flat", [True, False])
def test_zero_grad(xp, rng, flat):
    params = make_params(xp, np.float32, random_values(rng), flat=flat)
    for param in params.values():
        param.grad[...] = 1.0
    optimizers.SGD(params).zero_grad()
    assert all(float(abs(p.grad).sum()) == 0 for p in params.values())


# -- state -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", optimizers.OPTIMIZERS)
@pytest.mark.parametrize("resume_flat", [True, False])
def test_state_dict_resumes_exactly(xp, rng, name, resume_flat):
    values, grads = random_values(rng), random_grads(rng, steps=6)
    lr = {"name": "inverse_time", "initial_learning_rate": 0.05, "decay_steps": 2, "decay_rate": 0.5}

    params = make_params(xp, np.float64, values)
    straight = run_steps(optimizers.get(name, params, lr=lr, **ALL_OPTIONS[name]), params, grads)

    params = make_params(xp, np.float64, values)
    first = optimizers.get(name, params, lr=lr, **ALL_OPTIONS[name])
    halfway = run_steps(first, params, grads[:3])
    first.set_learning_rate(first.learning_rate)  # a no-op change: the saved schedule must still match
    config, arrays = first.state_dict()
    config = json.loads(json.dumps(config))
    assert all(isinstance(a, np.ndarray) for a in arrays.values())

    params = make_params(xp, np.float64, halfway, flat=resume_flat)
    resumed = optimizers.from_state_dict(params, config, arrays)
    assert resumed.iterations == 3
    if resume_flat:  # the same layout runs the same operations: bit for bit
        for got, expected in zip(run_steps(resumed, params, grads[3:]), straight, strict=True):
            np.testing.assert_array_equal(got, expected)
    else:  # the per-parameter path sums the clipping norm in another order
        assert_same(run_steps(resumed, params, grads[3:]), straight, rtol=1e-12, atol=1e-14)


def test_load_state_dict_rejects_a_mismatch_and_changes_nothing(rng):
    params = make_params(np, np.float64, random_values(rng))
    adam = optimizers.Adam(params)
    run_steps(adam, params, random_grads(rng, steps=1))
    config, arrays = adam.state_dict()

    with pytest.raises(ValueError, match="optimizer state is for 'Adam', but this optimizer is 'SGD'"):
        optimizers.SGD(params).load_state_dict(config, arrays)
    fresh = optimizers.Adam(params, lr=0.5)
    missing = {k: v for k, v in arrays.items() if k != "layer2.w.decayed_square_sum"}
    with pytest.raises(ValueError, match="no array 'layer2.w.decayed_square_sum'"):
        fresh.load_state_dict(config, missing)
    with pytest.raises(ValueError, match=r"'layer0.w.decayed_grad_sum' has shape \(3,\); the parameter has shape"):
        fresh.load_state_dict(config, {**arrays, "layer0.w.decayed_grad_sum": np.zeros(3)})
    with pytest.raises(ValueError, match="not an optimizer state"):
        fresh.load_state_dict({"format": "something-else"}, arrays)
    assert fresh.iterations == 0 and fresh.learning_rate == 0.5


# -- construction ----------------------------------------------------------------------------------------
def test_get_by_name_config_and_overrides():
    params = [Parameter(np.zeros(3))]
    assert isinstance(optimizers.get("ADAM", params), optimizers.Adam)
    optimizer = optimizers.get({"name": "rmsprop", "learning_rate": 0.002, "rho": 0.9}, params, momentum=0.5)
    assert optimizer.get_config() == {"name": "RMSProp", "lr": 0.002, "rho": 0.9, "epsilon": 1e-8, "momentum": 0.5,
                                      "centered": False, "weight_decay": 0.0, "clipnorm": None, "clipvalue": None}
    assert optimizers.get(optimizer.get_config(), params).get_config() == optimizer.get_config()
    assert optimizers.OPTIMIZERS == ("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSProp", "Adadelta", "Adam",
                                     "AdamW")


@pytest.mark.parametrize(("call", "message"), [
    (lambda p: optimizers.Adam(p, lr=0), "Adam: lr must be > 0. Received: lr=0"),
    (lambda p: optimizers.Adam(p, lr="fast"), "Adam: lr must be a finite number. Received: lr='fast'"),
    (lambda p: optimizers.Adam(p, beta_1=1.0), r"Adam: beta_1 must be in \[0, 1\). Received: beta_1=1.0"),
    (lambda p: optimizers.AdamW(p, beta_2=-0.1), r"AdamW: beta_2 must be in \[0, 1\). Received: beta_2=-0.1"),
    (lambda p: optimizers.RMSProp(p, rho=1), r"RMSProp: rho must be in \[0, 1\). Received: rho=1"),
    (lambda p: optimizers.SGD(p, weight_decay=-1), "SGD: weight_decay must be >= 0. Received: weight_decay=-1"),
    (lambda p: optimizers.SGD(p, nesterov=True), "SGD: nesterov needs momentum > 0"),
    (lambda p: optimizers.Momentum(p, momentum=0), r"Momentum: momentum must be in \(0, 1\)"),
    (lambda p: optimizers.Adam(p, clipnorm=0), "Adam: clipnorm must be > 0. Received: clipnorm=0"),
    (lambda p: optimizers.get("adamm", p), "unknown optimizer 'adamm'; expected one of: SGD, Momentum, Nesterov"),
    (lambda p: optimizers.get("adam", p, betas=(0.9, 0.99)), "Adam got unexpected argument"),
    (lambda p: optimizers.get({"name": "sgd", "lr": 0.1, "learning_rate": 0.1}, p), "not both"),
    (lambda p: optimizers.Adam(p, lr={"name": "cosine"}), "schedule 'cosine': missing argument"),
    (lambda p: optimizers.Adam([], lr=0.1), "Adam: there are no parameters to optimize"),
    (lambda p: optimizers.Adam([np.zeros(3)]), "Adam: params must be Parameters"),
])
def test_bad_settings_name_the_field_and_value(call, message):
    with pytest.raises(ValueError, match=message):
        call([Parameter(np.zeros(3))])
