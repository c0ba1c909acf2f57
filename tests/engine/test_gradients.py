"""Every layer, activation and a range of stride/padding/shape combinations against finite differences."""

import numpy as np
import pytest

from engine import build, losses
from engine.ops import dispatch
from engine.ops.activations import ACTIVATIONS
from tests.engine.conftest import to_numpy
from tests.engine.gradcheck import check_network_gradients, numeric_gradient


def chain(name, input_shape, *nodes):
    """A spec whose nodes run in order after an Input of ``input_shape``."""
    all_nodes = [{"id": "input", "type": "Input", "shape": list(input_shape)}]
    for i, node in enumerate(nodes):
        all_nodes.append({"id": f"n{i}", **node})
    return {"format": "layerlab-network", "version": 1, "name": name, "nodes": all_nodes}


CONV_CASES = [
    # (input CxHxW, kernel, strides, padding)
    ((1, 5, 5), 3, 1, "valid"),
    ((2, 6, 5), 3, 1, "same"),
    ((2, 7, 7), 3, 2, "same"),
    ((3, 8, 8), (3, 2), (2, 1), "valid"),
    ((2, 6, 6), 5, 1, "same"),
    ((2, 5, 5), 3, 2, 1),
    ((1, 4, 4), 1, 1, "valid"),
    ((2, 5, 6), 4, 3, "same"),
    ((2, 5, 6), 4, 1, "same"),  # even kernel, stride 1: uneven 'same' pads
]


@pytest.mark.parametrize("batch", [2, 1], ids=["batch", "one-image"])  # one image: conv_one_image's forward
@pytest.mark.parametrize("chunk_bytes", [None, 1], ids=["whole", "position-by-position"])
@pytest.mark.parametrize("input_shape,kernel,strides,padding", CONV_CASES)
def test_conv2d_gradients(xp, monkeypatch, input_shape, kernel, strides, padding, chunk_bytes, batch):
    if chunk_bytes is not None:  # the CPU path of large convolutions, one output position a chunk
        monkeypatch.setattr(dispatch, "CHUNK_BYTES", chunk_bytes)
    spec = chain("conv", input_shape, {"type": "Conv2D", "filters": 3, "kernel_size": kernel, "strides": strides,
                                       "padding": padding, "bias_initializer": {"name": "constant", "value": 0.1}})
    check_network_gradients(spec, batch=batch)


STRIDE_1_CONV_CASES = [(shape, kernel, padding) for shape, kernel, strides, padding in CONV_CASES if strides == 1]


@pytest.mark.parametrize("batch", [2, 1], ids=["batch", "one-image"])
@pytest.mark.parametrize("input_shape,kernel,padding", STRIDE_1_CONV_CASES)
def test_conv2d_gradients_through_the_fourier_path(xp, fourier_everywhere, input_shape, kernel, padding, batch):
    spec = chain("conv", input_shape, {"type": "Conv2D", "filters": 3, "kernel_size": kernel, "padding": padding,
                                       "bias_initializer": {"name": "constant", "value": 0.1}})
    check_network_gradients(spec, batch=batch)


@pytest.mark.parametrize("layer_type", ["MaxPooling2D", "AveragePooling2D"])
@pytest.mark.parametrize("input_shape,pool,strides,padding", [
    ((2, 4, 4), 2, None, "valid"),
    ((2, 5, 5), 2, 2, "same"),
    ((1, 6, 5), 3, 2, "valid"),
    ((2, 5, 5), 3, 1, "same"),
    ((1, 7, 7), (2, 3), (1, 2), "valid"),
])
def test_pooling_gradients(xp, layer_type, input_shape, pool, strides, padding):
    spec = chain("pool", input_shape, {"type": layer_type, "pool_size": pool, "strides": strides, "padding": padding})
    check_network_gradients(spec)
    check_network_gradients(spec, training=False)  # an inference pass kept for backward (saliency maps)


def test_an_inference_pass_kept_for_backward_or_not_gives_the_same_output(xp):
    spec = chain("pools", (2, 6, 6), {"type": "MaxPooling2D"}, {"type": "Conv2D", "filters": 2, "kernel_size": 3},
                 {"type": "MaxPooling2D", "pool_size": 2, "padding": "same"})
    net = build(spec, seed=0)
    x = xp.asarray(np.random.default_rng(0).standard_normal((3, 2, 6, 6)), dtype=net.dtype)
    kept = to_numpy(net.forward(x, keep_for_backward=True))
    np.testing.assert_array_equal(to_numpy(net.forward(x)), kept)
    assert net.layers["n2"]._cache is None  # nothing kept after a plain inference pass


