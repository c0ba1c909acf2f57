"""The GUI process's end of the draw reader (plain Python, no Qt): it starts the reader and talks to it.

    link = ReaderLink(emit)                  # emit(kind, *payload) is called on the receiver thread
    version = link.set_network(spec, weights)
    link.request(request_id, pixels, "evidence")   # returns at once, never waits for the reader
    link.close()

Reads go out at once from the caller's thread, at most one at a time: while one is being read, a newer
request waits in a one-place slot (a newer one still replaces it), and the receiver thread sends it the
moment the answer to the previous one comes back. So answers come back in order, and a burst of strokes
collapses to its newest drawing. A read message is the ink's box cut from the pad (tens of KB), which the
connection's buffer (~200 KB for a local socket) always has room for with one read outstanding, so the
write never waits for the reader. Weights (megabytes) go out on the other connection from a sender thread
of their own, array by array from the arrays' memory, newest version only, once the previous one is in.
"""

from __future__ import annotations

import atexit
import multiprocessing
import sys
import threading
import weakref

import numpy as np

from app.draw.reader import serve
from app.draw.transfer import array_layout, send_arrays
from app.draw.worker_process import mode_from_environment, start_worker

READER_MODE_VARIABLE = "LAYERLAB_DRAW_READER"  # "process" (default) or "thread"
# One 28x28 image gains nothing from BLAS threads, and threads that spin waiting for work would take
# cores from training.
SINGLE_THREADED_BLAS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def default_mode() -> str:
    """"process", unless LAYERLAB_DRAW_READER=thread. The frozen app too: its entry point
    (packaging/frozen_main.py) calls multiprocessing.freeze_support() first, so the child it spawns (the
    app's own executable again) becomes the reader instead of opening a second window."""
    return mode_from_environment(READER_MODE_VARIABLE)


