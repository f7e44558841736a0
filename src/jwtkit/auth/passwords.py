"""Input rules and argon2id password hashing (argon2-cffi), run off the event loop.

Usernames: 1..``username_max_length`` characters from ``A-Z a-z 0-9 . _ @ + -`` (Django's set,
ASCII only so look-alike Unicode names cannot impersonate), unique and looked up
case-insensitively (``models.username_key``: NFKC + casefold); shown as registered.
Passwords: ``password_min_length``..``password_max_length`` characters, not all whitespace.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .errors import InvalidInputError
from .settings import AuthSettings

_USERNAME = re.compile(r"[A-Za-z0-9._@+\-]+")


def is_utf8_text(text: str) -> bool:
    """Whether ``text`` can be encoded as UTF-8: JSON's ``"\\ud800"`` decodes to a lone
    surrogate, a ``str`` that every encoder (argon2, database drivers, Redis) refuses."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_username(username: object, settings: AuthSettings) -> str:
    """Return ``username`` if it follows the rules. Raises ``InvalidInputError``."""
    if not isinstance(username, str):
        raise InvalidInputError("username", "must be a string")
    if not is_utf8_text(username):
        raise InvalidInputError("username", "must be valid Unicode text")
    if not 1 <= len(username) <= settings.username_max_length:
        raise InvalidInputError("username", f"must be 1 to {settings.username_max_length} characters")
    if _USERNAME.fullmatch(username) is None:
        raise InvalidInputError("username", "may contain only letters A-Z a-z, digits and . _ @ + -")
    return username


def is_valid_username(username: str, settings: AuthSettings) -> bool:
    """Whether ``username`` follows the rules (so could name a user)."""
    try:
        check_username(username, settings)
    except InvalidInputError:
        return False
    return True


def check_password(password: object, settings: AuthSettings) -> str:
    """Return ``password`` if it follows the policy. Raises ``InvalidInputError``."""
    if not isinstance(password, str):
        raise InvalidInputError("password", "must be a string")
    if not is_utf8_text(password):
        raise InvalidInputError("password", "must be valid Unicode text")
    if not settings.password_min_length <= len(password) <= settings.password_max_length:
        raise InvalidInputError(
            "password", f"must be {settings.password_min_length} to {settings.password_max_length} characters"
        )
    if not password.strip():
        raise InvalidInputError("password", "must not be only whitespace")
    if "\x00" in password:
        raise InvalidInputError("password", "must not contain NUL characters")
    return password


def argon2_hasher(settings: AuthSettings) -> PasswordHasher:
    """The argon2id hasher with the settings' cost."""
    return PasswordHasher(
        time_cost=settings.password_time_cost,
        memory_cost=settings.password_memory_cost,
        parallelism=settings.password_parallelism,
    )


class Passwords:
    """argon2id hashing with the settings' cost; each hash runs in a worker thread, at most
    one per CPU at a time, so a burst of logins neither blocks the event loop nor exhausts memory.

    Registrations have a smaller budget of their own inside that one (half the slots, at least
    one): a flood of registrations queues for it, and a login waits at most for the few
    registration hashes already running or next in line, never for the whole flood.

    ``hasher`` replaces the argon2id hasher the settings describe (:func:`argon2_hasher`), e.g. a
    test's ``PasswordHasher`` subclass that records or holds its calls; nothing else changes."""

    def __init__(self, settings: AuthSettings, *, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher if hasher is not None else argon2_hasher(settings)
        slots = max(2, os.cpu_count() or 2)
        self._slots = asyncio.Semaphore(slots)
        self._registration_slots = asyncio.Semaphore(max(1, slots // 2))
        self._dummy: str | None = None

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def hash_for_registration(self, password: str) -> str:
        """:meth:`hash` within the registrations' own smaller budget."""
        async with self._registration_slots:
            return await self.hash(password)

    async def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` matches; a corrupt hash is a mismatch."""
        async with self._slots:
            return await asyncio.to_thread(self._verify, password_hash, password)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError, UnicodeEncodeError):
            return False  # UnicodeEncodeError: a password with a lone surrogate matches nothing

    async def verify_dummy(self, password: str) -> bool:
        """Spend the same work as :meth:`verify` for a user that does not exist; always False."""
        if self._dummy is None:
            self._dummy = await self.hash(secrets.token_urlsafe(16))
        await self.verify(self._dummy, password)
        return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
