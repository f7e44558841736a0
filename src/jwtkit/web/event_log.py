"""``LoggedEvents``: the service's :class:`~jwtkit.auth.events.AuthEvents` as log lines (logger
``jwtkit.events``) and as the user id of the request's log context, before handing each event
on (to the metrics, or to nothing).

One line per event, with outcomes, counts and user ids only: never a username, a token, a
password or a cookie value. A failed login says no name (a user who typed the password into
the name field must not find it in the log).

Inside an event loop a line is written on the loop's next turn, in the request's context (its
request id and user): after the answer has been written, since a request's work from the
store's reply to the response's bytes runs in one step of its task. The response does not
wait for the log (formatting a record and writing it to stderr cost a refresh on PostgreSQL
~0.1 ms of its latency); the server's CPU is the same.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from jwtkit.auth.events import NO_EVENTS, AuthEvents, LoginOutcome, RefreshOutcome

from .request_id import set_user

__all__ = ["LoggedEvents"]

log = logging.getLogger("jwtkit.events")


def _info_soon(message: str, *args: Any, user_id: int | None = None) -> None:
    """``log.info`` on the running loop's next turn (in this context), or now outside a loop."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        log.info(message, *args, extra={"user_id": user_id})
        return
    loop.call_soon(lambda: log.info(message, *args, extra={"user_id": user_id}))


class LoggedEvents:
    """Log each event, tag the request with its user, then tell ``inner``."""

    def __init__(self, inner: AuthEvents = NO_EVENTS) -> None:
        self._inner = inner

    def login(self, outcome: LoginOutcome, user_id: int | None) -> None:
        set_user(user_id)
        if outcome == "ok":
            _info_soon("login ok (user %s)", user_id, user_id=user_id)
        else:
            _info_soon("login %s", outcome)
        self._inner.login(outcome, user_id)

    def refresh(self, outcome: RefreshOutcome, user_id: int) -> None:
        set_user(user_id)
        _info_soon("refresh %s (user %s)", outcome, user_id, user_id=user_id)
        self._inner.refresh(outcome, user_id)

    def revoked(self, *, families: int, tokens: int, user_id: int | None) -> None:
        set_user(user_id)
        _info_soon("revoked %d refresh famil%s and %d access token%s%s", families, "y" if families == 1 else "ies",
                   tokens, "" if tokens == 1 else "s", "" if user_id is None else f" (user {user_id})",
                   user_id=user_id)
        self._inner.revoked(families=families, tokens=tokens, user_id=user_id)
