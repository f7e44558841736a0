"""``BoundedHttpToolsProtocol``: uvicorn's httptools protocol with a cap on the request head.

uvicorn's httptools protocol reads a request head of any size: llhttp hands a header over only
once all of it has arrived, and httptools buffers it meanwhile, so one client sending a 64 MB
header line gets it read and answered, and two 256 MB headers took the server to 878 MB and
``/health`` from 1.6 ms to 5 s for everyone. This subclass counts the bytes of the head as they
arrive, before the parser buffers them, and the request line and fields the parser reports; past
``MAX_HEAD_BYTES`` (64 KiB: the request line and every field, as nginx's default
``large_client_header_buffers`` 4 × 8k allows 32 KiB) or ``MAX_HEADER_FIELDS`` (100, Apache's
``LimitRequestFields``), it answers ``431 Request Header Fields Too Large`` (RFC 6585 §5) and closes
the connection: the client's bytes are never buffered past the cap. A request to this server
needs a few hundred bytes of head; the largest field we read, ``Authorization``, is at most 16 KiB.

Why not uvicorn's h11 protocol, which has a cap (``h11_max_incomplete_event_size``)? Measured on
the same app (``benchmarks/bench_http_protocols.py``, figures in ``benchmarks/README.md``), h11
serves 53 % of httptools' requests on /health and 61 % on /auth/me, and it has no cap on the
number of fields; this cap keeps 94–96 % (within that run's noise): one ``bytes.find`` per chunk
while a head is incomplete, and a counter per field.

Used by ``jwtkit serve`` (``jwtkit.cli.server.run``: ``http="jwtkit.web.protocol:BoundedHttpToolsProtocol"``).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .schemas import error_body

__all__ = ["MAX_HEADER_FIELDS", "MAX_HEAD_BYTES", "BoundedHttpToolsProtocol"]

MAX_HEAD_BYTES = 64 * 1024
MAX_HEADER_FIELDS = 100

log = logging.getLogger("jwtkit.web")

_END_OF_HEAD = b"\r\n\r\n"
_PAYLOAD = json.dumps(error_body(
    "request_header_fields_too_large",
    f"the request head is larger than {MAX_HEAD_BYTES} bytes or has more than {MAX_HEADER_FIELDS} fields",
)).encode()
_431 = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
        b"content-length: %d\r\nconnection: close\r\n\r\n" % len(_PAYLOAD)) + _PAYLOAD


class _HeadTooLarge(Exception):
    """Raised in a parser callback to stop parsing (httptools wraps it in HttpParserCallbackError)."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's ``HttpToolsProtocol``, refusing request heads over the caps above with 431."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_pending = True  # between the end of a request (or the connection's start) and its head's end
        self._head_received = 0  # bytes received while the head was pending (before the parser buffers them)
        self._head_parsed = 0  # bytes of the request line and fields the parser reported
        self._fields = 0
        self._tail = b""  # the last 3 bytes received: an end of head may straddle two chunks
        self._too_large = False

    def data_received(self, data: bytes) -> None:
        if self._head_pending:
            window = self._tail + data
            end = window.find(_END_OF_HEAD)
            # the bytes of this chunk that belong to the head (not a body that follows it)
            self._head_received += len(data) if end == -1 else max(0, end + 4 - len(self._tail))
            self._tail = window[-3:]
            if self._head_received > MAX_HEAD_BYTES:
                self._refuse()
                return
        super().data_received(data)  # a cap the callbacks hit ends in send_400_response, below

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_parsed = 0
        self._fields = 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._fields += 1
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._head_pending = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._head_pending = True
        self._head_received = 0
        self._tail = b""

    def send_400_response(self, msg: str) -> None:
        if self._too_large:
            self._refuse()
        else:
            super().send_400_response(msg)

    def _count(self, size: int) -> None:
        # pipelined requests in one chunk pass the byte count above as one: count each exactly here
        self._head_parsed += size
        if self._head_parsed > MAX_HEAD_BYTES or self._fields > MAX_HEADER_FIELDS:
            self._too_large = True
            raise _HeadTooLarge()

    def _refuse(self) -> None:
        if self.transport.is_closing():
            return
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
        log.info("%s: request head over %d bytes or %d fields: 431, connection closed",
                 client, MAX_HEAD_BYTES, MAX_HEADER_FIELDS)
        self._head_pending = False
        self.transport.write(_431)
        self.transport.close()
