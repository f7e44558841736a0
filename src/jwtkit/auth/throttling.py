"""Login throttling: a sliding window of attempts per username and per client address.

Each attempt is reserved before the password is checked, in one atomic step of the rate
limiter ("record it, unless a key is over its limit"): so a burst of concurrent guesses gets
at most ``login_max_failures`` password checks per username, never all of them (a check
followed later by a record would let every concurrent guess through). While either key is over
its limit every attempt is refused, the right password included (otherwise a 200 among 429s
tells an attacker the right guess). A successful login clears the username's count and gives
back its reservation on the client (so one known account cannot be used to reset an address's
count, and many users behind one address are not throttled for logging in).
"""

from __future__ import annotations

import math

from .errors import ThrottledError
from .ports import RateLimiter
from .settings import AuthSettings


class LoginThrottle:
    def __init__(self, limiter: RateLimiter, settings: AuthSettings) -> None:
        self._limiter = limiter
        self._window = settings.login_window
        self._limits = (settings.login_max_failures, settings.login_max_failures_per_client)

    @staticmethod
    def _user_key(username: str) -> str:
        return f"user:{_encodable(username[:200])}"

    @staticmethod
    def _client_key(client: str) -> str:
        return f"client:{_encodable(client[:200])}"

    async def reserve(self, username: str, client: str, *, now: float) -> None:
        """Count one attempt for ``username`` and ``client``.

        Raises:
            ThrottledError: either is over its limit (nothing is counted).
        """
        keys = [(self._user_key(username), self._limits[0]), (self._client_key(client), self._limits[1])]
        wait = await self._limiter.acquire(keys, now=now, window=self._window)
        if wait > 0:
            raise ThrottledError(math.ceil(wait))

    async def succeeded(self, username: str, client: str, *, now: float) -> None:
        """The attempt reserved at ``now`` was a success: clear the username, release the client."""
        await self._limiter.reset(self._user_key(username))
        await self._limiter.release(self._client_key(client), now=now)


def _encodable(text: str) -> str:
    # A lone surrogate cannot be encoded (a Redis key would fail): escape it. Such a name never
    # matches a user, so sharing a key with its escaped spelling throttles nobody real.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
