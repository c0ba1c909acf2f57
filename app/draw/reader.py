"""Reading drawings: preprocessing, the network's forward pass and saliency (NumPy and engine only, no Qt).

``serve(control, requests)`` runs in a process of its own (see app/draw/reader_client.py for why), fed
by the GUI process over two ``multiprocessing`` connections:

    control, GUI -> reader   ("network", version, spec, [(name, shape, dtype), ...]), then each array's
                             bytes (app/draw/transfer.py); None: stop
    requests, GUI -> reader  ("read", request_id, oldest_version, pixels, origin, method): oldest_version,
                             the oldest network it may be read with; pixels, the ink's box cut from the pad
                             ((H, W) uint8) at origin (top, left), or for a colour model a ready image
                             ((C, H, W) float32 in [0, 1], origin (0, 0)), read as it is; method, a key of
                             SALIENCY_METHODS or None
    control, reader -> GUI   ("network_loaded", version) or ("network_failed", version, why);
                             ("reading", Reading: it names the network version that read it) or
                             ("read_failed", request_id, why), then for a read with
                             a method ("saliency", Saliency)

Two connections so the GUI thread can write a read itself, at once, while a thread of its own may be
in the middle of writing megabytes of weights on the other. Readings are answered in order, one per read.
A saliency map costs a backward pass (~3x the forward pass), so it is skipped (``Saliency.heat`` None)
when a newer read comes within SALIENCY_SETTLE_S of the reading: the bars of the drawing as it is now
matter more than the map of a drawing already gone, so while the pen moves the map waits for a pause.
"""

from __future__ import annotations

import multiprocessing.connection
import signal
import threading
import time
from dataclasses import dataclass

import numpy as np

import engine
from app.draw.preprocess import MNIST_BOX, MNIST_FIELD, Placement, mnist_placed
from app.draw.saliency import GradCamTail, evidence, grad_cam, input_gradient, sensitivity
from app.draw.transfer import receive_arrays

# A map costs a backward pass (~3x the forward), which a read arriving meanwhile would wait for: while the
# pen moves (a new drawing every frame) maps wait until it pauses this long, so the bars never wait for them.
SALIENCY_SETTLE_S = 0.025
SALIENCY_METHODS = {  # key: (short label, what it shows)
    "evidence": ("Evidence", "Gradient x ink: the ink that raises the top guess's score"),
    "gradient": ("Gradient", "|d score / d pixel|: where a change of ink would move the top guess's score most"),
    "grad_cam": ("Grad-CAM", "Grad-CAM on the last convolution layer: where the features behind the top guess are"),
}


@dataclass(frozen=True)
class Reading:
    request_id: int
    digit: np.ndarray  # (field, field) float32 in [0, 1]: what the network read; (C, H, W) for a colour image
    probabilities: np.ndarray  # one per class
    placement: Placement | None  # where the digit's square lies on the pad
    reader_seconds: float = 0.0  # preprocessing and forward pass, in the reader (benchmarks split latency by it)
    network_version: int = 0  # the network that read it (ReaderLink.set_network's number)
    # A network trained to give its input back (an autoencoder): its output, shaped as ``digit``, and no
    # probabilities (an empty array). None for a classifier.
    reconstruction: np.ndarray | None = None


@dataclass(frozen=True)
class Saliency:
    request_id: int  # the read it explains
    method: str
    class_index: int
    heat: np.ndarray | None  # (field, field) or (H, W) float32 in [0, 1]; None: skipped for a newer read, or none
    why_missing: str = ""
    remark: str = ""  # about a map that is shown, e.g. another method's, when the one asked for had no signal


GRAD_CAM_FALLBACK = ("Grad-CAM found nothing here: in every place, {layer}'s feature maps, weighted by how they move "
                     "the top score, add up below zero. Shown instead: Evidence, the ink that raises the score.")


