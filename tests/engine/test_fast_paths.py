"""Every fast path against its plain reference (``engine.ops.reference``), and the table that chooses them
(``engine.ops.dispatch``) pinned, so that a change to which path runs for which shapes shows up here.

The comparisons run in float64, forward and backward, over random shapes with odd sizes, strides and
padding; each case also checks that the path it means to test is the one that ran.
"""

import numpy as np
import pytest

import engine
from benchmarks.models import MODELS
from engine.ops import conv as conv_ops
from engine.ops import dispatch, reference
from engine.ops.activations import ACTIVATIONS
from engine.ops.conv_fourier import FourierCache
from engine.ops.layout import empty_chwn
from engine.ops.padding import conv_geometry, normalize_padding
from engine.ops.pooling import avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward
from engine.ops.workspace import Workspace


def chwn(values):
    """``values`` (logical NCHW) stored as CHWN, as conv nets keep their activations."""
    stored = empty_chwn(np, values.shape, values.dtype)
    stored[...] = values
    return stored


@pytest.fixture
def choices(monkeypatch):
    """A list that receives (decision, path) for every choice ``dispatch.choose`` makes while the test runs."""
    made = []

    def recording(decision, path, when):
        def condition(*facts):
            holds = when(*facts)
            if holds:
                made.append((decision, path))
            return holds
        return condition

    for decision, rules in list(dispatch.RULES.items()):
        monkeypatch.setitem(dispatch.RULES, decision,
                            tuple(dispatch.Rule(path, recording(decision, path, when)) for path, when in rules))
    return made


def close(ours, theirs):
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


# -- convolution ---------------------------------------------------------------------------------------------
def random_conv_case(rng, batch, stride_1=False):
    """x, kernel, bias, strides, padding of a random small convolution with odd sizes."""
    c, f = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    h, w = int(rng.integers(3, 12)), int(rng.integers(3, 12))
    kh, kw = int(rng.integers(1, min(h, 5) + 1)), int(rng.integers(1, min(w, 5) + 1))
    strides = (1, 1) if stride_1 else (int(rng.integers(1, 4)), int(rng.integers(1, 3)))
    padding = ["valid", "same", (int(rng.integers(0, kh)), int(rng.integers(0, kw)))][int(rng.integers(3))]
    x = rng.standard_normal((batch, c, h, w))
    return x, rng.standard_normal((f, c, kh, kw)), rng.standard_normal(f), strides, padding


def check_conv_against_reference(x, kernel, bias, strides, padding, need_dx=True, workspace=None, algorithm="auto"):
    """Forward and backward of ``conv_ops`` against ``reference``; returns the forward's cache."""
    rng = np.random.default_rng(7)
    y_ref, saved = reference.conv2d_forward(x, kernel, bias, strides, padding)
    dy = chwn(rng.standard_normal(y_ref.shape))
    dx_ref, dkernel_ref, dbias_ref = reference.conv2d_backward(dy, saved)
    y, cache = conv_ops.conv2d_forward(x, kernel, bias, strides, padding, workspace=workspace, algorithm=algorithm)
    close(y, y_ref)
    dx, dkernel, dbias = conv_ops.conv2d_backward(dy, cache, need_dx)
    close(dkernel, dkernel_ref)
    close(dbias, dbias_ref)
    if need_dx:
        close(dx, dx_ref)
    else:
        assert dx is None
    return cache


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("stored", ["NCHW", "CHWN"])
def test_columns_in_one_chunk_match_the_reference(choices, seed, stored):
    rng = np.random.default_rng(seed)
    x, kernel, bias, strides, padding = random_conv_case(rng, batch=int(rng.integers(2, 5)))
    x = chwn(x) if stored == "CHWN" else x
    check_conv_against_reference(x, kernel, bias, strides, padding, need_dx=bool(seed % 3), algorithm="columns")
    assert ("conv2d", "columns") in choices and ("conv2d columns", "one chunk") in choices
    assert ("conv2d backward", "one chunk") in choices


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("per_chunk", [1, 3, "a row and a bit"])
def test_columns_in_chunks_match_the_reference(monkeypatch, choices, seed, per_chunk):
    rng = np.random.default_rng(100 + seed)
    x, kernel, bias, strides, padding = random_conv_case(rng, batch=int(rng.integers(2, 5)), stride_1=seed % 2 == 0)
    n, c, h, w = x.shape
    _, _, kh, kw = kernel.shape
    out_w = conv_geometry(h, w, (kh, kw), strides, normalize_padding(padding))[1]
    positions = out_w + 1 if per_chunk == "a row and a bit" else per_chunk
    monkeypatch.setattr(dispatch, "CHUNK_BYTES", positions * c * kh * kw * n * x.itemsize)
    workspace = Workspace()
    for _ in range(2):  # the second step reuses the first one's buffers
        cache = check_conv_against_reference(chwn(x), kernel, bias, strides, padding, workspace=workspace,
                                             algorithm="columns")
    if len(cache.chunks) > 1:
        assert ("conv2d columns", "chunks") in choices
        expected = {"dx by correlation", "chunks"}
        assert {path for decision, path in choices if decision == "conv2d backward"} <= expected


