"""The HTTP fuzz target: any request through the ASGI app, on the in-memory backend.

The contract (issue 14): whatever the method, path, headers and body, the server answers with a
status below 500, and every error answer (4xx) carries a JSON body ``{"error": str, "message": str}``
(plus ``fields`` on 422). ``httpx.ASGITransport`` re-raises any exception the app lets out, so an
unhandled error is a crash here too.

A request is written as text, like HTTP/1.1 on the wire, so a corpus file reads as what it is::

    POST /auth/logout
    Authorization: Bearer {ACCESS}
    Content-Type: application/json

    {"refresh_token": "{REFRESH}"}

The first line is ``METHOD PATH``, then headers up to an empty line, then the body (bytes, as is).
``{ACCESS}``, ``{REFRESH}``, ``{SESSION}`` and ``{USER}`` stand for a live access token, refresh
token, session cookie value and user name of the fixture, so a fuzzed request reaches past
authentication. Anything unparsable becomes the body of a ``POST /auth/token``.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx

from jwtkit.auth.service import AuthService
from jwtkit.auth.settings import AuthSettings
from jwtkit.web import create_app
from jwtkit.wiring import open_stores

USERNAME = "fuzz-user"
PASSWORD = "fuzz password 1"
FAST_HASHING: dict[str, Any] = {"password_time_cost": 1, "password_memory_cost": 8, "password_parallelism": 1}
_METHOD = re.compile(rb"^[A-Za-z]{1,16}$")
# Headers httpx computes itself (a fuzzed one would only make httpx refuse the request).
_SKIPPED = {b"content-length", b"transfer-encoding", b"host"}


class HttpFuzzError(AssertionError):
    """The server broke the contract: a 5xx, or an error body that is not ``{error, message}``."""


class HttpTarget:
    """One app on the memory backend, its lifespan entered, a user with a live pair and session.

    ``run`` sends one request; after ``refresh_every`` requests the fixture logs in again, since
    fuzzed logouts and refresh reuse kill the placeholders' tokens.
    """

    def __init__(self, refresh_every: int = 50) -> None:
        self.loop = asyncio.new_event_loop()
        self.refresh_every, self.sent = refresh_every, 0
        self.values: dict[bytes, bytes] = {}
        self.app = create_app(self._open_service, maintenance_interval=None)
        self._lifespan = self.app.router.lifespan_context(self.app)
        self.loop.run_until_complete(self._lifespan.__aenter__())
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://testserver")
        self.loop.run_until_complete(self._sign_in(register=True))

    @staticmethod
    async def _open_service() -> AuthService:
        stores = await open_stores("memory://")
        return await AuthService.open(AuthSettings(**FAST_HASHING), stores)

    async def _sign_in(self, *, register: bool = False) -> None:
        creds = {"username": USERNAME, "password": PASSWORD}
        if register:
            await self.client.post("/auth/register", json=creds)
        pair = (await self.client.post("/auth/token", json=creds)).json()
        session = await self.client.post("/session/login", json=creds)
        self.client.cookies.clear()
        self.values = {
            b"{ACCESS}": pair.get("access_token", "").encode(),
            b"{REFRESH}": pair.get("refresh_token", "").encode(),
            b"{SESSION}": session.cookies.get("sessionid", "").encode(),
            b"{USER}": USERNAME.encode(),
        }

    def renew(self) -> None:
        """Log the fixture user in again (fresh placeholders)."""
        self.loop.run_until_complete(self._sign_in())

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.run_until_complete(self._lifespan.__aexit__(None, None, None))
        self.loop.close()

    def substitute(self, data: bytes) -> bytes:
        for placeholder, value in self.values.items():
            data = data.replace(placeholder, value)
        return data

    def run(self, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> httpx.Response:
        """Send one request and check the contract (raises :class:`HttpFuzzError`)."""
        self.sent += 1
        if self.sent % self.refresh_every == 0:
            self.renew()
        return self.loop.run_until_complete(self._send(method, path, headers, body))

    async def _send(self, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> httpx.Response:
        self.client.cookies.clear()  # only the cookies the request itself carries
        try:
            request = self.client.build_request(method, path, headers=headers, content=body)
        except (httpx.InvalidURL, ValueError, TypeError, UnicodeError):
            return httpx.Response(400)  # not a request a client could send: nothing reaches the server
        response = await self.client.send(request)
        check(method, path, response)
        return response

    def target(self, data: bytes) -> None:
        """The fuzz entry point: ``data`` in the text form of the module docstring."""
        self.run(*parse(self.substitute(data)))


def parse(data: bytes) -> tuple[str, str, list[tuple[bytes, bytes]], bytes]:
    """``METHOD PATH`` / headers / empty line / body; anything else is a login body."""
    head, _, body = data.partition(b"\n\n")
    lines = head.split(b"\n")
    start = lines[0].split(b" ", 1)
    if len(start) != 2 or not _METHOD.match(start[0]) or not start[1].startswith(b"/"):
        return "POST", "/auth/token", [(b"content-type", b"application/json")], data
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        name = name.strip()
        if sep and name and name.lower() not in _SKIPPED:
            headers.append((name, value.strip()))
    return start[0].decode("ascii").upper(), start[1].decode("latin-1"), headers, body


def render(method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    """The text form :func:`parse` reads (to save a finding into the corpus)."""
    lines = [f"{method} {path}".encode("latin-1"), *(name + b": " + value for name, value in headers)]
    return b"\n".join(lines) + b"\n\n" + body


def check(method: str, path: str, response: httpx.Response) -> None:
    where = f"{method} {path!r} -> {response.status_code}"
    if response.status_code >= 500:
        raise HttpFuzzError(f"{where}: {response.text[:500]}")
    if response.status_code < 400 or method == "HEAD":
        return
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        raise HttpFuzzError(f"{where}: error body is not JSON: {response.content[:200]!r}") from exc
    if not (isinstance(body, dict) and isinstance(body.get("error"), str) and isinstance(body.get("message"), str)):
        raise HttpFuzzError(f"{where}: error body is not {{error, message}}: {body!r:.300}")
    if not set(body) <= {"error", "message", "fields"}:
        raise HttpFuzzError(f"{where}: unexpected members in the error body: {sorted(body)}")