MIN_FLAT_SIDE = 8  # the smallest square a flat input is read as a drawing of (64 values)


def digit_field(input_shape: tuple) -> tuple[int | None, str]:
    """The square field a network with ``input_shape`` reads a drawing as, or (None, why it cannot).

    >>> digit_field((1, 28, 28))
    (28, '')
    """
    shape = tuple(int(size) for size in input_shape)
    if len(shape) == 3 and shape[0] == 1 and shape[1] == shape[2]:
        return shape[1], ""
    side = round(shape[0] ** 0.5) if len(shape) == 1 else 0
    # A flattened square image (an MLP); a few values (toy:sine's one input: "1x1") are not a picture.
    if side >= MIN_FLAT_SIDE and side * side == shape[0]:
        return side, ""
    received = "x".join(map(str, shape))
    if len(shape) == 3 and shape[0] not in (1, 3):
        return None, (f"Drawing is disabled: this network reads {shape[0]}-channel images ({received}); "
                      "a drawing has one channel.")
    return None, (f"Drawing is disabled: this network's input is {received}; a drawing needs a square "
                  "single-channel image (1xNxN, e.g. 1x28x28) or a flattened one (N*N values, N at least "
                  f"{MIN_FLAT_SIDE}).")


def colour_shape(input_shape: tuple) -> tuple[int, int, int] | None:
    """(3, H, W) for a network reading colour images (it reads a dropped or pasted picture, not a drawing),
    else None.

    >>> colour_shape((3, 32, 32)), colour_shape((1, 28, 28))
    ((3, 32, 32), None)
    """
    shape = tuple(int(size) for size in input_shape)
    return shape if len(shape) == 3 and shape[0] == 3 and min(shape) > 0 else None


def per_pixel(heat: np.ndarray) -> np.ndarray:
    """A map over a colour image's channels, (C, H, W), as one value per pixel (their sum); a grey map as is."""
    return heat.sum(axis=0) if heat.ndim == 3 else heat