def test_dx_by_correlation_is_taken_and_matches_the_reference(monkeypatch, choices):
    rng = np.random.default_rng(3)
    monkeypatch.setattr(dispatch, "CHUNK_BYTES", 1)
    for padding in ["same", "valid", (1, 2)]:
        x = rng.standard_normal((3, 2, 9, 7))
        check_conv_against_reference(chwn(x), rng.standard_normal((3, 2, 3, 4)), rng.standard_normal(3), 1, padding)
    assert choices.count(("conv2d backward", "dx by correlation")) == 3


@pytest.mark.parametrize("seed", range(16))
def test_one_image_wide_columns_match_the_reference(choices, seed):
    rng = np.random.default_rng(200 + seed)
    x, kernel, bias, strides, padding = random_conv_case(rng, batch=1, stride_1=True)
    check_conv_against_reference(x, kernel, None if seed % 4 == 0 else bias, strides, padding,
                                 workspace=Workspace() if seed % 2 else None)
    assert choices[0] == ("conv2d", "one image")


@pytest.mark.parametrize("seed", range(16))
def test_fourier_matches_the_reference(choices, seed):
    rng = np.random.default_rng(300 + seed)
    x, kernel, bias, strides, padding = random_conv_case(rng, batch=int(rng.integers(1, 5)), stride_1=True)
    x = chwn(x) if seed % 2 else x
    cache = check_conv_against_reference(x, kernel, None if seed % 3 == 0 else bias, strides, padding,
                                         need_dx=seed % 5 != 0, workspace=Workspace() if seed % 4 else None,
                                         algorithm="fourier")
    assert isinstance(cache, FourierCache) and ("conv2d backward", "fourier") in choices