def ink_box(pixels: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """The part of ``pixels`` (H, W) holding ink, and where it starts (top, left); a copy."""
    rows = np.flatnonzero(pixels.any(axis=1))
    columns = np.flatnonzero(pixels.any(axis=0))
    if len(rows) == 0:
        return pixels[:0, :0].copy(), (0, 0)
    top, left = int(rows[0]), int(columns[0])
    return pixels[top:rows[-1] + 1, left:columns[-1] + 1].copy(), (top, left)


class ReaderLink:
    """The reader (a process, or a thread where a process cannot be had) and the two threads that serve it."""

    def __init__(self, emit, mode: str | None = None):
        self._emit = emit
        self.mode = mode or default_mode()
        self._state = threading.Condition()
        self._network = None  # (version, spec, weights): the newest, kept to resend after a restart
        self._network_unsent = False
        self._network_in_flight = False
        self._waiting_read = None  # the newest read asked for while another was being read
        self._read_in_flight = False
        self._last_read = None  # the read sent last: sent again if the reader dies before answering it
        self._version = 0
        self._design_version = 0  # the first version of the current network's design (spec)
        self._closed = False
        self._control = self._requests = None  # our ends of the two connections
        self.worker = None  # the reader's Process or Thread
        self._restarted = False
        _open_links.add(self)

    # -- the GUI's side ------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the reader now (a process takes ~0.5 s to import NumPy and the engine); reads start it too."""
        with self._state:
            if self.worker is None and not self._closed:
                self._launch()

    def set_network(self, spec: dict, weights: dict) -> int:
        """Read with ``spec``'s network holding ``weights`` (host arrays nobody mutates, e.g. a snapshot's);
        returns this network's version, which network_loaded and network_failed answers name. A new design
        is waited for by the next read; new weights for the same design are used from when the reader has
        them in (network_loaded), and readings name the version that read them."""
        with self._state:
            self._version += 1
            if self._network is None or spec is not self._network[1] and spec != self._network[1]:
                self._design_version = self._version  # a new design: reads must wait for it
            self._network = (self._version, spec, weights)
            self._network_unsent = True
            self._state.notify_all()
            return self._version

    def request(self, request_id: int, pixels: np.ndarray, method: str | None = None) -> None:
        """Read ``pixels`` (the pad, (H, W) uint8) and, with a saliency ``method``, explain the top class. For
        a colour model ``pixels`` is a ready (C, H, W) float32 image, sent whole (12 KB at 3x32x32)."""
        if pixels.ndim == 3:
            crop, origin = np.ascontiguousarray(pixels, dtype=np.float32), (0, 0)
        else:
            crop, origin = ink_box(pixels)
        with self._state:
            if self._closed:
                return
            if self.worker is None:
                self._launch()
            # New weights for the same design need not be waited for: the reader answers with the network it
            # has, names it, and says when the newer one is in (network_loaded), and the panel reads again.
            read = ("read", request_id, self._design_version, crop, origin, method)
            if self._read_in_flight:
                self._waiting_read = read
            else:
                self._send_read(read)

    def cancel(self) -> None:
        """Forget a read not yet sent (the drawing was cleared)."""
        with self._state:
            self._waiting_read = None

    def close(self, *_destroyed) -> None:
        """Stop the reader; returns at once (the sender thread waits for it to end)."""
        with self._state:
            self._closed = True
            self._state.notify_all()
        _open_links.discard(self)

    def _send_read(self, read) -> None:
        """Called holding ``_state``."""
        self._read_in_flight, self._last_read = True, read
        try:
            self._requests.send(read)
        except (OSError, ValueError):  # the reader has gone: the receiver sees it and starts another
            pass

    # -- starting the reader -------------------------------------------------------------------------
    def _launch(self) -> None:
        """Start the reader and the threads that serve it (called holding ``_state``)."""
        control, their_control = multiprocessing.Pipe()
        # Used one way, but duplex: on POSIX that is a socket pair, whose buffer (~200 KB) holds any read
        # message whole, where a one-way pipe's (64 KB) might make the GUI thread wait for the reader.
        requests, their_requests = multiprocessing.Pipe()
        worker, self.mode = start_worker(serve, (their_control, their_requests), "layerlab-draw-reader",
                                         self.mode, environment=SINGLE_THREADED_BLAS)
        self._control, self._requests, self.worker = control, requests, worker
        self._network_in_flight = self._read_in_flight = False
        self._network_unsent = self._network is not None
        threading.Thread(target=self._send_networks, args=(control, worker), name="layerlab-draw-sender",
                         daemon=True).start()
        threading.Thread(target=self._receive, args=(control,), name="layerlab-draw-receiver", daemon=True).start()

    # -- the sender thread: networks -----------------------------------------------------------------
    def _next_network(self, control):
        """Wait for a network to send on ``control``: (version, spec, weights), or None to stop."""
        with self._state:
            while True:
                if self._closed or control is not self._control:
                    return None
                if self._network_unsent and not self._network_in_flight:
                    self._network_unsent, self._network_in_flight = False, True
                    return self._network
                self._state.wait()

    def _send_networks(self, control, worker) -> None:
        try:
            while (network := self._next_network(control)) is not None:
                version, spec, weights = network
                control.send(("network", version, spec, array_layout(weights)))
                send_arrays(control, weights)  # from the arrays' memory, the GIL released
            control.send(None)
        except (OSError, ValueError):  # the reader has gone; the receiver says so
            return
        if isinstance(worker, multiprocessing.process.BaseProcess):
            worker.join(5)
            if worker.is_alive():
                worker.terminate()

    # -- the receiver thread: answers ----------------------------------------------------------------
    def _receive(self, control) -> None:
        while True:
            try:
                message = control.recv()
            except (EOFError, OSError):
                self._reader_ended(control)
                return
            kind = message[0]
            with self._state:
                if kind in ("reading", "read_failed"):
                    self._read_in_flight = False
                    if self._waiting_read is not None and not self._closed:
                        read, self._waiting_read = self._waiting_read, None
                        self._send_read(read)  # at once: the reader is idle now
                elif kind in ("network_loaded", "network_failed"):
                    self._network_in_flight = False
                    self._state.notify_all()
            try:
                self._emit(*message)
            except RuntimeError:  # the Qt object behind ``emit`` was deleted with its panel
                self.close()
                return

    def _reader_ended(self, control) -> None:
        """The reader's end closed: fine when we stopped it; otherwise it died (e.g. it could not start in
        this environment), so go on with a reader thread, once, resending the weights and the last read."""
        with self._state:
            if self._closed or control is not self._control or sys.is_finalizing():
                return
            if self.mode == "process" and not self._restarted:
                self._restarted = True
                self.mode = "thread"
                retry = self._last_read if self._read_in_flight else None
                self._launch()
                if self._waiting_read is None and retry is not None:
                    self._waiting_read = retry
                if self._waiting_read is not None:
                    read, self._waiting_read = self._waiting_read, None
                    self._send_read(read)
                self._state.notify_all()
                return
            self._closed = True
        try:
            self._emit("read_failed", -1, "the drawing reader stopped")
        except RuntimeError:
            pass


_open_links: weakref.WeakSet[ReaderLink] = weakref.WeakSet()


@atexit.register
def _close_open_links() -> None:
    """Mark every reader closed before multiprocessing's own exit handler (registered earlier, so run later)
    terminates the reader processes: their end is then expected, not a death to recover from."""
    for link in list(_open_links):
        link.close()
