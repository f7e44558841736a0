"""Cookie sessions: fresh random ids, stored only as their SHA-256, over the session store.

The second transport next to Bearer tokens: the same credential check, a
server-side record instead of a signed token. ``AuthService.session_*`` delegate here.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import InvalidTokenError
from .login import Credentials
from .models import SessionRecord, User
from .ports import SessionStore
from .settings import AuthSettings

__all__ = ["CookieSessions", "OpenedSession", "new_session_id", "session_key_hash"]

_SESSION_ID = re.compile(r"[A-Za-z0-9_\-]{43}")  # secrets.token_urlsafe(32)


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def session_key_hash(session_id: str) -> str | None:
    """The stored key of a well-formed session id, or ``None`` for anything else (garbage
    never reaches storage)."""
    if not isinstance(session_id, str) or _SESSION_ID.fullmatch(session_id) is None:
        return None
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenedSession:
    """A session just opened: its id (the cookie's value), its lifetime, and its user."""

    session_id: str = field(repr=False)
    max_age: int
    user: User


class CookieSessions:
    """Open, read and end cookie sessions."""

    def __init__(self, settings: AuthSettings, sessions: SessionStore, credentials: Credentials,
                 clock: Callable[[], float]) -> None:
        self._ttl = settings.session_ttl
        self._sessions = sessions
        self._credentials = credentials
        self._clock = clock

    async def login(self, username: str, password: str, *, client: str, device: str | None = None) -> tuple[str, int]:
        """Check credentials and open a session: ``(session_id, max_age_seconds)``, a fresh
        ``secrets.token_urlsafe(32)`` every time (never one the client supplied)."""
        opened = await self.open(username, password, client=client, device=device)
        return opened.session_id, opened.max_age

    async def open(self, username: str, password: str, *, client: str, device: str | None = None) -> OpenedSession:
        """:meth:`login`, with the session's user: what the login answer shows, without reading
        back the session just written."""
        user = await self._credentials.check(username, password, client, device)
        session_id = new_session_id()
        key_hash = session_key_hash(session_id)
        assert key_hash is not None
        data = {"user_id": user.id, "username": user.username}
        await self._sessions.add_session(
            SessionRecord(key_hash=key_hash, data=data, expires_at=self._clock() + self._ttl)
        )
        return OpenedSession(session_id=session_id, max_age=self._ttl, user=user.to_user())

    async def user(self, session_id: str) -> User:
        """The user of a live session; ``InvalidTokenError`` for an unknown, expired or malformed id."""
        key_hash = session_key_hash(session_id)
        if key_hash is None:
            raise InvalidTokenError("malformed session id")
        record = await self._sessions.get_session(key_hash)
        if record is None:
            raise InvalidTokenError("unknown session")
        if record.expires_at <= self._clock():
            await self._sessions.delete_session(key_hash)
            raise InvalidTokenError("session expired")
        user_id, username = record.data.get("user_id"), record.data.get("username")
        if isinstance(user_id, bool) or not isinstance(user_id, int) or not isinstance(username, str):
            raise InvalidTokenError("corrupt session data")
        return User(user_id, username)

    async def logout(self, session_id: str) -> None:
        """End a session (no error if it does not exist)."""
        key_hash = session_key_hash(session_id)
        if key_hash is not None:
            await self._sessions.delete_session(key_hash)
