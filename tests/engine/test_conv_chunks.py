"""Large convolutions on the CPU run in chunks of output positions; the result must not depend on the cut."""

import numpy as np
import pytest

from engine.ops import conv as conv_ops
from engine.ops import dispatch
from engine.ops.layout import empty_chwn
from engine.ops.workspace import Workspace


def chwn(values):
    """``values`` (logical NCHW) stored as CHWN, as conv nets keep their activations."""
    stored = empty_chwn(np, values.shape, values.dtype)
    stored[...] = values
    return stored


def run(x, kernel, bias, dy, strides, padding, need_dx, workspace):
    y, cache = conv_ops.conv2d_forward(x, kernel, bias, strides, padding, workspace=workspace)
    dkernel, dbias = np.empty_like(kernel), np.empty_like(bias)
    dx, _, _ = conv_ops.conv2d_backward(dy, cache, need_dx, dkernel, dbias)
    return y.copy(), None if dx is None else dx.copy(), dkernel, dbias, len(cache.chunks)


@pytest.mark.parametrize("strides,padding", [(1, "same"), (2, "same"), ((2, 1), "valid")])
@pytest.mark.parametrize("need_dx", [True, False])
@pytest.mark.parametrize("positions", ["two rows", 3, 1])
def test_chunked_equals_whole(monkeypatch, strides, padding, need_dx, positions):
    rng = np.random.default_rng(0)
    x = chwn(rng.standard_normal((6, 3, 11, 9)).astype(np.float32))
    kernel = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    bias = rng.standard_normal(4).astype(np.float32)
    y_shape = conv_ops.conv2d(x, kernel, bias, strides, padding).shape
    dy = chwn(rng.standard_normal(y_shape).astype(np.float32))

    whole = run(x, kernel, bias, dy, strides, padding, need_dx, None)
    assert whole[-1] == 1
    if positions == "two rows":  # and an odd one last
        positions = 2 * y_shape[3]
    bytes_per_position = 3 * 3 * 3 * 6 * 4
    monkeypatch.setattr(dispatch, "CHUNK_BYTES", positions * bytes_per_position)
    workspace = Workspace()
    for _ in range(2):  # the second step reuses the first one's buffers
        chunked = run(x, kernel, bias, dy, strides, padding, need_dx, workspace)
        assert chunked[-1] == len(conv_ops.chunks_of_outputs(np, y_shape[2:], bytes_per_position)) > 2
        for ours, reference in zip(chunked[:-1], whole[:-1], strict=True):
            if reference is None:
                assert ours is None
            else:
                np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-5)


def test_chunks_fit_the_cache():
    chunks = conv_ops.chunks_of_outputs
    assert chunks(np, (14, 14), 800 * 4) == [(0, 14, 0, 14)]  # one seed-CNN image: one chunk, BLAS's threads
    batch_50 = chunks(np, (14, 14), 800 * 50 * 4)  # 19 positions fit: a row each (14 rows of 14)
    assert batch_50 == [(row, row + 1, 0, 14) for row in range(14)]
    batch_128 = chunks(np, (14, 14), 800 * 128 * 4)  # 7 positions fit: half a row each
    assert len(batch_128) == 28 and batch_128[:2] == [(0, 1, 0, 7), (0, 1, 7, 14)]
    assert chunks(np, (28, 28), 25 * 50 * 4) == [(0, 14, 0, 28), (14, 28, 0, 28)]  # even parts, not 22 + 6
    assert chunks(object(), (14, 14), 800 * 128 * 4) == [(0, 14, 0, 14)]  # CuPy: the GPU wants one big GEMM


def test_inference_keeps_only_small_column_buffers_between_calls():
    """A few images reuse one small column buffer from call to call (fresh pages cost more than the product);
    a big inference batch keeps nothing once it is done; both give the same answer as training's path.
    (One image takes the network's one-image plan, with buffers of its own: tests/engine/test_one_image.py.)"""
    import engine
    from tests.engine.specs import seed_cnn

    network = engine.Network(seed_cnn(), seed=0, xp=np)
    conv2 = network.layers["conv2"]
    rng = np.random.default_rng(0)
    few = rng.random((2, 1, 28, 28), dtype=np.float32)
    first = network.forward(few)
    held = {name: buffer for name, buffer in conv2._inference_workspace._buffers.items()}
    assert held and all(buffer.nbytes <= dispatch.CHUNK_BYTES for buffer in held.values())
    np.testing.assert_array_equal(network.forward(few), first)
    assert all(conv2._inference_workspace._buffers[name] is buffer for name, buffer in held.items())  # reused
    many = rng.random((64, 1, 28, 28), dtype=np.float32)  # 40 MB of conv2 columns
    assert dispatch.columns_bytes(many.shape, (64, 32, 5, 5), 1, "same", 4) > dispatch.CHUNK_BYTES
    batch = network.forward(many)
    assert all(buffer.nbytes <= dispatch.CHUNK_BYTES for buffer in conv2._inference_workspace._buffers.values())
    np.testing.assert_allclose(network.forward(many[:1]), batch[:1], rtol=1e-5, atol=1e-5)