# -- pooling -------------------------------------------------------------------------------------------------
def random_pool_case(rng):
    h, w = int(rng.integers(2, 11)), int(rng.integers(2, 11))
    pool = (int(rng.integers(1, min(h, 4) + 1)), int(rng.integers(1, min(w, 4) + 1)))
    strides = None if rng.random() < 0.3 else (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    padding = ["valid", "same", (int(rng.integers(0, pool[0])), int(rng.integers(0, pool[1])))][int(rng.integers(3))]
    return rng.standard_normal((int(rng.integers(1, 4)), int(rng.integers(1, 4)), h, w)), pool, strides, padding


@pytest.mark.parametrize("seed", range(24))
@pytest.mark.parametrize("stored", ["NCHW", "CHWN"])
def test_max_pooling_matches_the_reference(seed, stored):
    rng = np.random.default_rng(400 + seed)
    x, pool, strides, padding = random_pool_case(rng)
    if seed % 3 == 0:
        x = np.round(x)  # ties: the first maximum in row-major order takes the gradient
    x = chwn(x) if stored == "CHWN" else x
    y_ref, saved = reference.max_pool2d_forward(x, pool, strides, padding)
    y, cache = max_pool2d_forward(x, pool, strides, padding)
    close(y, y_ref)
    dy = rng.standard_normal(y.shape)
    close(max_pool2d_backward(dy, cache), reference.max_pool2d_backward(dy, saved))


@pytest.mark.parametrize("shape", [(1, 1, 2, 2), (3, 4, 6, 8), (2, 5, 10, 4), (64, 8, 28, 28)])
def test_the_2x2_max_pooling_paths_match_the_reference(choices, shape):
    rng = np.random.default_rng(5)
    x = chwn(np.round(rng.standard_normal(shape) * 2))  # many ties
    y_ref, saved = reference.max_pool2d_forward(x, 2, 2, "valid")
    y, cache = max_pool2d_forward(x, 2, 2, "valid")
    close(y, y_ref)
    dy = chwn(rng.standard_normal(y.shape))
    close(max_pool2d_backward(dy, cache), reference.max_pool2d_backward(dy, saved))
    y_alone, _ = max_pool2d_forward(x, 2, 2, "valid", keep_cache=False)
    close(y_alone, y_ref)
    assert choices == [("max_pool2d", "2x2 pairs"), ("max_pool2d", "2x2 maximum only")]


@pytest.mark.parametrize("seed", range(24))
@pytest.mark.parametrize("stored", ["NCHW", "CHWN"])
def test_average_pooling_matches_the_reference(seed, stored):
    rng = np.random.default_rng(500 + seed)
    x, pool, strides, padding = random_pool_case(rng)
    x = chwn(x) if stored == "CHWN" else x
    y_ref, saved = reference.avg_pool2d_forward(x, pool, strides, padding)
    y, cache = avg_pool2d_forward(x, pool, strides, padding)
    close(y, y_ref)
    dy = rng.standard_normal(y.shape)
    close(avg_pool2d_backward(dy, cache), reference.avg_pool2d_backward(dy, saved))


# -- ReLU ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 5, 7), (64, 32, 28, 28), (300_001,)])
@pytest.mark.parametrize("inplace", [False, True])
def test_relu_matches_the_reference(shape, inplace):
    # Large NumPy arrays are shared between the cores and take the maximum against pieces of zeros.
    rng = np.random.default_rng(6)
    x = rng.standard_normal(shape)
    y_ref, saved = reference.relu_forward(x)
    relu = ACTIVATIONS["relu"]
    y, kept = relu.forward(x.copy() if inplace else x, inplace=inplace)
    np.testing.assert_array_equal(y, y_ref)
    dy = rng.standard_normal(shape)
    np.testing.assert_array_equal(relu.backward(dy, kept), reference.relu_backward(dy, saved))


# -- the one-image plan --------------------------------------------------------------------------------------
def test_the_one_image_plan_matches_the_reference_ops(choices):
    # The seed CNN's plan fuses each convolution with its pooling; the plain ops, composed, must agree.
    net = engine.build(MODELS["seed-cnn"][0](), seed=0, dtype="float64")
    x = np.random.default_rng(8).standard_normal((1, 1, 28, 28))
    params = {name: p.value for name, p in net.parameters().items()}
    y = net.forward(x)
    assert choices == [("network forward", "one-image plan")]
    h = x
    for conv in ("conv1", "conv2"):
        h = reference.relu_forward(reference.conv2d_forward(h, params[f"{conv}.kernel"], params[f"{conv}.bias"],
                                                            1, "same")[0])[0]
        h = reference.max_pool2d_forward(h, 2, 2, "same")[0]
    h = reference.relu_forward(h.reshape(1, -1) @ params["fc1.kernel"] + params["fc1.bias"])[0]
    close(y, h @ params["logits.kernel"] + params["logits.bias"])


# -- the table, pinned ---------------------------------------------------------------------------------------
def choices_of_a_training_step(name, batch, choices):
    net = engine.build(MODELS[name][0](), seed=0)
    x = np.random.default_rng(0).standard_normal((batch, *net.input_shape)).astype(np.float32)
    y = net.forward(x, training=True)
    net.backward(np.ones_like(y), input_grad=False)  # as the trainer does
    return list(choices)


# The choices a training step of each benchmark model makes, in the order it makes them (see
# benchmarks/bench_engine.py: batches of 50 and 128). The seed CNN: conv1 (1 -> 32 channels, 28x28) by
# columns in chunks; pool1 and pool2 2x2 ('same' on even sides pads nothing); conv2 (32 -> 64, 14x14) through
# the Fourier transform; conv1's backward, which needs no dx, in chunks again.
SEED_CNN_STEP = [
    ("network forward", "layer by layer"), ("network threads", "engine threads"),
    ("conv2d workspace", "training"), ("conv2d", "columns"), ("conv2d columns", "chunks"),
    ("max_pool2d", "2x2 pairs"),
    ("conv2d workspace", "training"), ("conv2d", "fourier"),
    ("max_pool2d", "2x2 pairs"),
    ("network threads", "engine threads"),
    ("conv2d backward", "fourier"),
    ("conv2d backward", "chunks"),
]
DENSE_STEP = [("network forward", "layer by layer"), ("network threads", "BLAS threads"),
              ("network threads", "BLAS threads")]
PINNED_STEPS = {
    ("seed-cnn", 128): SEED_CNN_STEP,
    ("seed-cnn", 50): SEED_CNN_STEP,
    ("seed-cnn", 8): [  # a few images: BLAS's own threads, conv1's columns in one chunk
        ("network forward", "layer by layer"), ("network threads", "BLAS threads"),
        ("conv2d workspace", "training"), ("conv2d", "columns"), ("conv2d columns", "one chunk"),
        ("max_pool2d", "2x2 pairs"),
        ("conv2d workspace", "training"), ("conv2d", "fourier"),
        ("max_pool2d", "2x2 pairs"),
        ("network threads", "BLAS threads"),
        ("conv2d backward", "fourier"),
        ("conv2d backward", "one chunk"),
    ],
    ("mlp", 128): DENSE_STEP,  # products are all the work: BLAS's threads
    ("mlp", 50): DENSE_STEP,
    ("softmax", 128): DENSE_STEP,
}


@pytest.mark.parametrize("name,batch", list(PINNED_STEPS))
def test_a_training_step_of_each_benchmark_model_takes_the_pinned_paths(choices, name, batch):
    assert choices_of_a_training_step(name, batch, choices) == PINNED_STEPS[name, batch]


def test_inference_of_the_seed_cnn_takes_the_pinned_paths(choices):
    net = engine.build(MODELS["seed-cnn"][0](), seed=0)
    rng = np.random.default_rng(0)
    net.forward(rng.standard_normal((1, 1, 28, 28)).astype(np.float32))  # a drawing being read
    assert choices == [("network forward", "one-image plan")]
    assert net._one_image_plan().step_kinds() == {"pool1": "Convolution", "pool2": "Convolution", "flatten": "function",
                                                  "fc1": "Dense", "dropout": "function", "logits": "Dense"}
    choices.clear()
    net.forward(rng.standard_normal((256, 1, 28, 28)).astype(np.float32))  # an evaluation batch
    assert choices == [
        ("network forward", "layer by layer"), ("network threads", "engine threads"),
        ("conv2d workspace", "none"), ("conv2d", "columns"), ("conv2d columns", "chunks"),
        ("max_pool2d", "2x2 maximum only"),
        ("conv2d workspace", "none"), ("conv2d", "fourier"),
        ("max_pool2d", "2x2 maximum only"),
    ]


# (x_shape, kernel_shape, strides, padding, itemsize) -> (conv2d path, columns cut) with 'auto' on NumPy
PINNED_CONVOLUTIONS = {
    ((1, 1, 28, 28), (32, 1, 5, 5), 1, "same", 4): ("one image", "one chunk"),
    ((1, 32, 14, 14), (64, 32, 5, 5), 1, "same", 4): ("one image", "one chunk"),
    ((1, 8, 200, 200), (4, 8, 3, 3), 1, "same", 4): ("columns", "chunks"),  # wide columns past CHUNK_BYTES
    ((1, 3, 9, 7), (2, 3, 3, 3), 2, "same", 8): ("columns", "one chunk"),
    ((2, 3, 5, 5), (4, 3, 5, 5), 1, "valid", 8): ("columns", "one chunk"),
    ((128, 1, 28, 28), (32, 1, 5, 5), 1, "same", 4): ("columns", "chunks"),
    ((128, 32, 14, 14), (64, 32, 5, 5), 1, "same", 4): ("fourier", "chunks"),
    ((50, 32, 14, 14), (64, 32, 5, 5), 1, "same", 4): ("fourier", "chunks"),
    ((4, 32, 14, 14), (64, 32, 5, 5), 1, "same", 4): ("columns", "one chunk"),  # few images: tiny products
    ((128, 6, 14, 14), (16, 6, 5, 5), 1, "valid", 4): ("fourier", "chunks"),  # LeNet-5's c3
    ((128, 32, 26, 26), (64, 32, 3, 3), 1, "valid", 4): ("fourier", "chunks"),  # the Keras example's conv2
    ((128, 32, 14, 14), (64, 32, 5, 5), 2, "same", 4): ("columns", "chunks"),
    ((128, 64, 32, 32), (64, 64, 3, 3), 1, "same", 4): ("fourier", "chunks"),  # ~240 MB of spectra
    ((256, 64, 32, 32), (64, 64, 3, 3), 1, "same", 4): ("columns", "chunks"),  # past MAX_FOURIER_BYTES
    ((3, 2, 7, 11), (5, 2, 2, 4), (2, 3), (1, 0), 8): ("columns", "one chunk"),
}


@pytest.mark.parametrize("case", list(PINNED_CONVOLUTIONS))
def test_convolutions_of_small_odd_and_benchmark_shapes_take_the_pinned_paths(case):
    x_shape, kernel_shape, strides, padding, itemsize = case
    n, c, h, w = x_shape
    _, _, kh, kw = kernel_shape
    strides = (strides, strides) if isinstance(strides, int) else strides
    out_h, out_w, pads = conv_geometry(h, w, (kh, kw), strides, normalize_padding(padding))
    path = dispatch.choose("conv2d", "auto", np, x_shape, kernel_shape, strides, pads, (out_h, out_w), itemsize)
    cut = dispatch.choose("conv2d columns", np, (out_h, out_w), c * kh * kw * n * itemsize)
    assert (path, cut) == PINNED_CONVOLUTIONS[case]


def test_other_decisions_of_small_and_odd_cases_are_pinned():
    x = chwn(np.zeros((3, 2, 6, 8)))
    pads = (0, 0, 0, 0)
    assert dispatch.choose("max_pool2d", x, (2, 2), (2, 2), pads, True) == "2x2 pairs"
    assert dispatch.choose("max_pool2d", x, (2, 2), (2, 2), pads, False) == "2x2 maximum only"
    assert dispatch.choose("max_pool2d", np.zeros((3, 2, 6, 8)), (2, 2), (2, 2), pads, False) == "windows"
    assert dispatch.choose("max_pool2d", chwn(np.zeros((3, 2, 5, 8))), (2, 2), (2, 2), pads, True) == "windows"
    assert dispatch.choose("max_pool2d", x, (2, 2), (2, 2), (0, 1, 0, 0), True) == "windows"
    assert dispatch.choose("max_pool2d", x, (3, 3), (2, 2), pads, True) == "windows"
    assert dispatch.choose("max_pool2d", x, (2, 2), (1, 1), pads, True) == "windows"
    assert dispatch.choose("network threads", np, 8, True) == "BLAS threads"
    assert dispatch.choose("network threads", np, 9, True) == "engine threads"
    assert dispatch.choose("network threads", np, 128, False) == "BLAS threads"
    assert dispatch.choose("network threads", object(), 128, True) == "BLAS threads"  # CuPy
    assert dispatch.choose("network forward", np, 1, False, False, False, None, False) == "one-image plan"
    for flags in ([True, False, False, None, False], [False, True, False, None, False],
                  [False, False, True, None, False], [False, False, False, {}, False],
                  [False, False, False, None, True]):
        assert dispatch.choose("network forward", np, 1, *flags) == "layer by layer"
    assert dispatch.choose("network forward", np, 2, False, False, False, None, False) == "layer by layer"
    assert dispatch.choose("network forward", object(), 1, False, False, False, None, False) == "layer by layer"
    assert dispatch.choose("conv2d workspace", False, (5, 32, 14, 14), (64, 32, 5, 5), 1, "same", 4) == \
        "small inference"  # 3.1 MB of columns
    assert dispatch.choose("conv2d workspace", False, (6, 32, 14, 14), (64, 32, 5, 5), 1, "same", 4) == "none"
    assert dispatch.choose("conv2d workspace", True, (6, 32, 14, 14), (64, 32, 5, 5), 1, "same", 4) == "training"
    assert dispatch.choose("conv2d", "columns", np, (128, 32, 14, 14), (64, 32, 5, 5), (1, 1), (2, 2, 2, 2),
                           (14, 14), 4) == "columns"
    assert dispatch.choose("conv2d", "fourier", np, (1, 1, 5, 5), (1, 1, 3, 3), (1, 1), (0, 0, 0, 0),
                           (3, 3), 8) == "fourier"
    assert dispatch.choose("conv2d columns", object(), (100, 100), 10 ** 9) == "one chunk"  # CuPy: one GEMM


def test_every_decision_ends_with_a_path_taken_always():
    assert all(rules[-1].when is dispatch.always for rules in dispatch.RULES.values())


def test_the_paths_the_ops_test_for_are_paths_of_the_table():
    # A misspelt path would send every call down the last branch: slower, with the same numbers.
    import inspect
    import re

    from engine import network
    from engine.layers import conv as conv_layers
    from engine.ops import conv, pooling

    named = {path for rules in dispatch.RULES.values() for path, _ in rules}
    for module in (conv, pooling, conv_layers, network):
        source = inspect.getsource(module)
        tested = set(re.findall(r'path == "([^"]+)"', source))
        tested |= set(re.findall(r'choose\(.*?\) == "([^"]+)"', source, re.DOTALL))
        assert tested and tested <= named, (module.__name__, tested - named)
