"""``Credentials``: registration and the password check shared by token and cookie-session logins.

An unknown user costs the same argon2 verification as a wrong password and gets the same
error; each attempt is reserved with the throttle before the password is checked
(:mod:`.throttling`), and given back when the check could not be made (storage or the rate
limiter down: an outage is never a failed login); a successful login rehashes a password
hashed with old parameters. Registrations are limited per client address and hash within their
own smaller budget (:class:`.passwords.Passwords`), so a flood of them cannot starve logins.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from .devices import DeviceCookies
from .errors import InvalidCredentialsError, ThrottledError, UsernameTakenError
from .events import NO_EVENTS, AuthEvents
from .models import UserRecord, username_key
from .passwords import Passwords, is_valid_username
from .ports import RateLimiter, UserStore
from .settings import AuthSettings
from .throttling import LoginThrottle, address_limits, give_back

__all__ = ["Credentials"]

log = logging.getLogger(__name__)


class Credentials:
    """Registers users and checks a username and password against the user store, throttled."""

    def __init__(self, settings: AuthSettings, users: UserStore, limiter: RateLimiter,
                 clock: Callable[[], float], events: AuthEvents = NO_EVENTS) -> None:
        self._settings = settings
        self._events = events
        self._users = users
        self._limiter = limiter
        self._clock = clock
        self.passwords = Passwords(settings)
        self._throttle = LoginThrottle(limiter, settings)
        self.devices: DeviceCookies | None = None  # set by AuthService.open (its key is in storage)

    async def register(self, username: str, password: str, client: str | None) -> UserRecord:
        """Create a user (the caller checked the input rules); ``client`` is counted, every
        attempt that reaches storage, a taken name included (409s must not enumerate usernames
        without limit); ``None`` counts nothing (the CLI, a library caller).

        Raises:
            ThrottledError: too many registrations from ``client``.
            UsernameTakenError: the username exists (compared case-insensitively).
            ServiceUnavailableError: storage or the rate limiter is down (nothing is counted).
        """
        now = self._clock()
        limits = [] if client is None else address_limits(
            "register:", client, self._settings.register_max_per_client, float(self._settings.register_window)
        )
        if limits:
            wait = await self._limiter.acquire_windows(limits, now=now)
            if wait > 0:
                raise ThrottledError(math.ceil(wait), message="too many registrations from this address")
        try:
            if await self._users.get_user_by_name(username) is not None:
                raise UsernameTakenError()  # before the hash: a taken name costs no argon2
            password_hash = await self.passwords.hash_for_registration(password)
            return await self._users.create_user(username, password_hash, now=self._clock())
        except UsernameTakenError:
            raise
        except Exception:
            await give_back(self._limiter, [key for key, _, _ in limits], now=now)  # an outage counts nothing
            raise

    async def check(self, username: str, password: str, client: str, device: str | None = None) -> UserRecord:
        """The user whose password this is. ``device`` is the client's device cookie, if any.

        Raises:
            ThrottledError: too many recent failures counted against this attempt.
            InvalidCredentialsError: unknown user, wrong password, or arguments that are not strings.
            ServiceUnavailableError: storage is down (not counted as a failure).
        """
        settings = self._settings
        now = self._clock()
        if not isinstance(username, str) or not isinstance(password, str) or not isinstance(client, str):
            raise InvalidCredentialsError()
        key = username_key(username)
        nonce = None if self.devices is None or device is None else self.devices.nonce(device, key, now=now)
        try:
            reservation = await self._throttle.reserve(key, client, device=nonce, now=now)  # before the check
        except ThrottledError:
            self._events.login("throttled", None)
            raise
        try:
            user = None
            if is_valid_username(username, settings):  # no such user otherwise: a NUL would fail PostgreSQL
                user = await self._users.get_user_by_name(username)
            if len(password) > settings.password_max_length:
                ok = False  # never hash megabytes; the limit is public, so this tells nothing
            elif user is None:
                ok = await self.passwords.verify_dummy(password)
            else:
                ok = await self.passwords.verify(user.password_hash, password)
        except Exception:
            await self._throttle.cancel(reservation)  # not judged: an outage is not a failed login
            raise
        if not ok or user is None:
            self._events.login("failed", None)
            raise InvalidCredentialsError()  # the reservation stands as the failure
        if user.disabled_at is not None:  # the same answer: a disabled account confirms no password
            log.info("login refused: user %s is disabled", user.id)
            self._events.login("failed", user.id)
            raise InvalidCredentialsError()
        self._events.login("ok", user.id)
        try:
            await self._throttle.succeeded(reservation)
            await self._users.record_login(user.id, now=now)
            if self.passwords.needs_rehash(user.password_hash):
                await self._users.set_password_hash(user.id, await self.passwords.hash(password))
        except Exception as exc:  # housekeeping: the password is verified, the login goes on
            log.warning("after a successful login of user %s: %r", user.id, exc)
        return user

    def device_cookie(self, username: str) -> str:
        """A fresh device cookie for ``username`` (after its successful login)."""
        assert self.devices is not None, "the service is open"
        return self.devices.issue(username_key(username), now=self._clock())
