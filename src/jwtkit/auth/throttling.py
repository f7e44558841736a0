"""Login throttling that slows guessing without handing attackers a switch to lock users out.

Every attempt is reserved before the password is checked, in one atomic step of the rate limiter
("record it on every key, unless a key is over its limit"): so a burst of concurrent guesses gets
at most the limit of password checks, never all of them. While a key is over its limit every
attempt that counts on it is refused, the right password included (otherwise a 200 among 429s
tells an attacker the right guess). The keys, all in one sliding window unless said otherwise:

- **(username, client address)**: the short lock, ``login_max_failures`` (5). An attacker's
  guesses from one address do not lock the owner out from another.
- **username**, from any address: ``login_max_failures_per_user`` (20), then growing delays:
  3x that within 12 windows, 10x within 288 (5 min, 1 h, 24 h by default). A guesser spread over
  many addresses gets at most this many guesses, and waits longer the more it has spent.
- **client address**, across usernames: ``login_max_failures_per_client`` (20) per IPv4 address
  or IPv6 /64; an IPv6 /56 gets 4x and a /48 16x that budget in all, so the holder of a /48
  cannot rotate through its 65,536 /64s for fresh budgets.
- **a device cookie** (:mod:`.devices`, OWASP "device cookies"): a client that has logged in as
  this user before and shows a valid cookie for the username is counted only on that cookie
  (``login_max_failures``), so neither the username's nor the address's lock refuses the owner.
  A cookie over its own limit proves nothing more: the attempt is judged as from an unknown client.

Only a verified wrong password (or unknown user) is a failure: :meth:`LoginThrottle.cancel`
gives the reservation back when the check could not be made (storage or Redis down). A success
clears the (username, client) and device counts and gives back its own reservation on the rest
(so one known account cannot be used to reset an address's or a username's count, and many users
behind one address are not throttled for logging in).
"""

from __future__ import annotations

import ipaddress
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import ThrottledError
from .ports import RateLimiter
from .settings import AuthSettings

__all__ = ["LoginThrottle", "Reservation", "address_limits", "give_back", "lock_keys"]

log = logging.getLogger(__name__)

# (limit multiplier, window multiplier) of the per-username tiers: growing delays.
USER_TIERS = ((1, 1), (3, 12), (10, 288))
# (prefix length, budget multiplier) of the IPv6 aggregates above the /64.
IPV6_AGGREGATES = ((56, 4), (48, 16))

Limit = tuple[str, int, float]


@dataclass(frozen=True, slots=True)
class Reservation:
    """What one attempt recorded: every key, and which of them a success clears."""

    keys: tuple[str, ...]
    cleared_on_success: tuple[str, ...]
    now: float


def address_limits(prefix: str, client: str, limit: int, window: float) -> list[Limit]:
    """The limiter keys of a client address: an IPv4 address (an IPv4-mapped IPv6 address counts
    as one) or an IPv6 /64 (the address given, or its /64 as ``"2001:db8::/64"``) with ``limit``,
    and for IPv6 the /56 and /48 around it with their larger budgets; anything else is one key."""
    try:
        network = ipaddress.ip_network(client.split("%", 1)[0], strict=False)  # an IPv6 zone id dropped
    except ValueError:
        return [(f"{prefix}{_encodable(client[:200])}", limit, window)]
    if isinstance(network, ipaddress.IPv6Network):
        mapped = network.network_address.ipv4_mapped
        if mapped is not None and network.prefixlen == 128:
            return [(f"{prefix}{mapped}", limit, window)]
        base = network.supernet(new_prefix=64) if network.prefixlen > 64 else network
        limits = [(f"{prefix}{base}", limit, window)]
        for length, times in IPV6_AGGREGATES:
            if length < base.prefixlen:
                limits.append((f"{prefix}{base.supernet(new_prefix=length)}", limit * times, window))
        return limits
    return [(f"{prefix}{network.network_address if network.prefixlen == 32 else network}", limit, window)]


