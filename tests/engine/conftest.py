"""Engine tests run on every available backend: NumPy always, CuPy when it finds a GPU.

``LAYERLAB_BACKEND=cupy pytest tests/engine`` makes CuPy the default backend as well.
"""

import numpy as np
import pytest

from engine import backend

_cupy_usable, _cupy_reason = backend.cupy_status()
BACKENDS = ["numpy", "cupy"]


@pytest.fixture(params=BACKENDS)
def xp(request):
    """The array module under test; selects it as the engine backend for the test's duration."""
    if request.param == "cupy" and not _cupy_usable:
        pytest.skip(f"CuPy backend unavailable: {_cupy_reason}")
    previous = backend.current()
    module = backend.set_backend(request.param)
    yield module
    backend.set_backend(backend.backend_name(previous))


def to_numpy(array):
    return backend.to_host(array) if array is not None else None


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def fourier_everywhere(monkeypatch):
    """Every stride-1 convolution takes the Fourier path (``engine.ops.conv_fourier``), which 'auto' picks
    only where it pays: big batches with many channels."""
    from engine.ops import conv_fourier

    def stride_1(xp, x_shape, kernel_shape, strides, *rest):
        return tuple(strides) == (1, 1)

    monkeypatch.setattr(conv_fourier, "fourier_pays", stride_1)
