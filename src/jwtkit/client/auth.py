"""``TokenAuth``: an ``httpx.Auth`` that logs in to a jwtkit server, sends the access token, and
renews it (shortly before it expires, or on a 401) with one renewal in flight at a time."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator

import httpx

from .session import Session, TokenPair

__all__ = ["DEFAULT_REFRESH_PATH", "DEFAULT_TOKEN_PATH", "TokenAuth"]

DEFAULT_TOKEN_PATH = "/auth/token"
DEFAULT_REFRESH_PATH = "/auth/token/refresh"


class TokenAuth(httpx.Auth):
    """Bearer tokens from a jwtkit server for an ``httpx.Client`` or ``httpx.AsyncClient``.

    Give a username and password (logged in on the first request; the password is forgotten
    once that worked) or a refresh token you kept (``on_tokens`` gave it to you). Every request
    gets ``Authorization: Bearer <access token>``. The pair is refreshed before a request once
    the access token is within ``margin`` seconds of expiring (at most half its lifetime,
    counted from when it arrived, so the client's clock need not agree with the server's), and
    when a request is answered 401 (then the request is sent once more, never twice).

    However many requests need a renewal at once, **one** is sent (single-flight: the others
    wait for it and use its tokens), across threads for ``httpx.Client`` and across tasks for
    ``httpx.AsyncClient``. A jwtkit server revokes the whole login when one refresh token is
    spent twice; this is what keeps a busy client from doing that to itself.

    Example::

        auth = TokenAuth("https://auth.example", username="alice", password="correct horse",
                         on_tokens=lambda pair: keyring.set_password("app", "refresh", pair.refresh_token))
        with httpx.Client(auth=auth, base_url="https://api.example") as client:
            client.get("/items")

        auth = TokenAuth("https://auth.example", refresh_token=saved)   # later: no password needed

    Use one ``TokenAuth`` with sync clients or with async clients (on one event loop), not with
    both at once: each kind has its own single-flight lock.

    Raises (out of the request that needed tokens):
        LoginFailedError: the username/password was refused (401), or throttled (429, ``retry_after``).
        SessionEndedError: the refresh token was refused (expired, revoked, reused): log in again.
            Every later request raises it too, without calling the server.
        TokenEndpointError: the token endpoint answered something else (5xx, ...); the next request retries.
        ValueError, TypeError: bad arguments, when the ``TokenAuth`` is built.

    Warning:
        The access token goes to every URL the client requests: give this auth only to clients
        that talk to your own APIs. Login and refresh requests go to ``base_url`` (or the URLs
        given), never to the API's host unless it is the same.
    """

    def __init__(
        self,
        base_url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        refresh_token: str | None = None,
        token_url: str | None = None,
        refresh_url: str | None = None,
        margin: float = 30.0,
        on_tokens: Callable[[TokenPair], object] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        base = httpx.URL(base_url)
        if base.scheme not in ("http", "https") or not base.host:
            raise ValueError(f"base_url must be an absolute http(s) URL, got {base_url!r}")
        if (username is None) != (password is None):
            raise ValueError("give username and password together")
        if (username is None) == (refresh_token is None):
            raise ValueError("give either username and password, or refresh_token")
        for name, value in (("username", username), ("password", password), ("refresh_token", refresh_token)):
            if value is not None and (not isinstance(value, str) or not value):
                raise TypeError(f"{name} must be a non-empty str")
        if isinstance(margin, bool) or not isinstance(margin, int | float) or not 0 <= margin < 1e9:
            raise ValueError(f"margin must be a number of seconds >= 0, got {margin!r}")
        root = str(base).rstrip("/")
        self._session = Session(
            token_url=token_url or root + DEFAULT_TOKEN_PATH, refresh_url=refresh_url or root + DEFAULT_REFRESH_PATH,
            credentials=(username, password) if username is not None and password is not None else None,
            refresh_token=refresh_token, margin=float(margin), on_tokens=on_tokens,
        )
        self._clock = clock
        self._sync_lock = threading.Lock()
        self._async_locks: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    @property
    def tokens(self) -> TokenPair | None:
        """The current pair (None before the first login or refresh, and once the session ended)."""
        return self._session.tokens

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.read()  # so that it can be sent again after a 401
        session = self._session
        if session.needs_renewal(self._clock()):
            with self._sync_lock:
                if session.needs_renewal(self._clock()):  # not renewed while we waited
                    renewal, login = session.renewal_request(request)
                    answer = yield renewal
                    answer.read()
                    session.accept(answer, login=login, now=self._clock())
        generation = self._authorize(request)
        response = yield request
        if response.status_code != 401:
            return
        with self._sync_lock:
            if session.snapshot()[1] == generation:  # nobody renewed since this request was sent
                renewal, login = session.renewal_request(request)
                answer = yield renewal
                answer.read()
                session.accept(answer, login=login, now=self._clock())
        self._authorize(request)
        yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        await request.aread()
        session = self._session
        if session.needs_renewal(self._clock()):
            async with self._async_lock():
                if session.needs_renewal(self._clock()):
                    renewal, login = session.renewal_request(request)
                    answer = yield renewal
                    await answer.aread()
                    session.accept(answer, login=login, now=self._clock())
        generation = self._authorize(request)
        response = yield request
        if response.status_code != 401:
            return
        async with self._async_lock():
            if session.snapshot()[1] == generation:
                renewal, login = session.renewal_request(request)
                answer = yield renewal
                await answer.aread()
                session.accept(answer, login=login, now=self._clock())
        self._authorize(request)
        yield request

    def _authorize(self, request: httpx.Request) -> int:
        """Put the current access token on ``request``; return the generation it belongs to."""
        tokens, generation = self._session.snapshot()
        assert tokens is not None  # renewed above, or raised
        request.headers["Authorization"] = f"Bearer {tokens.access_token}"
        return generation

    def _async_lock(self) -> asyncio.Lock:
        """The single-flight lock of the running event loop (an ``asyncio.Lock`` belongs to one loop)."""
        loop = asyncio.get_running_loop()
        if self._async_locks is None or self._async_locks[0] is not loop:
            self._async_locks = (loop, asyncio.Lock())
        return self._async_locks[1]
