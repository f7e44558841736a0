"""``Credentials``: the password check shared by token and cookie-session logins.

An unknown user costs the same argon2 verification as a wrong password and gets the same
error; each attempt is reserved with the throttle before the password is checked
(:mod:`.throttling`); a successful login rehashes a password hashed with old parameters.
"""

from __future__ import annotations

from collections.abc import Callable

from .errors import InvalidCredentialsError
from .models import UserRecord
from .passwords import Passwords, is_valid_username
from .ports import RateLimiter, UserStore
from .settings import AuthSettings
from .throttling import LoginThrottle

__all__ = ["Credentials"]


class Credentials:
    """Checks a username and password against the user store, throttled."""

    def __init__(self, settings: AuthSettings, users: UserStore, limiter: RateLimiter,
                 clock: Callable[[], float]) -> None:
        self._settings = settings
        self._users = users
        self._clock = clock
        self.passwords = Passwords(settings)
        self._throttle = LoginThrottle(limiter, settings)

    async def check(self, username: str, password: str, client: str) -> UserRecord:
        """The user whose password this is.

        Raises:
            ThrottledError: too many recent attempts for ``username`` or ``client``.
            InvalidCredentialsError: unknown user, wrong password, or arguments that are not strings.
            ServiceUnavailableError: storage is down.
        """
        settings = self._settings
        now = self._clock()
        if not isinstance(username, str) or not isinstance(password, str) or not isinstance(client, str):
            raise InvalidCredentialsError()
        await self._throttle.reserve(username, client, now=now)  # counted before the password is checked
        user = None
        if is_valid_username(username, settings):  # no such user otherwise: a NUL would fail PostgreSQL
            user = await self._users.get_user_by_name(username)
        if len(password) > settings.password_max_length:
            ok = False  # never hash megabytes; the limit is public, so this tells nothing
        elif user is None:
            ok = await self.passwords.verify_dummy(password)
        else:
            ok = await self.passwords.verify(user.password_hash, password)
        if not ok or user is None:
            raise InvalidCredentialsError()  # the reservation stands as the failure
        await self._throttle.succeeded(username, client, now=now)
        if self.passwords.needs_rehash(user.password_hash):
            await self._users.set_password_hash(user.id, await self.passwords.hash(password))
        return user
