"""Stride-1 convolutions through the Fourier transform (``engine.ops.conv_fourier``) against the column path.

Finite differences and PyTorch check the Fourier path too: ``test_gradients`` and ``test_torch_crosscheck``
run convolutions through it with the ``fourier_everywhere`` fixture.
"""

import numpy as np
import pytest

from engine.ops import conv as conv_ops
from engine.ops.conv_fourier import FourierCache, fourier_pays
from engine.ops.layout import empty_chwn, is_chwn
from engine.ops.workspace import Workspace

CASES = [
    # (N, C, H, W), (F, C, kh, kw), padding
    ((2, 3, 7, 9), (4, 3, 5, 3), "same"),
    ((3, 2, 6, 6), (5, 2, 3, 3), "valid"),
    ((2, 3, 8, 5), (2, 3, 4, 2), "same"),  # even kernel: uneven pads
    ((2, 1, 5, 5), (3, 1, 3, 3), (2, 1)),  # more padding than 'same'
    ((1, 2, 4, 4), (2, 2, 1, 1), "valid"),  # one image, a 1x1 kernel
    ((2, 2, 3, 3), (2, 2, 3, 3), "valid"),  # one output pixel
    ((2, 2, 7, 6), (3, 2, 2, 2), "valid"),  # odd period down, even across: the half spectrum's Nyquist term
]


def chwn(values):
    """``values`` (logical NCHW) stored as CHWN, as conv nets keep their activations."""
    stored = empty_chwn(np, values.shape, values.dtype)
    stored[...] = values
    return stored


def forward_and_backward(x, kernel, bias, dy, padding, need_dx, algorithm, workspace=None):
    y, cache = conv_ops.conv2d_forward(x, kernel, bias, 1, padding, workspace=workspace, algorithm=algorithm)
    dkernel = np.empty_like(kernel)
    dbias = None if bias is None else np.empty_like(bias)
    dx, _, _ = conv_ops.conv2d_backward(dy, cache, need_dx, dkernel, dbias)
    return cache, [y.copy(order="K"), None if dx is None else dx.copy(order="K"), dkernel, dbias]


@pytest.mark.parametrize("x_shape,kernel_shape,padding", CASES)
@pytest.mark.parametrize("need_dx", [True, False])
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("stored", ["NCHW", "CHWN"])
def test_fourier_equals_columns(x_shape, kernel_shape, padding, need_dx, with_bias, stored):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape)
    x = chwn(x) if stored == "CHWN" else x
    kernel = rng.standard_normal(kernel_shape)
    bias = rng.standard_normal(kernel_shape[0]) if with_bias else None
    dy = rng.standard_normal(conv_ops.conv2d(x, kernel, bias, 1, padding).shape)
    _, expected = forward_and_backward(x, kernel, bias, dy, padding, need_dx, "columns")
    cache, ours = forward_and_backward(x, kernel, bias, dy, padding, need_dx, "fourier")
    assert isinstance(cache, FourierCache)
    for name, got, want in zip(["y", "dx", "dkernel", "dbias"], ours, expected, strict=True):
        if want is None:
            assert got is None, name
        else:
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10, err_msg=name)
    assert is_chwn(ours[0]) and (ours[1] is None or is_chwn(ours[1]))  # the layout conv nets keep


def test_seed_cnn_second_convolution_in_float32_reusing_its_buffers():
    """The shape the path is for, in float32, two steps through one workspace: float32 precision of the
    float64 answer, and the second step's buffers are the first's."""
    rng = np.random.default_rng(1)
    x = chwn(rng.random((16, 32, 14, 14)))
    kernel = 0.1 * rng.standard_normal((64, 32, 5, 5))
    bias = np.full(64, 0.1)
    dy = chwn(rng.standard_normal((16, 64, 14, 14)))
    _, expected = forward_and_backward(x, kernel, bias, dy, "same", True, "columns")
    as_float32 = [a.astype(np.float32) for a in (x, kernel, bias, dy)]
    workspace = Workspace()
    for step in range(2):
        _, ours = forward_and_backward(*as_float32, "same", True, "fourier", workspace)
        if step == 0:
            buffers = dict(workspace._buffers)
        for name, got, want in zip(["y", "dx", "dkernel", "dbias"], ours, expected, strict=True):
            assert got.dtype == np.float32
            np.testing.assert_allclose(got, want, rtol=0, atol=2e-6 * np.abs(want).max(), err_msg=name)
    assert all(workspace._buffers[name] is buffer for name, buffer in buffers.items())


