"""The one array-module seam: everything in the engine computes with ``xp``, NumPy or CuPy.

The backend is chosen here and nowhere else. ``LAYERLAB_BACKEND`` picks it at import time:
``numpy`` (the default), ``cupy`` (fails clearly when CuPy or a GPU is missing) or ``auto``
(CuPy when it finds a GPU, NumPy otherwise). ``set_backend`` changes it at run time; networks
built afterwards allocate on the new backend.

Arrays cross between host and device only at the edges, through ``to_host`` / ``to_device``.
"""

from __future__ import annotations

import os
from types import ModuleType

import numpy as np

BACKEND_ENV = "LAYERLAB_BACKEND"
_current: ModuleType = np


class BackendError(RuntimeError):
    """The requested backend cannot be used on this machine."""


def cupy_status() -> tuple[bool, str]:
    """(usable, reason): whether CuPy imports and sees at least one CUDA device."""
    try:
        import cupy
    except Exception as exc:  # ImportError, or a CUDA library that fails to load
        return False, f"CuPy is not installed ({exc}); pip install 'layerlab[gpu]'"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        return False, f"CuPy found no usable CUDA device ({exc})"
    if count < 1:
        return False, "CuPy found no CUDA device"
    return True, f"CuPy {cupy.__version__} with {count} CUDA device(s)"


def set_backend(name: str) -> ModuleType:
    """Select ``numpy``, ``cupy`` or ``auto``; returns the array module now in use."""
    global _current
    name = (name or "numpy").strip().lower()
    if name == "numpy":
        _current = np
    elif name in ("cupy", "auto"):
        usable, reason = cupy_status()
        if usable:
            import cupy

            _current = cupy
        elif name == "cupy":
            raise BackendError(f"{BACKEND_ENV}=cupy was asked for, but {reason}")
        else:
            _current = np
    else:
        raise BackendError(f"unknown backend {name!r}; expected 'numpy', 'cupy' or 'auto'")
    return _current


def current() -> ModuleType:
    """The array module new networks allocate on."""
    return _current


def backend_name(xp: ModuleType | None = None) -> str:
    return "cupy" if (xp or _current).__name__ == "cupy" else "numpy"


def array_module(array) -> ModuleType:
    """NumPy or CuPy, whichever owns ``array`` (Chainer's ``get_array_module``)."""
    module = type(array).__module__
    if module.startswith("cupy"):
        import cupy

        return cupy
    return np


def to_host(array) -> np.ndarray:
    """A C-ordered NumPy copy of ``array`` that nothing else mutates (safe to hand to another thread, to send
    or to save as it is: a Dense kernel, stored transposed, comes back in its logical order)."""
    if type(array).__module__.startswith("cupy"):
        return array.get(order="C")
    return np.array(array, copy=True, order="C")


def to_device(array, xp: ModuleType | None = None):
    """``array`` on the given (default: current) backend, without a copy when it already lives there."""
    xp = xp or _current
    if xp is np:
        return to_host(array) if type(array).__module__.startswith("cupy") else np.asarray(array)
    return xp.asarray(array)


set_backend(os.environ.get(BACKEND_ENV, "numpy"))