def test_max_pool_gradient_goes_to_one_input_on_ties(xp):
    # All-equal windows (e.g. a zero border after relu): the gradient must not be counted four times.
    # (Finite differences cannot check this: max is not differentiable at a tie.)
    net = build(chain("ties", (1, 4, 4), {"type": "MaxPooling2D"}), dtype="float64")
    net.forward(xp.ones((1, 1, 4, 4)), training=True)
    dx = net.backward(xp.ones((1, 1, 2, 2)))
    assert float(dx.sum()) == 4.0
    assert float(dx[0, 0, 0, 0]) == 1.0  # the first position of each window wins, as in PyTorch


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_activation_gradients(xp, activation):
    check_network_gradients(chain(activation, (6,), {"type": "Activation", "activation": activation}), batch=3)
    check_network_gradients(chain(activation, (2, 3, 3), {"type": "Activation", "activation": activation}))


@pytest.mark.parametrize("activation", [None, "relu", "tanh", "softmax"])
def test_dense_gradients(xp, activation):
    spec = chain("dense", (5,), {"type": "Dense", "units": 4, "activation": activation,
                                 "bias_initializer": {"name": "constant", "value": 0.1}})
    check_network_gradients(spec, batch=3)


def test_dense_without_bias_and_conv_with_fused_activation(xp):
    spec = chain("fused", (2, 6, 6),
                 {"type": "Conv2D", "filters": 2, "kernel_size": 3, "activation": "elu", "use_bias": False},
                 {"type": "Flatten"},
                 {"type": "Dense", "units": 3, "activation": "gelu", "use_bias": False})
    check_network_gradients(spec)


