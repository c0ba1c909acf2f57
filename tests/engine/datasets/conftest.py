"""Fixtures for the dataset tests: a private data folder and a local HTTP server (never the internet)."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from engine.datasets import loading
from engine.datasets.storage import DATA_DIR_ENV


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """LAYERLAB_DATA_DIR pointed at an empty folder, and no arrays cached from other tests."""
    folder = tmp_path / "layerlab-data"
    monkeypatch.setenv(DATA_DIR_ENV, str(folder))
    loading.clear_cache()
    yield folder
    loading.clear_cache()


class FileServer:
    """Serves ``files`` (path -> bytes) on 127.0.0.1, honouring Range unless told not to.

    ``drop_after[path] = n`` makes the next request for ``path`` send its full Content-Length
    header but only ``n`` bytes of the body before closing the connection (once per setting).
    ``endless[path] = length`` answers ``path`` with zeros that go on (up to ``ENDLESS_BYTES``, so a
    client without a cap still ends) under a Content-Length of ``length``, or none when it is None.
    """

    ENDLESS_BYTES = 32 * 1024**2

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.drop_after: dict[str, int] = {}
        self.endless: dict[str, int | None] = {}
        self.honour_range = True
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                server.requests.append((self.path, self.headers.get("Range")))
                if self.path in server.endless:
                    self._send_endless(server.endless[self.path])
                    return
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                range_header = self.headers.get("Range")
                if range_header and server.honour_range:
                    start = int(range_header.removeprefix("bytes=").split("-")[0])
                    if start >= len(body):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                limit = server.drop_after.pop(self.path, None)
                if limit is not None:
                    self.wfile.write(body[start : start + limit])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

            def _send_endless(self, length):
                self.send_response(200)
                if length is not None:
                    self.send_header("Content-Length", str(length))
                self.end_headers()
                zeros = bytes(1 << 16)
                try:
                    for _ in range(server.ENDLESS_BYTES // len(zeros)):
                        self.wfile.write(zeros)
                except OSError:  # the client hung up: what a capped download does
                    pass
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> FileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def file_server():
    with FileServer() as server:
        yield server


@pytest.fixture
def closed_port_url():
    """A 127.0.0.1 URL where nothing listens: connecting is refused at once, as when offline."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"
