"""``AuthService``: the facade the web layer, the wiring and the CLI call — registration, login,
refresh rotation with reuse detection, logout, cookie sessions, the signing keys and maintenance.

Each job lives in its own use case, composed here by :meth:`AuthService.open` with its ports
injected; every method below is one line that delegates:

- :class:`~.login.Credentials` — registration and the throttled password check;
- :class:`~.flows.TokenFlows` — issue, verify, refresh, log out, revoke (Bearer tokens);
- :class:`~.sessions.CookieSessions` — cookie sessions (the second transport);
- :class:`~.signing.SigningKeys` — the key ring: load, rotate, retire, JWKS;
- :class:`~.listener.RevocationListener` — the revocation feed's subscriber;
- :class:`~.maintenance.Maintenance` — purge and resync.

Example::

    service = await AuthService.open(AuthSettings(), stores)
    user = await service.register("alice", "correct horse")
    pair = await service.login("alice", "correct horse", client="203.0.113.7")
    principal = service.authenticate(pair.access_token)   # sync, no I/O
    pair = await service.refresh(pair.refresh_token)
    await service.logout(service.authenticate(pair.access_token), pair.refresh_token)
    await service.close()
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from .accounts import Accounts
from .administration import AccountAdministration
from .background import BackgroundTasks
from .devices import DEVICE_SECRET_NAME, DeviceCookies, device_key
from .events import NO_EVENTS, AuthEvents
from .flows import TokenFlows
from .introspection import Introspection
from .listener import RevocationListener
from .login import Credentials
from .maintenance import Maintenance
from .models import Principal, RetiredKey, TokenPair, User
from .passwords import check_password, check_username
from .ports import Stores
from .publishing import FeedPublisher
from .revocation import RevocationView
from .sessions import CookieSessions, OpenedSession
from .settings import AuthSettings
from .signing import SigningKeys

__all__ = ["AuthService", "Clock"]

Clock = Callable[[], float]


class AuthService(AccountAdministration):
    """The auth server's service layer. Build it with :meth:`open`, release it with :meth:`close`."""

    def __init__(self, settings: AuthSettings, stores: Stores, clock: Clock, events: AuthEvents = NO_EVENTS) -> None:
        """Use :meth:`open`."""
        self._settings = settings
        self._stores = stores
        self._tasks = BackgroundTasks()
        publisher = FeedPublisher(stores.feed, self._tasks)
        view = RevocationView(stores.feed, settings)
        self._credentials = Credentials(settings, stores.users, stores.rate_limiter, clock, events)
        self._sessions = CookieSessions(settings, stores.sessions, self._credentials, clock)
        self._keys = SigningKeys(settings, stores.keys, publisher, self._tasks, clock)
        self._tokens = TokenFlows(settings, stores.users, stores.tokens, self._keys, view, publisher, clock, events)
        self._introspection = Introspection(settings, self._tokens, stores.users)
        self._listener = RevocationListener(view, self._keys, stores.tokens, publisher, clock)
        self._maintenance = Maintenance(stores, self._keys, view, self._listener, self._tasks, clock)
        self._view = view
        self._accounts = Accounts(settings, stores.users, stores.tokens, stores.sessions, stores.rate_limiter,
                                  self._credentials, self._tokens, clock)
        self._unsubscribe: Callable[[], None] = _noop

    @classmethod
    async def open(cls, settings: AuthSettings, stores: Stores, *, clock: Clock = time.time,
                   events: AuthEvents = NO_EVENTS) -> AuthService:
        """Subscribe to the revocation feed, then load the key ring (creating the first signing
        key if there is none, or a new one when ``settings.alg`` changed) and the live denylist
        into memory. (Subscribing first: a revocation committed while loading is in what is
        loaded or in a message received; applying one twice is harmless.) The service owns
        ``stores`` from here on (``close`` closes them; so does a failed ``open``). ``events``
        hears of logins, refreshes and revocations (:mod:`.events`; metrics and logs).

        Raises:
            ServiceUnavailableError: storage is unreachable.
            ValueError: a stored key cannot be decrypted with ``settings.key_encryption_secret``.
        """
        self = cls(settings, stores, clock, events)
        try:
            self._unsubscribe = stores.feed.subscribe(self._listener)
            await self._keys.load(create=True)
            self._view.apply(await stores.tokens.live_denials(now=clock()))
            seed = await stores.keys.server_secret(DEVICE_SECRET_NAME, candidate=secrets.token_bytes(32), now=clock())
            self._credentials.devices = DeviceCookies(device_key(seed, settings.key_encryption_secret),
                                                      ttl=settings.device_cookie_ttl)
        except BaseException:
            self._unsubscribe()
            await stores.close()
            raise
        return self

    async def close(self) -> None:
        """Stop maintenance and background reloads, unsubscribe from the feed, close the stores."""
        self._unsubscribe()
        self._unsubscribe = _noop
        await self._tasks.stop()
        await self._stores.close()

    @property
    def settings(self) -> AuthSettings:
        return self._settings

    @property
    def stores(self) -> Stores:
        """The ports the service was opened with (it owns them: ``close`` closes them)."""
        return self._stores

    @property
    def keys(self) -> SigningKeys:
        """The signing-key use case (its ``ring``: the active key and the prebuilt Verifier)."""
        return self._keys

    @property
    def revocations(self) -> RevocationView:
        """This process's view of the denylist (read-only use: ``len``, ``jti_denied``, ``family_denied``)."""
        return self._view

    async def register(self, username: str, password: str, *, client: str | None = None) -> User:
        """Create a user with an argon2id password hash.

        Usernames: 1..``username_max_length`` characters of ``A-Z a-z 0-9 . _ @ + -``, unique
        case-insensitively (NFKC + casefold: ``Admin`` is taken once ``admin`` exists; the name
        keeps its registered form). Passwords: ``password_min_length`` ..
        ``password_max_length`` characters, not only whitespace. With ``client`` (an address),
        at most ``register_max_per_client`` attempts per ``register_window``, taken names included.

        Raises:
            InvalidInputError: the username or password breaks the rules (``field`` says which).
            ThrottledError: too many registrations from ``client``.
            UsernameTakenError: the username exists.
            ServiceUnavailableError: storage is down.
        """
        check_username(username, self._settings)
        check_password(password, self._settings)
        return (await self._credentials.register(username, password, client)).to_user()

    async def login(self, username: str, password: str, *, client: str, device: str | None = None) -> TokenPair:
        """Check the password and issue an access/refresh pair (a new refresh family).

        An unknown user costs the same hash as a wrong password and gets the same error.
        Failures are counted per (username, ``client`` address), per username and per address
        in sliding windows (:mod:`jwtkit.auth.throttling`); while a count is over its limit every
        attempt counted on it is refused, the right password included. A valid ``device``
        cookie of this user (:meth:`device_cookie`) is counted on its own instead. An outage
        (``ServiceUnavailableError``) is never counted as a failure.

        Raises:
            ThrottledError: too many recent failures (``retry_after`` seconds).
            InvalidCredentialsError: unknown user or wrong password.
            ServiceUnavailableError: storage is down.
        """
        return await self._tokens.start_family(await self._credentials.check(username, password, client, device))

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Spend ``refresh_token`` and issue a new pair in the same family.

        The spend is one atomic conditional update: of concurrent refreshes with one token
        exactly one succeeds. A spent token presented again is reuse (RFC 9700 §4.14): the
        whole family is revoked, its refresh tokens in storage and its access tokens in the
        denylist. Concurrent refreshes of one token count as reuse too, so the family of the
        winner is revoked as well — unless ``settings.refresh_reuse_grace`` is set: a token spent
        again within that many seconds of its first spend gets the pair the first spend issued
        (same ``jti``s and claims, signed again), and the family lives on.

        Raises:
            InvalidTokenError: not a live refresh token of ours (``reason`` says why).
            ServiceUnavailableError: storage is down.
        """
        return await self._tokens.refresh(refresh_token)

    def authenticate(self, access_token: str, *, allow_stale: bool = False) -> Principal:
        """Verify an access token: signature by a key of the ring, ``exp``, ``iss``/``aud``,
        ``token_type == "access"``, and neither its ``jti`` nor its family denied. Sync, no I/O.

        While the revocation feed is out of sync for longer than
        ``settings.revocation_max_staleness`` every access token not known to be revoked is
        refused with ``ServiceUnavailableError`` (fail closed: the client should retry, not log
        in again), unless ``settings.revocation_fail_open``; one log line per outage says which.
        ``allow_stale=True`` skips that rule (for logout: revoking a token is safe whatever else
        may have revoked it meanwhile, and users must be able to log out during an outage).

        Raises:
            InvalidTokenError: the token is not valid, or known revoked (``reason`` says which).
            ServiceUnavailableError: the revocation state is stale (fail closed).
        """
        return self._tokens.authenticate(access_token, allow_stale=allow_stale)

    def remembers(self, access_token: str) -> bool:
        """Whether ``access_token``'s signature verified before and is remembered, so that
        :meth:`authenticate` of it costs no cryptography (its claims and revocation are checked
        again all the same). Checks nothing itself."""
        return self._tokens.remembers(access_token)

    async def verify_token(self, token: str) -> None:
        """Check any token of ours: an access token as :meth:`authenticate` does, a refresh
        token also against storage (issued, unspent, unrevoked).

        Raises:
            InvalidTokenError: the token is not valid now.
            ServiceUnavailableError: storage is down.
        """
        await self._tokens.verify_token(token)

    async def logout(self, principal: Principal, refresh_token: str) -> None:
        """Revoke the refresh family (and the family of ``refresh_token``), and deny the access
        token's ``jti`` until its ``exp`` — in one transaction, then published to the feed.

        Raises:
            InvalidTokenError: ``refresh_token`` is not a refresh token of this user (nothing is revoked).
            ServiceUnavailableError: storage is down.
        """
        await self._tokens.logout(principal, refresh_token)

    async def revoke_token(self, token: str) -> bool:
        """RFC 7009: revoke any token of ours — a refresh token's whole family (its access tokens
        too), an access token's ``jti`` until it expires. Returns False for a token that does not
        verify (expired, forged, junk): nothing to revoke, which RFC 7009 §2.2 answers as a success.

        Raises:
            ServiceUnavailableError: storage is down.
        """
        return await self._tokens.revoke_token(token)

    @property
    def introspection(self) -> Introspection:
        """RFC 7662 introspection: ``enabled``, ``client_authenticated``, ``introspect``."""
        return self._introspection

    async def session_login(self, username: str, password: str, *, client: str,
                            device: str | None = None) -> tuple[str, int]:
        """Check credentials like :meth:`login` and open a cookie session.

        Returns ``(session_id, max_age_seconds)``: a fresh ``secrets.token_urlsafe(32)`` every
        time (never one the client supplied); only its SHA-256 is stored.

        Raises:
            ThrottledError, InvalidCredentialsError, ServiceUnavailableError: as :meth:`login`.
        """
        return await self._sessions.login(username, password, client=client, device=device)

    async def open_session(self, username: str, password: str, *, client: str,
                           device: str | None = None) -> OpenedSession:
        """:meth:`session_login`, answering the session's user too (no read of the session back).

        Raises:
            ThrottledError, InvalidCredentialsError, ServiceUnavailableError: as :meth:`login`.
        """
        return await self._sessions.open(username, password, client=client, device=device)

    def device_cookie(self, username: str) -> str:
        """A fresh device cookie for ``username``: give it to the client after its successful
        login (``Max-Age`` = ``settings.device_cookie_ttl``) and pass it back as ``device=`` to
        :meth:`login` / :meth:`session_login`, so lockouts aimed at the user do not refuse it."""
        return self._credentials.device_cookie(username)

    async def session_user(self, session_id: str) -> User:
        """The user of a live session.

        Raises:
            InvalidTokenError: unknown, expired or malformed session id.
            ServiceUnavailableError: storage is down.
        """
        return await self._sessions.user(session_id)

    async def session_logout(self, session_id: str) -> None:
        """End a session (no error if it does not exist)."""
        await self._sessions.logout(session_id)

    def jwks(self) -> dict[str, Any]:
        """The public JWKS: the active key and retired keys whose tokens may still be alive.
        Never a private member."""
        return self._keys.jwks()

    async def rotate_keys(self) -> str:
        """Make a new active signing key and retire the current one, which stays published
        (and accepted) until every token it signed has expired. Returns the new ``kid``.

        Raises:
            ServiceUnavailableError: storage is down.
        """
        return await self._keys.rotate()

    async def retire_key(self, kid: str) -> RetiredKey:
        """End the signing key ``kid`` now, e.g. because it leaked: no worker trusts it any more
        (the feed announces it; polling and the maintenance reload pick it up too), the JWKS drops
        it, and the sessions (refresh families) whose latest tokens it signed are revoked: their
        users must log in again. The active key is replaced first (a rotation), so the server
        always has a key to sign with. Families started before schema version 6 are not counted.

        Raises:
            LookupError: no live signing key has this ``kid``.
            ServiceUnavailableError: storage is down.
        """
        return await self._keys.retire(kid)

    async def purge_expired(self) -> int:
        """Delete expired refresh tokens, denylist entries, sessions, login attempts that left
        the throttling window, and dead signing keys, and drop expired denylist entries from
        memory. Returns the number of rows (and rate-limiter events) deleted.

        Raises:
            ServiceUnavailableError: storage (or the rate limiter's backend) is down.
        """
        return await self._maintenance.purge_expired()

    async def run_maintenance(self, *, interval: float = 60.0) -> None:
        """Every ``interval`` seconds: :meth:`purge_expired` (so tables and the in-memory
        denylist stay bounded) and :meth:`resync` (reload the live denylist and the key
        ring from the database: the backstop for feed messages lost without a reconnection).
        Failures are logged and retried at the next round; runs until cancelled.

        :meth:`start_maintenance` runs it as a task that :meth:`close` stops; every worker
        may run it (the deletes are idempotent).
        """
        await self._maintenance.run(interval=interval, purge=self.purge_expired)

    def start_maintenance(self, *, interval: float = 60.0) -> None:
        """Run :meth:`run_maintenance` in the background until :meth:`close`. Call it from a
        running event loop (e.g. the web app's lifespan), once per service."""
        self._maintenance.start(interval=interval, purge=self.purge_expired)

    async def resync(self) -> None:
        """Merge the database's live denylist into memory and reload the key ring now (what the
        feed does after missing messages, and maintenance every round).

        Raises:
            ServiceUnavailableError: storage is down.
        """
        await self._listener.on_resync()

    # ---- accounts (:mod:`.accounts`)
    async def change_password(self, principal: Principal, current_password: str, new_password: str, *,
                              client: str, keep_current_session: bool = False) -> TokenPair:
        """Change the password of ``principal``'s user and log them out everywhere: every refresh
        family of theirs is revoked and its access tokens denied (as at logout), their cookie
        sessions end, and a fresh pair (a new family) is returned. ``keep_current_session`` spares
        the family of ``principal``'s token. ``new_password`` follows the registration policy.
        A wrong ``current_password`` is counted as a failed login of the user from ``client``.

        Raises:
            InvalidInputError: ``new_password`` breaks the policy (``field == "new_password"``).
            WrongPasswordError: ``current_password`` is wrong.
            ThrottledError: too many failed logins of this user (or from ``client``).
            InvalidTokenError: the token's user no longer exists.
            ServiceUnavailableError: storage is down.
        """
        return await self._accounts.change_password(principal, current_password, new_password, client=client,
                                                    keep_current_session=keep_current_session)


def _noop() -> None:
    return None

