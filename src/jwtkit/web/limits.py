"""``BodySizeLimit``: a pure ASGI middleware that refuses request bodies over a size limit with 413.

A request whose ``Content-Length`` is over the limit is refused before anything is read. One
within it passes straight through: the ASGI server frames an HTTP/1.1 body by its
``Content-Length`` (RFC 9112 §6.3), so the app can never receive more than that (a client that
sends more has sent the start of a malformed next request, which the server refuses). A chunked
body has no length to trust: its bytes are counted as they arrive and buffered, at most
``max_body_size`` of them, before the app sees anything: the app then reads an already-checked
body, so no framework code can turn the overflow into some other error. Requests without a body
(no ``Content-Length`` and no ``Transfer-Encoding``) pass straight through too.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .schemas import error_body

__all__ = ["DEFAULT_MAX_BODY_SIZE", "BodySizeLimit", "checked_max_body_size"]

DEFAULT_MAX_BODY_SIZE = 64 * 1024
"""64 KiB: a credentials or token request is well under 20 KiB (a token is at most 16 KiB)."""


class BodySizeLimit:
    """Answer 413 ``{"error": "payload_too_large", ...}`` when a request body exceeds ``max_body_size``.

    Example::

        app = BodySizeLimit(app, max_body_size=64 * 1024)
    """

    def __init__(self, app: ASGIApp, *, max_body_size: int = DEFAULT_MAX_BODY_SIZE) -> None:
        self.app = app
        self.max_body_size = checked_max_body_size(max_body_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length: bytes | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                chunked = True
        if length is None and not chunked:
            await self.app(scope, receive, send)
            return
        if length is not None:
            declared = length.strip()
            if not declared.isdigit():
                await self._refuse(send, 400, "bad_request", "invalid Content-Length header")
                return
            if int(declared) > self.max_body_size:
                await self._refuse(send, 413, "payload_too_large", self._too_large)
                return
            if not chunked:  # framed by its Content-Length: the server delivers no byte past it
                await self.app(scope, receive, send)
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: let the app see it
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_size:
                await self._refuse(send, 413, "payload_too_large", self._too_large)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], receive), send)

    @property
    def _too_large(self) -> str:
        return f"request body larger than {self.max_body_size} bytes"

    @staticmethod
    async def _refuse(send: Send, status: int, code: str, message: str) -> None:
        payload = json.dumps(error_body(code, message)).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


def checked_max_body_size(value: int) -> int:
    """``value`` if it is a non-negative int, else ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"max_body_size must be a non-negative int, got {value!r}")
    return value


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending: list[Any] = list(messages)

    async def replayed() -> Message:
        if pending:
            message: Message = pending.pop(0)
            return message
        return await receive()

    return replayed
