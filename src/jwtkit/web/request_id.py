"""The request id: every response carries ``X-Request-ID``, and every log line written while the
request is handled (the access log included) carries it too.

An incoming ``X-Request-ID`` is kept when it is sane — 1 to :data:`MAX_REQUEST_ID_LENGTH`
characters of ``A-Z a-z 0-9 . _ : -`` (a UUID, a hex or base64url id, a proxy's ``host:n``) —
so a reverse proxy's id follows the request through; anything else (too long, spaces, quotes,
control characters: a log-injection attempt) is replaced by a fresh random one.

The id lives in a :class:`LogContext` held by a ``ContextVar`` for the request's duration;
:func:`set_user` adds the user id once the request knows it (a login, a refresh). The log
formatter (:mod:`jwtkit.wiring.log_format`) reads :func:`current_context`. ``RequestId`` is a pure
ASGI middleware: no task, no copy of the request.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass
from random import getrandbits

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["MAX_REQUEST_ID_LENGTH", "REQUEST_ID_HEADER", "LogContext", "RequestId", "current_context",
           "request_id_of", "set_user"]

REQUEST_ID_HEADER = "X-Request-ID"
MAX_REQUEST_ID_LENGTH = 128
_HEADER = REQUEST_ID_HEADER.lower().encode("latin-1")
_SANE = re.compile(rb"[A-Za-z0-9._:\-]{1,%d}" % MAX_REQUEST_ID_LENGTH)


@dataclass(slots=True)
class LogContext:
    """What the log lines of one request say about it."""

    request_id: str
    user_id: int | None = None


_context: ContextVar[LogContext | None] = ContextVar("jwtkit_log_context", default=None)


def current_context() -> LogContext | None:
    """The context of the request being handled in this task, if any."""
    return _context.get()


def set_user(user_id: int | None) -> None:
    """Say which user the request being handled is about (no-op outside a request)."""
    context = _context.get()
    if context is not None and user_id is not None:
        context.user_id = user_id


def request_id_of(headers: list[tuple[bytes, bytes]]) -> str:
    """The request's sane ``X-Request-ID``, else a fresh one: 32 hex characters, 128 random bits of the
    ``random`` module (an id is for finding log lines, not a secret: no system call per request)."""
    for name, value in headers:
        if name == _HEADER:
            if _SANE.fullmatch(value):
                return value.decode("ascii")
            break
    return f"{getrandbits(128):032x}"


class RequestId:
    """Give each HTTP request an id (kept from a sane ``X-Request-ID``, else new), put it in the
    log context while the request runs, and echo it in the response's ``X-Request-ID``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope["headers"])
        echoed = (_HEADER, request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        token = _context.set(LogContext(request_id))
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _context.reset(token)
