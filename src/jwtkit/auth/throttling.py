"""Login throttling: a sliding window of failures per username and per client address.

While either key is over its limit every attempt is refused before the password is checked,
the right password included (otherwise a 200 among 429s tells an attacker the right guess).
A successful login clears the username's failures, not the client's (so one known account
cannot be used to reset an address's count).
"""

from __future__ import annotations

import math

from .errors import ThrottledError
from .ports import RateLimiter
from .settings import AuthSettings


class LoginThrottle:
    def __init__(self, limiter: RateLimiter, settings: AuthSettings) -> None:
        self._limiter = limiter
        window = settings.login_window
        self._window = window
        self._limits = (settings.login_max_failures, settings.login_max_failures_per_client)

    def _keys(self, username: str, client: str) -> tuple[tuple[str, int], tuple[str, int]]:
        return (f"user:{username[:200]}", self._limits[0]), (f"client:{client[:200]}", self._limits[1])

    async def check(self, username: str, client: str, *, now: float) -> None:
        """Raises ``ThrottledError`` while either key is over its limit."""
        wait = 0.0
        for key, limit in self._keys(username, client):
            wait = max(wait, await self._limiter.retry_after(key, now=now, window=self._window, limit=limit))
        if wait > 0:
            raise ThrottledError(math.ceil(wait))

    async def failed(self, username: str, client: str, *, now: float) -> None:
        for key, limit in self._keys(username, client):
            await self._limiter.hit(key, now=now, window=self._window, limit=limit)

    async def succeeded(self, username: str) -> None:
        await self._limiter.reset(self._keys(username, "")[0][0])