@pytest.mark.parametrize("input_shape", [(4,), (3, 4, 4)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_normalization_gradients(xp, input_shape, training):
    spec = chain("bn", input_shape, {"type": "BatchNormalization"}, {"type": "Activation", "activation": "tanh"})
    check_network_gradients(spec, batch=4, training=training)


def test_dropout_gradients_use_the_same_mask(xp):
    check_network_gradients(chain("dropout", (20,), {"type": "Dropout", "rate": 0.4}), batch=3)


def test_residual_and_inception_style_blocks(xp):
    residual = {
        "name": "residual",
        "nodes": [
            {"id": "input", "type": "Input", "shape": [2, 5, 5]},
            {"id": "a", "type": "Conv2D", "filters": 2, "kernel_size": 3, "padding": "same", "activation": "tanh"},
            {"id": "b", "type": "Conv2D", "filters": 2, "kernel_size": 3, "padding": "same"},
            {"id": "sum", "type": "Add"},
            {"id": "mixed", "type": "Concatenate"},
            {"id": "pool", "type": "AveragePooling2D"},
        ],
        "edges": [["input", "a"], ["a", "b"], ["b", "sum"], ["input", "sum"],
                  ["sum", "mixed"], ["a", "mixed"], ["mixed", "pool"]],
    }
    check_network_gradients(residual)


def test_concatenate_of_vectors(xp):
    spec = {
        "name": "branches",
        "nodes": [
            {"id": "input", "type": "Input", "shape": [4]},
            {"id": "left", "type": "Dense", "units": 3, "activation": "sigmoid"},
            {"id": "right", "type": "Dense", "units": 2},
            {"id": "join", "type": "Concatenate", "axis": -1},
        ],
        "edges": [["input", "left"], ["input", "right"], ["left", "join"], ["right", "join"]],
    }
    check_network_gradients(spec, batch=3)


def test_small_cnn_end_to_end(xp):
    spec = chain("cnn", (1, 8, 8),
                 {"type": "Conv2D", "filters": 3, "kernel_size": 3, "padding": "same", "activation": "relu"},
                 {"type": "MaxPooling2D"},
                 {"type": "Conv2D", "filters": 4, "kernel_size": 3, "strides": 2, "activation": "leaky_relu"},
                 {"type": "Flatten"},
                 {"type": "Dense", "units": 5, "activation": "relu"},
                 {"type": "Dropout", "rate": 0.3},
                 {"type": "Dense", "units": 3})
    check_network_gradients(spec, batch=3)


# -- losses ------------------------------------------------------------------------------------

def _check_loss_gradient(xp, loss_fn, logits, targets):
    loss, grad = loss_fn(logits, targets)
    numeric = numeric_gradient(lambda: float(loss_fn(logits, targets)[0]), logits, range(logits.size))
    np.testing.assert_allclose(np.asarray(grad.get() if hasattr(grad, "get") else grad).reshape(-1), numeric,
                               rtol=1e-5, atol=1e-8)


def test_softmax_cross_entropy_gradient(xp, rng):
    logits = xp.asarray(rng.standard_normal((4, 5)))
    _check_loss_gradient(xp, losses.softmax_cross_entropy, logits, xp.asarray([0, 3, 4, 1]))
    one_hot = xp.eye(5)[xp.asarray([2, 2, 0, 1])]
    _check_loss_gradient(xp, losses.softmax_cross_entropy, logits, one_hot)


def test_sigmoid_binary_cross_entropy_and_mse_gradients(xp, rng):
    logits = xp.asarray(rng.standard_normal((3, 4)))
    targets = xp.asarray(rng.random((3, 4)))
    _check_loss_gradient(xp, losses.sigmoid_binary_cross_entropy, logits, targets)
    _check_loss_gradient(xp, losses.mean_squared_error, logits, targets)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_losses_stay_finite_for_huge_logits(xp, dtype):
    logits = xp.asarray([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype=dtype)
    loss, grad = losses.softmax_cross_entropy(logits, xp.asarray([1, 0]))
    loss = float(loss)
    assert np.isfinite(loss) and bool(xp.isfinite(grad).all())
    assert loss == pytest.approx((2e4 + 2e4 + np.log(2)) / 2, rel=1e-6)
    loss, grad = losses.sigmoid_binary_cross_entropy(logits, xp.asarray([[0, 1, 1], [1, 0, 0]], dtype=dtype))
    loss = float(loss)
    assert np.isfinite(loss) and bool(xp.isfinite(grad).all())
    assert loss > 1e3


def test_cross_entropy_matches_the_definition(xp, rng):
    logits = rng.standard_normal((6, 4))
    labels = rng.integers(0, 4, 6)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = -np.log(probs[np.arange(6), labels]).mean()
    loss, _ = losses.softmax_cross_entropy(xp.asarray(logits), xp.asarray(labels))
    assert float(loss) == pytest.approx(expected, rel=1e-10)


def test_bad_labels_are_refused(xp):
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\]"):
        losses.softmax_cross_entropy(xp.zeros((2, 3)), np.asarray([0, 3]))  # host labels are checked


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_max_pool_fast_path_matches_the_general_path(xp, rng, padding):
    # After a convolution activations are stored CHWN, which takes the 2x2 fast path; a plain NCHW
    # array takes the general one. Both must agree exactly, ties included.
    from engine.ops.layout import empty_chwn
    from engine.ops.pooling import max_pool2d_backward, max_pool2d_forward

    values = rng.integers(0, 3, (3, 4, 6, 8)).astype(np.float32)  # many ties
    plain = xp.asarray(values)
    chwn = empty_chwn(xp, values.shape, np.float32)
    chwn[...] = plain
    dy = xp.asarray(rng.standard_normal((3, 4, 3, 4)).astype(np.float32))
    y_fast, cache_fast = max_pool2d_forward(chwn, 2, 2, padding)
    y_general, cache_general = max_pool2d_forward(plain, 2, 2, padding)
    assert cache_fast.bottom_wins is not None and cache_general.bottom_wins is None
    np.testing.assert_array_equal(to_numpy(y_fast), to_numpy(y_general))
    np.testing.assert_array_equal(to_numpy(max_pool2d_backward(dy, cache_fast)),
                                  to_numpy(max_pool2d_backward(dy, cache_general)))


# One image; a batch; one large enough to be shared between the cores.
@pytest.mark.parametrize("shape", [(1, 4, 6, 8), (3, 4, 6, 8), (64, 8, 28, 28)])
def test_max_pool_without_backward_gives_the_same_maximum(xp, rng, shape):
    # With no backward to follow, the 2x2 fast path pools row pairs first (faster, different tie
    # order); the maximum itself must not change.
    from engine.ops.layout import empty_chwn, is_chwn
    from engine.ops.pooling import max_pool2d_forward

    values = rng.integers(0, 5, shape).astype(np.float32)
    chwn = empty_chwn(xp, shape, np.float32)
    chwn[...] = xp.asarray(values)
    y, cache = max_pool2d_forward(chwn, 2, 2, "valid", keep_cache=False)
    n, c, h, w = shape
    assert cache is None and is_chwn(y)
    np.testing.assert_array_equal(to_numpy(y), values.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5)))


def test_erf_is_accurate_for_each_dtype(xp):
    import math

    from engine.ops.activations import erf

    grid = np.linspace(-7, 7, 2001)
    reference = np.array([math.erf(v) for v in grid])
    assert np.abs(to_numpy(erf(xp.asarray(grid))) - reference).max() < 5e-15
    assert np.abs(to_numpy(erf(xp.asarray(grid, dtype=np.float32))) - reference).max() < 5e-7


def test_relu_of_a_large_array_matches_maximum_exactly(xp, rng):
    # NumPy arrays take a faster path (maximum against pieces of a zeros array); it must agree with
    # maximum(x, 0) bit for bit, NaN and -0.0 included, also for a length that is not a whole number of pieces.
    relu = ACTIVATIONS["relu"]
    values = rng.standard_normal(300_001).astype(np.float32)
    values[[0, 4096, 65_536, 300_000]] = np.nan
    values[[1, 70_000]] = -0.0
    x = xp.asarray(values)
    expected = to_numpy(xp.maximum(x, 0))
    y, _ = relu.forward(x.copy(), inplace=True)
    np.testing.assert_array_equal(to_numpy(y), expected)