class DigitReader:
    """One network reading drawings: ``load`` a spec and weights, ``read`` pixels, then ``saliency``."""

    def __init__(self):
        self.network: engine.Network | None = None
        self.spec: dict | None = None
        self.field = MNIST_FIELD
        self._tail: GradCamTail | None = None
        self._tail_built = False
        self._weights: dict = {}
        self._last: tuple | None = None  # (digit, class index, all outputs or None) of the latest read
        self.reconstruction: np.ndarray | None = None  # an autoencoder's output for the latest read

    def load(self, spec: dict, weights: dict) -> None:
        """Read with ``spec``'s network holding ``weights``; rebuilt only when the spec changes."""
        if self.network is None or spec != self.spec:
            network = engine.Network(spec, xp=np)
            field, why = digit_field(network.input_shape)
            if field is None and colour_shape(network.input_shape) is None:
                raise ValueError(why)
            self.network, self.spec, self.field = network, spec, field
            self._tail, self._tail_built = None, False
        self.network.load_state_dict(weights)
        self._weights = weights
        if self._tail is not None:
            self._tail.load_weights(weights)
        self._last = None

    def read(self, pixels: np.ndarray, method: str | None = None) -> tuple[np.ndarray, np.ndarray, Placement | None]:
        """(digit, probabilities, placement) for the pad's ``pixels``; with a saliency ``method``, keeps what
        ``saliency`` needs. A blank pad reads as all-zero probabilities. A colour model's ``pixels`` are a
        ready (C, H, W) image: read as they are, without the digit's preprocessing, placed over the whole pad.
        A network that reconstructs its input has no probabilities (an empty array): its output, shaped as the
        digit, is kept in ``reconstruction`` (None after any other read)."""
        network = self.network
        if pixels.ndim == 3:
            digit, placement = np.asarray(pixels, dtype=np.float32), Placement(0.0, 0.0, float(pixels.shape[-1]))
        else:
            digit, placement = mnist_placed(pixels, field=self.field, box=round(self.field * MNIST_BOX / MNIST_FIELD))
        head = network.output_head
        self.reconstruction = None
        if placement is None:
            self._last = None
            return digit, np.zeros(0 if head.reconstructs else head.classes, dtype=np.float32), None
        x = digit.reshape((1, *network.input_shape))
        if head.reconstructs:  # nothing to explain: there is no class (the panel asks for no map)
            self._last = None
            output = np.asarray(network.forward(x, training=False), dtype=np.float32)
            self.reconstruction = output.reshape(digit.shape)  # as many values as the input (the engine's rule)
            return digit, np.zeros(0, dtype=np.float32), placement
        # A map explains the score before a final softmax or sigmoid: near a confident answer the probability's
        # gradient vanishes everywhere (saliency.input_gradient). The layer's own activation then gives its output.
        scores_only = method is not None and head.fused
        outputs = network.forward(x, training=False, keep_for_backward=method is not None,
                                  return_all=method == "grad_cam", pre_activation=scores_only)
        output = outputs[network.output_id] if isinstance(outputs, dict) else outputs
        output = head.outputs(np.asarray(output, dtype=np.float64)) if scores_only else output
        probabilities = head.probabilities(np.asarray(output, dtype=np.float64))[0].astype(np.float32)
        self._last = (digit, int(probabilities.argmax()), outputs if isinstance(outputs, dict) else None)
        return digit, probabilities, placement

    def saliency(self, method: str) -> tuple[np.ndarray | None, str]:
        """The ``method``'s map for the latest read's top class, normalised to [0, 1], and a remark: why there is
        no map (heat None), or, when Grad-CAM has no signal, that the map is Evidence's instead."""
        if self._last is None:
            return None, "nothing drawn"
        digit, class_index, outputs = self._last
        self._last = None  # backward consumes what the forward pass kept
        if method == "grad_cam":
            tail = self._grad_cam_tail()
            if tail is None or outputs is None:
                return None, "Grad-CAM needs a Conv2D layer whose output alone leads to the scores"
            feature_maps = np.asarray(outputs[tail.layer_id][0])
            heat = grad_cam(tail, feature_maps, class_index, digit.shape[-2:])
            if heat.any():
                return heat, ""
            # Every place's weighted sum of maps is below zero: Grad-CAM's ReLU leaves nothing (on MNIST's test
            # set, with the bundled model, for 0-93% of a digit's examples). Evidence reads the same pass.
            gradient = input_gradient(self.network, class_index).reshape(digit.shape)
            remark = GRAD_CAM_FALLBACK.format(layer=tail.layer_id)
            if digit.ndim == 3:  # a picture has colours, not ink
                remark = remark.replace("the ink that raises", "the colours that raise")
            return evidence(per_pixel(gradient * digit), 1.0), remark
        gradient = input_gradient(self.network, class_index).reshape(digit.shape)
        # A colour image's map is one value per pixel: gradient x input summed over R, G and B (the evidence
        # its colours bring), or the largest |gradient| of the three (Simonyan et al.'s choice).
        if method == "evidence":
            return evidence(per_pixel(gradient * digit), 1.0), ""
        return sensitivity(np.abs(gradient).max(axis=0) if gradient.ndim == 3 else gradient), ""

    def _grad_cam_tail(self) -> GradCamTail | None:
        if not self._tail_built:
            self._tail_built = True
            self._tail = GradCamTail.for_network(self.network)
        return self._tail


