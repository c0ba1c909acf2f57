"""The GUI's end of the draw reader: the drawing is read in a process of its own, never on the GUI thread.

    client = ReaderClient(parent)
    client.reading_arrived.connect(show_bars)          # Reading, on the GUI thread, in request order
    client.saliency_arrived.connect(show_heat)         # Saliency, after its Reading
    client.network_failed.connect(disable)             # (version, why)
    client.network_loaded.connect(read_again)          # version: readings of older weights may be redone
    version = client.set_network(spec, weights)        # e.g. each training snapshot
    client.request(request_id, pad_pixels, "evidence") # returns at once; a newer request replaces an unsent one
    client.request(request_id, image_chw, None)        # a colour model: a ready (C, H, W) float32 image
    client.close()                                     # also when ``parent`` is destroyed

The plumbing (the reader process, its connections and threads) is app/draw/reader_link.py; this is its Qt
face: answers arrive on a receiver thread and leave it as signals, which Qt queues to the GUI thread.

Why a process. On a 2-core machine, while the seed CNN trains in the app's process, one drawing's forward
pass on another thread of that process measured p50 8 ms / p99 99 ms: it waits for OpenBLAS (which runs
multi-threaded GEMMs from two threads one at a time), for the engine's shared thread pool and for the
GIL. The same pass in a process of its own, with single-threaded BLAS (one 28x28 image gains nothing from
threads): p50 4 ms / p99 15 ms (both measured without Qt, 300 passes 16 ms apart). Where a process cannot
be started (LAYERLAB_DRAW_READER=thread, a system that refuses, or one that dies) the same reader runs on a
thread of this process instead: slower while training, but the GUI thread still never waits for it.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.draw.reader_link import READER_MODE_VARIABLE, ReaderLink, default_mode

__all__ = ["READER_MODE_VARIABLE", "ReaderClient", "default_mode"]


class ReaderClient(QObject):
    reading_arrived = Signal(object)  # app.draw.reader.Reading
    saliency_arrived = Signal(object)  # app.draw.reader.Saliency
    read_failed = Signal(int, str)  # request id (-1: the reader stopped), why
    network_failed = Signal(int, str)  # version, why
    network_loaded = Signal(int)  # version: readings from now on use it (or a newer one)

    def __init__(self, parent: QObject | None = None, mode: str | None = None):
        super().__init__(parent)
        self.link = ReaderLink(self._emit, mode)
        if parent is not None:
            # The link's own method, not this object's: Qt deletes this object with its parent.
            parent.destroyed.connect(self.link.close)

    def _emit(self, kind: str, *payload) -> None:
        """Called on the receiver thread; the signals queue the answer to the GUI thread."""
        signal = {"reading": self.reading_arrived, "saliency": self.saliency_arrived,
                  "read_failed": self.read_failed, "network_failed": self.network_failed,
                  "network_loaded": self.network_loaded}.get(kind)
        if signal is not None:
            signal.emit(*payload)

    @property
    def mode(self) -> str:
        return self.link.mode

    def start(self) -> None:
        self.link.start()

    def set_network(self, spec: dict, weights: dict) -> int:
        return self.link.set_network(spec, weights)

    def request(self, request_id: int, pixels: np.ndarray, method: str | None = None) -> None:
        self.link.request(request_id, pixels, method)

    def cancel(self) -> None:
        self.link.cancel()

    def close(self) -> None:
        self.link.close()
