"""NumPy arrays over a ``multiprocessing`` connection without pickling them: a layout, then each array's bytes.

    send_arrays(connection, arrays)                                 # after a message carrying array_layout(arrays)
    arrays = receive_arrays(connection, layout)                     # {"conv1.kernel": array, ...}

The layout travels in the message that announces the arrays; the bytes follow it. On POSIX they are written
from the arrays' memory and read straight into fresh arrays with plain system calls on the connection's
socket, which hold Python's GIL for no more than a call's set-up: the app's GUI thread must not wait while
megabytes of weights move (``Connection.recv_bytes_into`` reads into a buffer and copies it, holding the GIL
for milliseconds). Elsewhere (Windows pipes have no such file descriptor) the connection's own
``send_bytes``/``recv_bytes_into`` do it. Used between the app and the draw reader's process (app/draw/reader.py).
"""

from __future__ import annotations

import os

import numpy as np

_RAW = hasattr(os, "readv")  # POSIX: both ends use the same way, as they run on the same system


def array_layout(arrays: dict) -> list[tuple[str, tuple, str]]:
    return [(name, tuple(np.shape(array)), np.asarray(array).dtype.str) for name, array in arrays.items()]


def send_arrays(connection, arrays: dict) -> None:
    """Each array's bytes, in the order of ``array_layout(arrays)``."""
    for array in arrays.values():
        data = np.ascontiguousarray(array)
        if _RAW:
            _write_all(connection.fileno(), memoryview(data.reshape(-1)).cast("B"))
        else:
            connection.send_bytes(data)


def receive_arrays(connection, layout) -> dict[str, np.ndarray]:
    arrays = {}
    for name, shape, dtype in layout:
        array = np.empty(shape, dtype=np.dtype(dtype))
        if _RAW:
            _read_exactly(connection.fileno(), memoryview(array.reshape(-1)).cast("B"))
        elif array.size:
            connection.recv_bytes_into(array.reshape(-1))  # flat: a memoryview's len() is its first axis only
        else:
            connection.recv_bytes()
        arrays[name] = array
    return arrays


def _write_all(descriptor: int, view: memoryview) -> None:
    while len(view):
        written = os.write(descriptor, view)  # the GIL is released while the call waits
        view = view[written:]


def _read_exactly(descriptor: int, view: memoryview) -> None:
    while len(view):
        read = os.readv(descriptor, [view])  # straight into the array, the GIL released
        if read == 0:
            raise EOFError("the connection closed in the middle of an array")
        view = view[read:]
