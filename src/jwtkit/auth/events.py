"""``AuthEvents``: the observer port the use cases tell what happened — logins, refreshes,
revocations — so the web layer can count them (Prometheus) and log them, without the auth layer
knowing either.

The default, :data:`NO_EVENTS`, does nothing (a method call, on the paths where it is called).
An event never carries a token, a password or a cookie value: outcomes, counts and user ids only.
An observer must not raise and must not block (it is called on the request path).

Example::

    class Counting:
        def __init__(self) -> None:
            self.logins: list[str] = []
        def login(self, outcome: LoginOutcome, user_id: int | None) -> None:
            self.logins.append(outcome)
        def refresh(self, outcome: RefreshOutcome, user_id: int) -> None: ...
        def revoked(self, *, families: int, tokens: int, user_id: int | None) -> None: ...

    service = await AuthService.open(settings, stores, events=Counting())
"""

from __future__ import annotations

from typing import Literal, Protocol

__all__ = ["NO_EVENTS", "AuthEvents", "LoginOutcome", "NoEvents", "RefreshOutcome"]

LoginOutcome = Literal["ok", "failed", "throttled"]
"""A password check: accepted; refused (unknown user or wrong password); refused unchecked,
throttled. An outage is none of them (nothing was judged)."""

RefreshOutcome = Literal["ok", "reused", "grace"]
"""A refresh: rotated; a spent token presented again (its family revoked); a repeat within
``refresh_reuse_grace`` answered with the pair its first spend issued."""


class AuthEvents(Protocol):
    """What the use cases report. Every method is called after the fact, in the request's context."""

    def login(self, outcome: LoginOutcome, user_id: int | None) -> None:
        """A password check ended (token and cookie-session logins alike); ``user_id`` when ``"ok"``."""
        ...

    def refresh(self, outcome: RefreshOutcome, user_id: int) -> None:
        """A refresh token was spent (``"ok"``), reused, or replayed within the grace."""
        ...

    def revoked(self, *, families: int, tokens: int, user_id: int | None) -> None:
        """Refresh ``families`` and single access ``tokens`` (``jti``s) were revoked (logout, reuse, …)."""
        ...


class NoEvents:
    """The default observer: nothing happens."""

    __slots__ = ()

    def login(self, outcome: LoginOutcome, user_id: int | None) -> None:
        return None

    def refresh(self, outcome: RefreshOutcome, user_id: int) -> None:
        return None

    def revoked(self, *, families: int, tokens: int, user_id: int | None) -> None:
        return None


NO_EVENTS: AuthEvents = NoEvents()
