"""A token server in a function, for ``httpx.MockTransport``: jwtkit's ``/auth/token`` and
``/auth/token/refresh`` (rotating refresh tokens; a spent one presented again is reuse) and one
protected route, ``/api``, that answers 401 to any access token it no longer accepts."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time

import httpx

import jwtkit
from support.constants import PASSWORD

KEY = jwtkit.Key.from_secret(b"a test secret of at least 32 bytes!!", "HS256")
USERNAME = "alice"


class FakeServer:
    def __init__(self, clock, *, lifetime: int = 300, delay: float = 0.0) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.delay = delay  # seconds each token answer takes, so that waiting requests pile up
        self.logins = self.refreshes = self.reuses = 0
        self.refresh_status: int | None = None  # answer refreshes with this status instead
        self.accepted_access: set[str] = set()
        self.live_refresh: set[str] = set()
        self.spent_refresh: set[str] = set()
        self.seen_refresh_tokens: list[str] = []
        self.token_requests: list[httpx.Request] = []
        self._ids = itertools.count()
        self._lock = threading.Lock()

    def issue(self, *, claims: bool = True) -> dict:
        now = int(self.clock())
        n = next(self._ids)
        access = jwtkit.encode({"jti": f"a{n}", "iat": now, "exp": now + self.lifetime} if claims else {"jti": f"a{n}"},
                               KEY)
        refresh = f"refresh-{n}"
        self.accepted_access.add(access)
        self.live_refresh.add(refresh)
        return {"access_token": access, "refresh_token": refresh, "token_type": "Bearer", "expires_in": self.lifetime}

    def expire_access_tokens(self) -> None:
        """The server stops accepting every access token issued so far (they expired, by its clock)."""
        with self._lock:
            self.accepted_access.clear()

    def answer(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            path = request.url.path
            if path == "/auth/token":
                self.token_requests.append(request)
                body = json.loads(request.content)
                if body != {"username": USERNAME, "password": PASSWORD}:
                    return httpx.Response(401, json={"error": "invalid_credentials", "message": "nope"})
                self.logins += 1
                return httpx.Response(200, json=self.issue())
            if path == "/auth/token/refresh":
                self.token_requests.append(request)
                self.refreshes += 1
                if self.refresh_status is not None:
                    return httpx.Response(self.refresh_status, json={"error": "x", "message": "configured"})
                token = json.loads(request.content)["refresh_token"]
                self.seen_refresh_tokens.append(token)
                if token in self.spent_refresh:
                    self.reuses += 1
                    return httpx.Response(401, json={"error": "invalid_token", "message": "reused"})
                if token not in self.live_refresh:
                    return httpx.Response(401, json={"error": "invalid_token", "message": "unknown"})
                self.live_refresh.discard(token)
                self.spent_refresh.add(token)
                return httpx.Response(200, json=self.issue())
            if path == "/api":
                authorization = request.headers.get("Authorization", "")
                if authorization.removeprefix("Bearer ") in self.accepted_access:
                    return httpx.Response(200, json={"ok": True})
                return httpx.Response(401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
            return httpx.Response(404)

    def sync_handler(self, request: httpx.Request) -> httpx.Response:
        if self.delay and request.url.path.startswith("/auth/"):
            time.sleep(self.delay)
        return self.answer(request)

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        if self.delay and request.url.path.startswith("/auth/"):
            await asyncio.sleep(self.delay)
        return self.answer(request)
