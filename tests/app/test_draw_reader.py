"""The draw reader (app/draw/reader*.py): readings come back in order, bursts collapse to the newest drawing,
saliency gives way to a newer drawing, and a reader process that dies is replaced by a thread."""

import multiprocessing
import threading

import numpy as np
import pytest

import engine
import resources
from app.draw import reader as reader_module
from app.draw import reader_link
from app.draw.panel import BUNDLED_MODEL
from app.draw.reader import serve
from app.draw.reader_client import ReaderClient
from app.draw.reader_link import READER_MODE_VARIABLE, default_mode, ink_box
from app.draw.transfer import array_layout, send_arrays

TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def bundled():
    model = engine.load(resources.path(BUNDLED_MODEL))
    return model.spec, model.state_dict()


def ring_pixels(radius=70):
    rows, columns = np.mgrid[:280, :280]
    distance = np.hypot(rows - 140, columns - 140)
    return ((distance > radius - 10) & (distance < radius + 10)).astype(np.uint8) * 255


@pytest.fixture(params=["process", "thread"])
def client(request, qtbot):
    client = ReaderClient(mode=request.param)
    yield client
    client.close()


def test_readings_come_back_in_order_and_a_burst_collapses_to_the_newest(client, qtbot, bundled):
    client.set_network(*bundled)
    seen = []
    client.reading_arrived.connect(lambda reading: seen.append(reading.request_id))
    with qtbot.waitSignal(client.reading_arrived, timeout=TIMEOUT_MS):
        client.request(1, ring_pixels())
    # Drawn beforehand, then sent back to back: far faster than the reader answers (a reading takes ~1 ms now,
    # about what drawing one ring took), so unsent ones are replaced.
    burst = [(request_id, ring_pixels(40 + request_id)) for request_id in range(2, 41)]
    for request_id, pixels in burst:
        client.request(request_id, pixels)
    qtbot.waitUntil(lambda: bool(seen) and seen[-1] == 40, timeout=TIMEOUT_MS)
    assert seen == sorted(seen) and len(seen) < 40


def test_saliency_gives_way_to_a_newer_drawing():
    # A network small enough for every message to sit in the pipe before the reader starts, so the second
    # read is certainly waiting when the first is answered.
    spec = {"name": "small", "nodes": [
        {"id": "input", "type": "Input", "shape": [1, 28, 28]},
        {"id": "conv", "type": "Conv2D", "filters": 2, "kernel_size": 5, "strides": 4},
        {"id": "flatten", "type": "Flatten"}, {"id": "logits", "type": "Dense", "units": 3}]}
    weights = engine.Network(spec, seed=0, xp=np).state_dict()
    control, their_control = multiprocessing.Pipe()
    requests, their_requests = multiprocessing.Pipe()
    control.send(("network", 1, spec, array_layout(weights)))
    send_arrays(control, weights)
    crop, origin = ink_box(ring_pixels())
    requests.send(("read", 1, 1, crop, origin, "evidence"))
    requests.send(("read", 2, 1, crop, origin, "evidence"))
    server = threading.Thread(target=serve, args=(their_control, their_requests))
    server.start()
    answers = [control.recv() for _ in range(5)]
    control.send(None)
    server.join(10)
    assert not server.is_alive()
    kinds = [answer[0] for answer in answers]
    assert kinds == ["network_loaded", "reading", "saliency", "reading", "saliency"]
    first, second = answers[2][1], answers[4][1]
    assert first.request_id == 1 and first.heat is None and first.why_missing == "skipped for a newer drawing"
    assert second.request_id == 2 and second.heat is not None and second.heat.shape == (28, 28)