class LoginThrottle:
    def __init__(self, limiter: RateLimiter, settings: AuthSettings) -> None:
        self._limiter = limiter
        self._window = float(settings.login_window)
        self._short = settings.login_max_failures
        self._per_user = settings.login_max_failures_per_user
        self._per_client = settings.login_max_failures_per_client

    def _untrusted(self, user: str, client: str) -> list[Limit]:
        addresses = address_limits("client:", client, self._per_client, self._window)
        own_address = addresses[0][0].removeprefix("client:")
        limits = [(f"user-client:{own_address}|{user}", self._short, self._window)]
        return limits + self.user_limits(user) + addresses

    def user_limits(self, user: str) -> list[Limit]:
        """The per-username tiers (``user`` already encodable): the lock from every address."""
        return [(f"user:{tier}:{user}" if tier else f"user:{user}", self._per_user * times, self._window * span)
                for tier, (times, span) in enumerate(USER_TIERS)]

    async def locked_for(self, username_key: str, *, now: float) -> float:
        """Seconds until the username's own lock (from every address) ends; 0 when it is not locked.
        Probes by reserving an attempt and giving it back at once (the limiter has no read)."""
        limits = self.user_limits(_encodable(username_key[:200]))
        wait = await self._limiter.acquire_windows(limits, now=now)
        if wait == 0:
            await give_back(self._limiter, [key for key, _, _ in limits], now=now)
        return wait

    async def reserve(self, username_key: str, client: str, *, device: str | None, now: float) -> Reservation:
        """Count one attempt: on ``device`` (the nonce of a valid device cookie for this username)
        while it is under its limit, else on the username, the client and the pair.

        Raises:
            ThrottledError: a key is over its limit (nothing is counted).
            ServiceUnavailableError: the rate limiter's backend is down (nothing is counted).
        """
        if device is not None:
            key = f"device:{device}"
            if await self._limiter.acquire_windows([(key, self._short, self._window)], now=now) == 0:
                return Reservation((key,), (key,), now)
        user = _encodable(username_key[:200])
        limits = self._untrusted(user, client)
        wait = await self._limiter.acquire_windows(limits, now=now)
        if wait > 0:
            raise ThrottledError(math.ceil(wait))
        keys = tuple(key for key, _, _ in limits)
        return Reservation(keys, keys[:1], now)

    async def succeeded(self, reservation: Reservation) -> None:
        """The attempt was a success: clear the pair's (or the device's) count, release the rest."""
        for key in reservation.keys:
            if key in reservation.cleared_on_success:
                await self._limiter.reset(key)
            else:
                await self._limiter.release(key, now=reservation.now)

    async def cancel(self, reservation: Reservation) -> None:
        """The attempt could not be judged (storage down): it is no failure, give every event back.
        Best effort: a limiter that fails now too is logged, not raised (the caller is already
        raising the outage)."""
        await give_back(self._limiter, reservation.keys, now=reservation.now)


async def give_back(limiter: RateLimiter, keys: Sequence[str], *, now: float) -> None:
    """Release the events recorded at ``now`` on ``keys``, best effort: a limiter that fails
    (its backend down too) is logged, not raised."""
    for key in keys:
        try:
            await limiter.release(key, now=now)
        except Exception as exc:
            log.warning("could not give an attempt back to the rate limiter: %r", exc)
            return


def _encodable(text: str) -> str:
    # A lone surrogate cannot be encoded (a Redis key would fail): escape it. Such a name never
    # matches a user, so sharing a key with its escaped spelling throttles nobody real.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def lock_keys(*, username_key: str | None = None, client: str | None = None) -> list[str]:
    """The limiter keys whose counts lock out a username (its tiers, from every address), a client
    address (its logins and registrations, with the IPv6 aggregates around it), and with both the
    pair's short lock: what an operator clears to unlock (``jwtkit users unlock``). The pair's count
    from other addresses is not listed (only the addresses it was counted from know it); it ends
    with its window, ``login_window``."""
    keys: list[str] = []
    user = None if username_key is None else _encodable(username_key[:200])
    if user is not None:
        keys += [f"user:{tier}:{user}" if tier else f"user:{user}" for tier in range(len(USER_TIERS))]
    if client is not None:
        addresses = [key for key, _, _ in address_limits("client:", client, 1, 1.0)]
        keys += addresses + [key for key, _, _ in address_limits("register:", client, 1, 1.0)]
        if user is not None:
            keys.append(f"user-client:{addresses[0].removeprefix('client:')}|{user}")
    return keys
