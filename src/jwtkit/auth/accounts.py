"""``Accounts``: the account lifecycle — a user changing their password, and what an operator does
(``jwtkit users``): create, list, disable and enable, log out everywhere, delete, unlock.

Logging a user out everywhere is the logout machinery applied to every live refresh family of
theirs (:meth:`.flows.TokenFlows.revoke`): the families are revoked in storage and denied (so their
access tokens are refused until the last one expires) in one transaction, then published on the
revocation feed, which every server process applies (at once over Redis, else at its next
database poll). Their cookie sessions are deleted. A disabled user is refused at login and at
refresh as well, so a login that raced the command ends at its first refresh.

A wrong current password is counted by the login throttle like a failed login (per username,
address and pair): whoever holds a stolen access token cannot guess the password through it any
faster than through ``POST /auth/token``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from .errors import InvalidCredentialsError, InvalidInputError, InvalidTokenError, WrongPasswordError
from .flows import TokenFlows
from .login import Credentials
from .models import AccountChange, Principal, TokenPair, User, UserAccount, UserRecord, username_key
from .passwords import check_password, check_username
from .ports import RateLimiter, SessionStore, TokenStore, UserStore
from .settings import AuthSettings
from .throttling import LoginThrottle, lock_keys

__all__ = ["Accounts"]

log = logging.getLogger(__name__)


class Accounts:
    """Password changes and the operator's account operations."""

    def __init__(self, settings: AuthSettings, users: UserStore, tokens: TokenStore, sessions: SessionStore,
                 limiter: RateLimiter, credentials: Credentials, flows: TokenFlows,
                 clock: Callable[[], float]) -> None:
        self._settings = settings
        self._users = users
        self._tokens = tokens
        self._sessions = sessions
        self._limiter = limiter
        self._credentials = credentials
        self._flows = flows
        self._clock = clock
        self._throttle = LoginThrottle(limiter, settings)

    async def change_password(self, principal: Principal, current: str, new: str, *, client: str,
                              keep_current_session: bool = False) -> TokenPair:
        """See ``AuthService.change_password``."""
        try:
            check_password(new, self._settings)
        except InvalidInputError as exc:
            raise InvalidInputError("new_password", exc.reason) from None
        try:
            user = await self._credentials.check(principal.username, current, client)
        except InvalidCredentialsError:
            raise WrongPasswordError() from None
        if user.id != principal.user_id:  # the token's user was deleted, and the name taken again
            raise InvalidTokenError("user no longer exists", kind="ended")
        await self._users.set_password_hash(user.id, await self._credentials.passwords.hash(new))
        spared = principal.family_id if keep_current_session else None
        ended = await self._log_out(user, spare=spared, current=None if keep_current_session else principal)
        log.info("user %s changed their password: %d session(s) ended", user.id, ended.sessions_ended)
        return await self._flows.start_family(user)

    async def create(self, username: str, password: str) -> User:
        """A new user (the rules of registration; not throttled: the operator's command)."""
        check_username(username, self._settings)
        check_password(password, self._settings)
        return (await self._credentials.register(username, password, None)).to_user()

    async def all_accounts(self) -> list[UserAccount]:
        """Every user, with ``locked_for`` probed from the login throttle."""
        now = self._clock()
        return [dataclasses.replace(account, locked_for=await self._throttle.locked_for(username_key(account.username),
                                                                                        now=now))
                for account in await self._users.list_users(now=now)]

    async def disable(self, username: str) -> AccountChange:
        """Disable the user (before logging them out: a login racing this is refused at its refresh)."""
        user = await self._user(username)
        await self._users.set_disabled(user.id, disabled_at=self._clock())
        return await self._log_out(user)

    async def enable(self, username: str) -> User:
        user = await self._user(username)
        await self._users.set_disabled(user.id, disabled_at=None)
        return user.to_user()

    async def log_out_everywhere(self, username: str) -> AccountChange:
        return await self._log_out(await self._user(username))

    async def delete(self, username: str) -> AccountChange:
        """Log the user out everywhere (their tokens denied until they expire), then delete them."""
        user = await self._user(username)
        ended = await self._log_out(user)
        if not await self._users.delete_user(user.id):
            raise LookupError(f"no user named {username!r}")
        return ended

    async def unlock(self, *, username: str | None = None, client: str | None = None) -> list[str]:
        """Clear the login throttle's counts of ``username`` (from every address), of ``client`` (an
        address: its logins and registrations), and with both of the pair; return the keys cleared.

        Raises:
            LookupError: no user has that name.
            ValueError: neither was given.
        """
        if username is None and client is None:
            raise ValueError("name a user or an address to unlock")
        key = None
        if username is not None:
            key = username_key((await self._user(username)).username)
        keys = lock_keys(username_key=key, client=client)
        for name in keys:
            await self._limiter.reset(name)
        return keys

    async def _user(self, username: str) -> UserRecord:
        user = await self._users.get_user_by_name(username)
        if user is None:
            raise LookupError(f"no user named {username!r}")
        return user

    async def _log_out(self, user: UserRecord, *, spare: str | None = None,
                       current: Principal | None = None) -> AccountChange:
        """Revoke every live family of ``user`` but ``spare`` (and deny ``current``'s family, live
        or not), then delete their cookie sessions."""
        now = self._clock()
        families = set(await self._tokens.live_families(user.id, now=now))
        if current is not None:
            families.add(current.family_id)
        if spare is not None:
            families.discard(spare)
        if families:
            await self._flows.revoke(sorted(families), [], now)
        cookies = await self._sessions.delete_user_sessions(user.id)
        return AccountChange(user=user.to_user(), sessions_ended=len(families), cookie_sessions_ended=cookies)
