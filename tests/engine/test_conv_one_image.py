"""One image through a stride-1 convolution takes its own path (image-long column rows); it must give
exactly what the batch path gives, in the same memory layout."""

import numpy as np
import pytest

from engine.ops import conv as conv_ops
from engine.ops.layout import is_chwn
from engine.ops.workspace import Workspace


@pytest.mark.parametrize("channels,size,kernel,padding", [
    (1, (28, 28), 5, "same"),  # the seed CNN's first convolution
    (3, (9, 7), 3, "valid"),
    (2, (6, 5), (3, 2), 1),
    (4, (5, 5), 1, "valid"),
    (2, (7, 6), 4, "same"),  # an even kernel: TensorFlow's 'same' pads one more at the bottom and right
])
@pytest.mark.parametrize("with_bias", [True, False])
def test_one_image_matches_the_batch_path(monkeypatch, channels, size, kernel, padding, with_bias):
    rng = np.random.default_rng(0)
    batch = rng.standard_normal((2, channels) + size).astype(np.float32)
    weights = rng.standard_normal((5, channels) + ((kernel, kernel) if isinstance(kernel, int) else kernel))
    weights = weights.astype(np.float32)
    bias = rng.standard_normal(5).astype(np.float32) if with_bias else None
    taken = []
    real = conv_ops.forward_one_image
    monkeypatch.setattr(conv_ops, "forward_one_image", lambda *args: taken.append(1) or real(*args))

    from_batch = conv_ops.conv2d(batch, weights, bias, 1, padding)[:1]
    assert not taken
    workspace = Workspace()
    for _ in range(2):  # the second call reuses the workspace's columns
        one, cache = conv_ops.conv2d_forward(batch[:1], weights, bias, 1, padding, workspace=workspace)
        np.testing.assert_allclose(one, from_batch, rtol=1e-5, atol=1e-5)
        assert is_chwn(one) and cache.cols is None
    assert len(taken) == 2


def test_one_image_gradients_match_the_batch_path():
    """Backward after the one-image forward gathers its columns again from the kept input."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 8, 7))
    kernel, bias = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    dy = rng.standard_normal((2, 4, 8, 7))
    results = []
    for images in (x[:1], x):
        _, cache = conv_ops.conv2d_forward(images, kernel, bias, 1, "same")
        dx, dkernel, dbias = conv_ops.conv2d_backward(dy[:len(images)], cache)
        results.append((dx[:1], dkernel, dbias))
    _, cache = conv_ops.conv2d_forward(x[1:], kernel, bias, 1, "same")
    dx_second, dkernel_second, dbias_second = conv_ops.conv2d_backward(dy[1:], cache)
    (dx_one, dkernel_one, dbias_one), (dx_two, dkernel_two, dbias_two) = results
    np.testing.assert_allclose(dx_one, dx_two[:1], rtol=1e-10)
    np.testing.assert_allclose(dkernel_one + dkernel_second, dkernel_two, rtol=1e-10)
    np.testing.assert_allclose(dbias_one + dbias_second, dbias_two, rtol=1e-10)


def test_a_large_image_and_strided_convolutions_keep_the_chunked_path(monkeypatch):
    taken = []
    monkeypatch.setattr(conv_ops, "forward_one_image", lambda *args: taken.append(1))
    rng = np.random.default_rng(2)
    conv_ops.conv2d(rng.standard_normal((1, 2, 9, 9)), rng.standard_normal((3, 2, 3, 3)), None, 2, "same")
    big = (1, 8, 200, 200)  # its image-long columns would be 11 MB: past CHUNK_BYTES, so it is cut into chunks
    conv_ops.conv2d(np.zeros(big, np.float32), np.zeros((2, 8, 3, 3), np.float32), None, 1, "same")
    assert not taken


def test_a_strided_view_of_any_array_matches_as_strided():
    from engine.ops.layout import strided_view

    memory = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    for array in (memory, memory[:, ::2]):  # contiguous (the fast path), then not
        expected = np.lib.stride_tricks.as_strided(array, shape=(3, 2, 3), strides=array.strides[:2] + (4,))
        np.testing.assert_array_equal(strided_view(array, (3, 2, 3), array.strides[:2] + (4,)), expected)