def test_a_read_waits_for_the_network_it_was_asked_of_and_is_placed_on_the_pad(bundled):
    """A read names the network version it was asked after; the reader loads that first, even when the read
    is what it sees first. The placement comes back in the pad's coordinates, not the ink box's."""
    spec, weights = bundled
    control, their_control = multiprocessing.Pipe()
    requests, their_requests = multiprocessing.Pipe()
    server = threading.Thread(target=serve, args=(their_control, their_requests))
    server.start()
    pixels = ring_pixels()
    crop, origin = ink_box(pixels)
    assert origin == (140 - 80 + 1, 140 - 80 + 1) and crop.shape[0] < 280
    requests.send(("read", 7, 1, crop, origin, None))
    control.send(("network", 1, spec, array_layout(weights)))
    send_arrays(control, weights)
    answers = [control.recv() for _ in range(2)]
    control.send(None)
    server.join(10)
    assert [answer[0] for answer in answers] == ["network_loaded", "reading"]
    reading = answers[1][1]
    assert reading.request_id == 7 and reading.probabilities.argmax() == 0
    _, whole_pad = reader_module.mnist_placed(pixels)
    assert (reading.placement.left, reading.placement.top) == pytest.approx((whole_pad.left, whole_pad.top))


def test_a_reader_process_that_dies_is_replaced_by_a_thread(qtbot, bundled):
    client = ReaderClient(mode="process")
    try:
        client.set_network(*bundled)
        with qtbot.waitSignal(client.reading_arrived, timeout=TIMEOUT_MS):
            client.request(1, ring_pixels())
        process = client.link.worker
        assert isinstance(process, multiprocessing.process.BaseProcess)
        process.kill()
        qtbot.waitUntil(lambda: client.mode == "thread", timeout=TIMEOUT_MS)
        with qtbot.waitSignal(client.reading_arrived, timeout=TIMEOUT_MS) as arrived:
            client.request(2, ring_pixels())
        assert arrived.args[0].request_id == 2 and arrived.args[0].probabilities.argmax() == 0
    finally:
        client.close()


def test_weights_that_do_not_fit_are_reported_with_their_version(qtbot, bundled):
    client = ReaderClient(mode="thread")
    try:
        spec, _ = bundled
        version = client.set_network(spec, {"conv1.kernel": np.zeros((1, 1, 1, 1), dtype=np.float32)})
        with qtbot.waitSignal(client.network_failed, timeout=TIMEOUT_MS) as failed:
            client.request(1, ring_pixels())
        assert failed.args[0] == version and "missing" in failed.args[1]
    finally:
        client.close()


def test_the_reader_runs_in_a_process_unless_told_even_frozen(monkeypatch):
    monkeypatch.delenv(READER_MODE_VARIABLE, raising=False)
    assert default_mode() == "process"
    monkeypatch.setattr(reader_link.sys, "frozen", True, raising=False)
    assert default_mode() == "process"  # packaging/frozen_main.py calls freeze_support() for its child
    monkeypatch.setenv(READER_MODE_VARIABLE, "thread")
    assert default_mode() == "thread"


def test_new_weights_for_the_same_design_are_not_waited_for(bundled):
    """While a newer network's bytes are still on their way, a read of the same design is answered at once
    by the network the reader has, naming it; once the newer one is in, it reads."""
    spec, weights = bundled
    zeroed = {name: np.zeros_like(value) for name, value in weights.items()}
    control, their_control = multiprocessing.Pipe()
    requests, their_requests = multiprocessing.Pipe()
    server = threading.Thread(target=serve, args=(their_control, their_requests))
    server.start()
    try:
        crop, origin = ink_box(ring_pixels())
        control.send(("network", 1, spec, array_layout(weights)))
        send_arrays(control, weights)
        assert control.recv() == ("network_loaded", 1)
        names = list(zeroed)
        control.send(("network", 2, spec, array_layout(zeroed)))
        send_arrays(control, {name: zeroed[name] for name in names[:1]})  # the rest is still on its way
        requests.send(("read", 1, 1, crop, origin, None))
        assert control.poll(10)
        kind, reading = control.recv()
        assert kind == "reading" and reading.network_version == 1 and reading.probabilities.argmax() == 0
        send_arrays(control, {name: zeroed[name] for name in names[1:]})
        assert control.recv() == ("network_loaded", 2)  # swapped in while the reader had nothing to read
        requests.send(("read", 2, 1, crop, origin, None))
        kind, reading = control.recv()
        assert kind == "reading" and reading.network_version == 2
        np.testing.assert_allclose(reading.probabilities, 0.1, atol=1e-6)  # all-zero weights
    finally:
        control.send(None)
        server.join(10)
    assert not server.is_alive()
