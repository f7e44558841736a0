"""``SecurityHeaders``: ``X-Content-Type-Options: nosniff`` on every answer, and on every HTML
answer (the API docs) a Content-Security-Policy that allows only the server's own scripts,
styles and images and forbids framing (``frame-ancestors 'none'``, and ``X-Frame-Options: DENY``
for browsers that predate it): the docs page cannot be clickjacked or made to load anything from
elsewhere. An answer that already carries one of these headers keeps its own. A pure ASGI
middleware: it touches only the response start of each answer.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONTENT_SECURITY_POLICY", "NO_STORE", "SecurityHeaders"]

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
"""Swagger UI sets inline ``style`` attributes and ``data:`` images; its script is our own file."""

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
"""On every answer that carries a token or a secret (RFC 6749 §5.1)."""

_NOSNIFF = (b"x-content-type-options", b"nosniff")
_HTML_HEADERS = [(b"content-security-policy", CONTENT_SECURITY_POLICY.encode()), (b"x-frame-options", b"DENY")]


class SecurityHeaders:
    """Add the headers above to the answers of ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                if _NOSNIFF[0] not in present:
                    headers.append(_NOSNIFF)
                if any(name.lower() == b"content-type" and value.lower().startswith(b"text/html")
                       for name, value in headers):
                    # a page that brings its own policy (the page at /, jwtkit.web.page) keeps it
                    headers.extend(header for header in _HTML_HEADERS if header[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