def serve(control, requests) -> None:
    """Answer the GUI until it sends None on ``control`` or closes it: networks come on ``control``, reads on
    ``requests``, and every answer goes back on ``control``.

    A read names the oldest network version it may be read with (the first of the network's current design:
    new weights for the same design need not be waited for). Networks are taken in by a thread of their own
    while reads go on with the network already loaded, and the newest one that has come in is swapped in
    before the next read: taking in a snapshot's 13 MB took 11-19 ms while training, and a reading that
    waited for it was the slowest 2-3% (benchmarks/RESULTS.md, "Draw")."""
    if threading.current_thread() is threading.main_thread():  # a process of its own
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in a terminal is for the app, which stops us
    reader = DigitReader()
    inbox = NetworkInbox(control)
    try:
        while True:
            ready = multiprocessing.connection.wait([requests, inbox.arrived])
            if not inbox.apply_newest(reader):
                return
            if requests not in ready and not requests.poll():
                continue
            request_id, oldest_version, pixels, origin, method = requests.recv()[1:]
            while inbox.applied < oldest_version:  # its network is still on its way
                multiprocessing.connection.wait([inbox.arrived])
                if not inbox.apply_newest(reader):
                    return
            _read(control, requests, reader, request_id, pixels, origin, method, inbox.applied)
    except (EOFError, OSError):  # the GUI process has gone
        return


class NetworkInbox:
    """Takes networks in from ``control`` on a thread of its own; the newest one waits to be applied."""

    def __init__(self, control):
        self.control = control
        self.applied = 0  # the version of the network last applied (or that failed to)
        self._pending = None  # (version, spec, weights): the newest network in, not yet applied
        self._open = True  # False once the GUI said stop or went away
        self._lock = threading.Lock()
        self.arrived, self._signal = multiprocessing.Pipe(duplex=False)  # a byte per network in (or the end)
        threading.Thread(target=self._take_in, name="layerlab-draw-networks", daemon=True).start()

    def _take_in(self) -> None:
        try:
            while (message := self.control.recv()) is not None:
                _, version, spec, layout = message
                weights = receive_arrays(self.control, layout)  # straight into fresh arrays, the GIL released
                with self._lock:
                    self._pending = (version, spec, weights)
                self._signal.send_bytes(b"n")
        except (EOFError, OSError):
            pass
        with self._lock:
            self._open = False
        self._signal.send_bytes(b"e")

    def apply_newest(self, reader: DigitReader) -> bool:
        """Load the newest network that has come in, if any, and say so to the GUI; False once stopped."""
        while self.arrived.poll():
            self.arrived.recv_bytes()
        with self._lock:
            pending, self._pending, still_open = self._pending, None, self._open
        if pending is not None:
            version, spec, weights = pending
            try:
                reader.load(spec, weights)
            except (engine.SpecError, ValueError) as exc:
                reader.network = None
                self.control.send(("network_failed", version, str(exc)))
            else:
                self.control.send(("network_loaded", version))
            self.applied = version
        return still_open


def _read(control, requests, reader: DigitReader, request_id: int, pixels: np.ndarray, origin: tuple,
          method: str | None, network_version: int) -> None:
    if reader.network is None:  # no usable network: the GUI has said why already
        control.send(("read_failed", request_id, "no network to read with"))
        return
    started = time.perf_counter()
    try:
        digit, probabilities, placement = reader.read(pixels, method)
    except Exception as exc:  # reported in the panel; the reader goes on serving
        control.send(("read_failed", request_id, engine.describe_error(exc)))
        return
    if placement is not None:  # the pixels were the ink's box, cut from the pad at ``origin`` (top, left)
        placement = Placement(placement.left + origin[1], placement.top + origin[0], placement.side)
    control.send(("reading", Reading(request_id, digit, probabilities, placement, time.perf_counter() - started,
                                     network_version, reader.reconstruction)))
    if method is None or reader.reconstruction is not None:
        return
    class_index = int(probabilities.argmax())
    if requests.poll(SALIENCY_SETTLE_S):  # a newer drawing came meanwhile: read it first
        heat, why = None, "skipped for a newer drawing"
    else:
        heat, why = reader.saliency(method)
    remark = why if heat is not None else ""
    control.send(("saliency", Saliency(request_id, method, class_index, heat, "" if remark else why, remark)))
