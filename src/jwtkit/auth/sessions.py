"""Cookie-session ids: fresh random ids, stored only as their SHA-256."""

from __future__ import annotations

import hashlib
import re
import secrets

_SESSION_ID = re.compile(r"[A-Za-z0-9_\-]{43}")  # secrets.token_urlsafe(32)


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def session_key_hash(session_id: str) -> str | None:
    """The stored key of a well-formed session id, or ``None`` for anything else (garbage
    never reaches storage)."""
    if not isinstance(session_id, str) or _SESSION_ID.fullmatch(session_id) is None:
        return None
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()