def test_auto_takes_the_fourier_path_where_it_pays():
    def pays(n, c, f, size, kernel, padding, strides=(1, 1), xp=np):
        pads = {"same": ((kernel - 1) // 2, kernel // 2) * 2, "valid": (0, 0, 0, 0)}[padding]
        out = size + pads[0] + pads[1] - kernel + 1
        return fourier_pays(xp, (n, c, size, size), (f, c, kernel, kernel), strides, pads, (out, out))

    # In brackets, the Fourier path's time over the columns' (benchmarks/RESULTS.md, bench_conv_algorithms.py)
    assert pays(128, 32, 64, 14, 5, "same")  # the seed CNN's conv2 in training (0.42)
    assert pays(50, 32, 64, 14, 5, "same")
    assert pays(128, 6, 16, 14, 5, "valid")  # LeNet-5's c3 (0.50)
    assert pays(128, 32, 64, 26, 3, "valid")  # the Keras example's conv2 (0.60)
    assert not pays(4, 32, 64, 14, 5, "same")  # a few images: hundreds of tiny products (1.51)
    assert not pays(1, 32, 64, 14, 5, "same")  # one image (3.10)
    assert not pays(128, 1, 32, 28, 5, "same")  # conv1: one input channel, little to save in the products (1.07)
    assert not pays(128, 32, 64, 14, 5, "same", strides=(2, 2))
    assert not pays(128, 32, 64, 14, 5, "same", xp=object())  # CuPy: cuBLAS's one big GEMM stays

    rng = np.random.default_rng(2)
    x = chwn(rng.random((64, 32, 14, 14), dtype=np.float32))
    kernel = rng.random((64, 32, 5, 5), dtype=np.float32)
    _, cache = conv_ops.conv2d_forward(x, kernel, None, 1, "same")
    assert isinstance(cache, FourierCache)
    _, cache = conv_ops.conv2d_forward(x[:1], kernel, None, 1, "same")
    assert not isinstance(cache, FourierCache)


def test_what_a_step_holds_is_known_and_bounded(monkeypatch):
    """``fourier_bytes`` is what a training step's workspace holds; past MAX_FOURIER_BYTES, the columns."""
    from engine.ops import conv_fourier

    rng = np.random.default_rng(3)
    x = chwn(rng.random((16, 32, 14, 14), dtype=np.float32))
    kernel = rng.random((64, 32, 5, 5), dtype=np.float32)
    workspace = Workspace()
    y, cache = conv_ops.conv2d_forward(x, kernel, None, 1, "same", workspace=workspace)
    conv_ops.conv2d_backward(y, cache, True, np.empty_like(kernel))
    assert isinstance(cache, FourierCache)
    held = sum(buffer.nbytes for buffer in workspace._buffers.values())
    assert held == conv_fourier.fourier_bytes(16, 32, 64, cache.geometry, 4)
    monkeypatch.setattr(conv_fourier, "MAX_FOURIER_BYTES", held - 1)
    _, cache = conv_ops.conv2d_forward(x, kernel, None, 1, "same")
    assert not isinstance(cache, FourierCache)


def test_the_algorithm_is_checked():
    x = np.zeros((1, 1, 5, 5))
    kernel = np.zeros((1, 1, 3, 3))
    with pytest.raises(ValueError, match="the Fourier path takes stride 1 only; received strides \\(2, 2\\)"):
        conv_ops.conv2d_forward(x, kernel, strides=2, algorithm="fourier")
    with pytest.raises(ValueError, match="algorithm must be one of auto, columns, fourier; received 'fft'"):
        conv_ops.conv2d_forward(x, kernel, algorithm="fft")
