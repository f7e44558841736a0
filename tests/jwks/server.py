"""A local JWKS endpoint that misbehaves on command, for the JWKS client tests.

``server.mode`` picks the answer: ``ok`` (the JWK Set), ``500``, ``html``, ``not_jwks`` (JSON,
not a set), ``huge`` (10 MB with a Content-Length), ``huge_unsized`` (10 MB, no length, until
the connection closes), ``redirect`` (302 to ``/elsewhere``, which serves the set), ``slow``
(the set after ``delay`` seconds). ``down()``/``up()`` close and reopen the port (connection
refused meanwhile). ``fetches`` counts the requests for the JWKS path, ``elsewhere`` those for
the redirect's target. Everything runs on 127.0.0.1 in a daemon thread.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwtkit

HUGE = 10 * 1024 * 1024


class JWKSServer:
    def __init__(self) -> None:
        self.keys: list[jwtkit.Key] = []
        self.mode = "ok"
        self.delay = 0.5
        self.cache_control: str | None = None
        self.fetches = 0
        self.elsewhere = 0
        self.released = threading.Event()  # set: a "slow" answer stops waiting early
        self._lock = threading.Lock()
        self._httpd = self._serve(0)
        self.port = self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/.well-known/jwks.json"

    def publish(self, *keys: jwtkit.Key) -> None:
        """Serve these keys (their public halves) from now on."""
        self.keys = [key if key.kty == "oct" else key.public_key() for key in keys]

    def down(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def up(self) -> None:
        self._httpd = self._serve(self.port)

    def close(self) -> None:
        self.released.set()
        with contextlib.suppress(OSError):
            self.down()

    def _document(self) -> bytes:
        return json.dumps({"keys": [key.to_jwk() for key in self.keys]}).encode()

    def _count(self, path: str) -> None:
        with self._lock:
            if path == "/elsewhere":
                self.elsewhere += 1
            else:
                self.fetches += 1

    def _serve(self, port: int) -> ThreadingHTTPServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._count(self.path)
                # A client that stopped reading (what the caps are for) breaks the pipe.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._answer(server.mode if self.path != "/elsewhere" else "ok")

            def _answer(self, mode: str) -> None:
                if mode == "slow":
                    server.released.wait(server.delay)
                    mode = "ok"
                if mode == "ok":
                    self._send(200, "application/json", server._document())
                elif mode == "500":
                    self._send(500, "text/plain", b"internal error")
                elif mode == "html":
                    self._send(200, "text/html", b"<html><body>Maintenance</body></html>")
                elif mode == "not_jwks":
                    self._send(200, "application/json", b'{"keys": "none"}')
                elif mode == "redirect":
                    self.send_response(302)
                    self.send_header("Location", "/elsewhere")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif mode == "huge":
                    self._send(200, "application/json", b" " * HUGE)
                elif mode == "huge_unsized":
                    self.protocol_version = "HTTP/1.0"
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    chunk = b" " * 65536
                    for _ in range(HUGE // len(chunk)):
                        self.wfile.write(chunk)
                    self.close_connection = True
                else:
                    raise AssertionError(f"unknown mode {mode}")

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                if server.cache_control is not None:
                    self.send_header("Cache-Control", server.cache_control)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return httpd


class FakeClock:
    """A monotonic clock the test moves by hand: cooldowns and TTLs pass without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def wait_until(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def token(key: jwtkit.Key, **claims: object) -> str:
    """A token signed by ``key`` (header ``kid`` is the key's), valid for a long time."""
    return jwtkit.encode({"sub": "alice", "exp": 4_000_000_000, **claims}, key)
