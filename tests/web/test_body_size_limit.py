"""``BodySizeLimit`` at the ASGI level: a body framed by a ``Content-Length`` within the limit reaches
the app unbuffered (the server delivers no byte past that length); one declared over the limit, and a
chunked one that grows over it, are refused with 413 before the app runs."""

from typing import Any

import pytest

from jwtkit.web.limits import BodySizeLimit

pytestmark = pytest.mark.anyio

LIMIT = 100


class App:
    """Reads the whole body with the ``receive`` it was given, and remembers both."""

    def __init__(self) -> None:
        self.receive: Any = None
        self.body: bytes | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.receive = receive
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        self.body = body
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def scope_with(*headers: tuple[bytes, bytes]) -> dict[str, Any]:
    return {"type": "http", "method": "POST", "path": "/", "headers": list(headers)}


def server_receive(*chunks: bytes) -> Any:
    pending = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]

    async def receive() -> dict[str, Any]:
        return pending.pop(0)

    return receive


async def run(scope: dict[str, Any], receive: Any) -> tuple[App, list[dict[str, Any]]]:
    app, sent = App(), []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await BodySizeLimit(app, max_body_size=LIMIT)(scope, receive, send)
    return app, sent


async def test_a_body_within_its_declared_length_reaches_the_app_unbuffered():
    receive = server_receive(b"x" * 60, b"y" * 40)
    app, sent = await run(scope_with((b"content-length", b"100")), receive)
    assert app.receive is receive
    assert app.body == b"x" * 60 + b"y" * 40
    assert sent[0]["status"] == 200


async def test_a_declared_length_over_the_limit_is_413_before_the_app_runs():
    app, sent = await run(scope_with((b"content-length", b"101")), server_receive(b"x" * 101))
    assert app.body is None
    assert sent[0]["status"] == 413


async def test_a_chunked_body_within_the_limit_reaches_the_app_whole():
    app, sent = await run(scope_with((b"transfer-encoding", b"chunked")), server_receive(b"x" * 50, b"y" * 50))
    assert app.body == b"x" * 50 + b"y" * 50
    assert sent[0]["status"] == 200


async def test_a_chunked_body_that_grows_over_the_limit_is_413_before_the_app_runs():
    app, sent = await run(scope_with((b"transfer-encoding", b"chunked")), server_receive(b"x" * 60, b"y" * 60))
    assert app.body is None
    assert sent[0]["status"] == 413


async def test_a_chunked_body_with_a_content_length_too_is_counted():
    scope = scope_with((b"content-length", b"10"), (b"transfer-encoding", b"chunked"))
    app, sent = await run(scope, server_receive(b"x" * 60, b"y" * 60))
    assert app.body is None
    assert sent[0]["status"] == 413


async def test_a_request_without_a_body_passes_straight_through():
    receive = server_receive(b"")
    app, sent = await run(scope_with(), receive)
    assert app.receive is receive
    assert sent[0]["status"] == 200
