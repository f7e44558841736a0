"""``AccountAdministration``: the operator's side of :class:`~jwtkit.auth.service.AuthService`
(what ``jwtkit users`` calls): create, list, disable and enable users, log them out everywhere,
delete them, clear the login throttle. Each is one call to the :class:`~jwtkit.auth.accounts.Accounts`
use case; kept apart from the user-facing flows of the facade.
"""

from __future__ import annotations

from .accounts import Accounts
from .models import AccountChange, User, UserAccount

__all__ = ["AccountAdministration"]


class AccountAdministration:
    """Mixed into ``AuthService``, which provides ``_accounts``."""

    _accounts: Accounts

    async def create_user(self, username: str, password: str) -> User:
        """Create a user as :meth:`register` does, without the per-address limit (the operator's CLI).

        Raises:
            InvalidInputError, UsernameTakenError, ServiceUnavailableError: as :meth:`register`.
        """
        return await self._accounts.create(username, password)

    async def list_users(self) -> list[UserAccount]:
        """Every user with its last login, whether disabled, and its live refresh families."""
        return await self._accounts.all_accounts()

    async def disable_user(self, username: str) -> AccountChange:
        """Disable ``username`` (no login, no refresh) and log them out everywhere.

        Raises:
            LookupError: no such user.
            ServiceUnavailableError: storage is down.
        """
        return await self._accounts.disable(username)

    async def enable_user(self, username: str) -> User:
        """Let a disabled user log in again. Raises ``LookupError`` for an unknown user."""
        return await self._accounts.enable(username)

    async def log_out_everywhere(self, username: str) -> AccountChange:
        """Revoke every refresh family of ``username`` (their access tokens denied, published to
        every process) and end their cookie sessions. Raises ``LookupError`` for an unknown user."""
        return await self._accounts.log_out_everywhere(username)

    async def delete_user(self, username: str) -> AccountChange:
        """Log ``username`` out everywhere, then delete them. Raises ``LookupError`` for an unknown user."""
        return await self._accounts.delete(username)

    async def unlock(self, *, username: str | None = None, client: str | None = None) -> list[str]:
        """Clear the login throttle of ``username`` and/or the address ``client``; return the keys cleared.

        Raises:
            LookupError: no user has that name.
            ValueError: neither was given.
        """
        return await self._accounts.unlock(username=username, client=client)
