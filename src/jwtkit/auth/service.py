"""``AuthService``: registration, login, refresh rotation with reuse detection, logout,
cookie sessions and the signing-key ring, over the ports of :mod:`jwtkit.auth.ports`.

Async and framework-free: the HTTP layer (``jwtkit.web``) calls it; Bearer tokens and cookie
sessions are two transports over this one service (STYLE.md §9).

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

import asyncio
import functools
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from jwtkit.core.keys import Key
from jwtkit.errors import JWTError

from .background import BackgroundTasks
from .devices import DEVICE_SECRET_NAME, DeviceCookies, device_key
from .errors import InvalidTokenError
from .grace import replay_within_grace
from .keyring import KeyCipher, KeyRing, new_signing_key
from .login import Credentials
from .models import Denial, Principal, RetiredKey, SigningKeyRecord, TokenPair, User, UserRecord
from .passwords import check_password, check_username
from .ports import SpendResult, Stores
from .revocation import RevocationView
from .sessions import CookieSessions
from .settings import AuthSettings
from .tokens import ACCESS_LIFETIME_LEEWAY, check_claims, issue_pair

__all__ = ["AuthService", "Clock"]

log = logging.getLogger(__name__)

Clock = Callable[[], float]

_PUBLISH_RETRY_FIRST, _PUBLISH_RETRY_MAX = 0.1, 1.0  # seconds between tries of a failed feed publish


class AuthService:
    """The auth server's service layer. Build it with :meth:`open`, release it with :meth:`close`."""

    def __init__(self, settings: AuthSettings, stores: Stores, clock: Clock) -> None:
        """Use :meth:`open`."""
        self._settings = settings
        self._stores = stores
        self._clock = clock
        self._credentials = Credentials(settings, stores.users, stores.rate_limiter, clock)
        self._sessions = CookieSessions(settings, stores.sessions, self._credentials, clock)
        self._cipher = KeyCipher(settings.key_encryption_secret)
        self._ring: KeyRing | None = None  # set by open(); swapped whole on rotation
        self._ring_records: list[SigningKeyRecord] | None = None  # what self._ring was built from
        self._view = RevocationView(stores.feed, settings)
        self._unsubscribe: Callable[[], None] = _noop
        self._tasks = BackgroundTasks()

    @classmethod
    async def open(cls, settings: AuthSettings, stores: Stores, *, clock: Clock = time.time) -> AuthService:
        """Subscribe to the revocation feed, then load the key ring (creating the first signing
        key if there is none, or a new one when ``settings.alg`` changed) and the live denylist
        into memory. (Subscribing first: a revocation committed while loading is in what is
        loaded or in a message received; applying one twice is harmless.) The service owns
        ``stores`` from here on (``close`` closes them; so does a failed ``open``).

        Raises:
            ServiceUnavailableError: storage is unreachable.
            ValueError: a stored key cannot be decrypted with ``settings.key_encryption_secret``.
        """
        self = cls(settings, stores, clock)
        try:
            self._unsubscribe = stores.feed.subscribe(self)
            await self._load_ring(create=True)
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
        record = await self._credentials.register(username, password, client)
        return record.to_user()

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
        user = await self._credentials.check(username, password, client, device)
        return await self._start_family(user)

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
        claims = self._verify(refresh_token, "refresh")
        family_id: str = claims["fid"]
        if self._view.family_denied(family_id):
            raise InvalidTokenError("refresh family revoked")
        user = await self._stores.users.get_user(claims["user_id"])
        if user is None:
            raise InvalidTokenError("user no longer exists")
        now = self._clock()
        pair, successor = issue_pair(self._active_key(), self._settings, user, family_id, now)
        result = await self._stores.tokens.spend_refresh(claims["jti"], now=now, successor=successor)
        if result is SpendResult.SPENT:
            return pair
        if result is SpendResult.REUSED:
            replayed = await replay_within_grace(self._stores.tokens, self._active_key(), self._settings, user,
                                                 claims["jti"], now=now)
            if replayed is not None:
                return replayed
            log.warning("refresh token reuse (jti %s, user %s): revoking family %s", claims["jti"], user.id, family_id)
            await self._revoke([family_id], [], now)
            raise InvalidTokenError("refresh token reused; family revoked")
        raise InvalidTokenError(f"refresh token {result.value}")

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
        return self._principal(self._verify(access_token, "access"), allow_stale=allow_stale)

    def _principal(self, claims: dict[str, Any], *, allow_stale: bool = False) -> Principal:
        """The rest of :meth:`authenticate`, for claims already verified as an access token's."""
        jti: str = claims["jti"]
        family_id: str = claims["fid"]
        if self._view.jti_denied(jti) or self._view.family_denied(family_id):
            raise InvalidTokenError("access token revoked")
        if not allow_stale:
            self._view.check_fresh()
        username = claims.get("username")
        if not isinstance(username, str):
            raise InvalidTokenError("claim 'username' is missing or not a string")
        return Principal(
            user_id=claims["user_id"], username=username, jti=jti, exp=int(claims["exp"]),
            family_id=family_id, claims=claims,
        )

    async def verify_token(self, token: str) -> None:
        """Check any token of ours: an access token as :meth:`authenticate` does, a refresh
        token also against storage (issued, unspent, unrevoked).

        Raises:
            InvalidTokenError: the token is not valid now.
            ServiceUnavailableError: storage is down.
        """
        if not isinstance(token, str):
            raise InvalidTokenError("token is not a string")
        claims = self._verify(token, None)
        if claims["token_type"] == "access":
            self._principal(claims)
            return
        if self._view.family_denied(claims["fid"]):
            raise InvalidTokenError("refresh family revoked")
        record = await self._stores.tokens.get_refresh(claims["jti"])
        if record is None:
            raise InvalidTokenError("refresh token unknown")
        if record.revoked_at is not None:
            raise InvalidTokenError("refresh family revoked")
        if record.spent_at is not None:
            raise InvalidTokenError("refresh token spent")

    async def logout(self, principal: Principal, refresh_token: str) -> None:
        """Revoke the refresh family (and the family of ``refresh_token``), and deny the access
        token's ``jti`` until its ``exp`` — in one transaction, then published to the feed.

        Raises:
            InvalidTokenError: ``refresh_token`` is not a refresh token of this user (nothing is revoked).
            ServiceUnavailableError: storage is down.
        """
        claims = self._verify(refresh_token, "refresh")
        if claims["user_id"] != principal.user_id:
            raise InvalidTokenError("refresh token of another user")
        now = self._clock()
        family_ids = sorted({principal.family_id, claims["fid"]})
        await self._revoke(family_ids, [Denial(kind="jti", value=principal.jti, expires_at=principal.exp)], now)

    async def session_login(self, username: str, password: str, *, client: str,
                            device: str | None = None) -> tuple[str, int]:
        """Check credentials like :meth:`login` and open a cookie session.

        Returns ``(session_id, max_age_seconds)``: a fresh ``secrets.token_urlsafe(32)`` every
        time (never one the client supplied); only its SHA-256 is stored.

        Raises:
            ThrottledError, InvalidCredentialsError, ServiceUnavailableError: as :meth:`login`.
        """
        return await self._sessions.login(username, password, client=client, device=device)

    def device_cookie(self, username: str) -> str:
        """A fresh device cookie for ``username``: give it to the client after its successful
        login (``Max-Age`` = ``settings.device_cookie_ttl``) and pass it back as ``device=`` to
        :meth:`login` / :meth:`session_login`, so lockouts aimed at the user do not refuse it."""
        cookie = self._credentials.device_cookie(username)
        assert cookie is not None, "the service is open"
        return cookie

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
        assert self._ring is not None
        return self._ring.jwks(now=self._clock())

    async def rotate_keys(self) -> str:
        """Make a new active signing key and retire the current one, which stays published
        (and accepted) until every token it signed has expired. Returns the new ``kid``.

        Raises:
            ServiceUnavailableError: storage is down.
        """
        now = self._clock()
        record = new_signing_key(self._settings.alg, self._cipher, now=now)
        await self._stores.keys.add_signing_key(
            record, retire_others_at=now, not_after=now + self._settings.key_lifetime_after_retirement
        )
        await self._load_ring(create=False)
        await self._publish(self._stores.feed.publish_keys_changed)
        log.info("signing keys rotated: new active key %s", record.kid)
        return record.kid

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
        records = {record.kid: record for record in await self._stores.keys.signing_keys()}
        record = records.get(kid)
        now = self._clock()
        if record is None or (record.not_after is not None and record.not_after <= now):
            raise LookupError(f"no live signing key with kid {kid!r}")
        replaced_by = await self.rotate_keys() if record.retired_at is None else None
        sessions = await self._stores.keys.retire_signing_key(kid, now=self._clock())
        if sessions is None:
            raise LookupError(f"no live signing key with kid {kid!r}")
        await self._load_ring(create=False)
        await self._publish(self._stores.feed.publish_keys_changed)
        log.warning("signing key %s retired: no longer trusted; %d sessions it signed were ended", kid, sessions)
        return RetiredKey(kid=kid, sessions_ended=sessions, replaced_by=replaced_by)

    async def purge_expired(self) -> int:
        """Delete expired refresh tokens, denylist entries, sessions, login attempts that left
        the throttling window, and dead signing keys, and drop expired denylist entries from
        memory. Returns the number of rows (and rate-limiter events) deleted.

        Raises:
            ServiceUnavailableError: storage (or the rate limiter's backend) is down.
        """
        now = self._clock()
        deleted = await self._stores.tokens.purge_tokens(now=now)
        deleted += await self._stores.sessions.purge_sessions(now=now)
        deleted += await self._stores.rate_limiter.purge(now=now)
        dead_keys = await self._stores.keys.purge_signing_keys(now=now)
        if dead_keys:
            await self._load_ring(create=False)
        self._view.expire(now=now)
        return deleted + dead_keys

    async def run_maintenance(self, *, interval: float = 60.0) -> None:
        """Every ``interval`` seconds: :meth:`purge_expired` (so tables and the in-memory
        denylist stay bounded) and :meth:`on_resync` (reload the live denylist and the key
        ring from the database: the backstop for feed messages lost without a reconnection).
        Failures are logged and retried at the next round; runs until cancelled.

        :meth:`start_maintenance` runs it as a task that :meth:`close` stops; every worker
        may run it (the deletes are idempotent).
        """
        if not interval > 0:
            raise ValueError("interval must be > 0")
        while True:
            await asyncio.sleep(interval)
            try:
                purged = await self.purge_expired()
                await self.on_resync()
            except Exception:
                log.exception("maintenance failed; retrying in %s s", interval)
            else:
                log.debug("maintenance: purged %d expired rows; %d live denials in memory", purged, len(self._view))

    def start_maintenance(self, *, interval: float = 60.0) -> None:
        """Run :meth:`run_maintenance` in the background until :meth:`close`. Call it from a
        running event loop (e.g. the web app's lifespan), once per service."""
        self._tasks.spawn(self.run_maintenance(interval=interval))

    # ---- internals ------------------------------------------------------------------------

    async def _load_ring(self, *, create: bool) -> None:
        now = self._clock()
        records = await self._stores.keys.signing_keys()
        if not create and records == self._ring_records:
            return  # unchanged: keep the prebuilt Verifier
        try:
            ring: KeyRing | None = KeyRing.build(records, self._cipher, self._settings, now=now)
        except LookupError:
            ring = None
        if ring is None and not create:
            # A reload is no place to create keys: keep signing with the ring we have.
            log.error("no active signing key in storage; keeping the current key ring")
            return
        if ring is None or (create and ring.active.alg != self._settings.alg):
            # Retire whatever is active, even when we found none: a process that started at the
            # same moment may have just created one (the store serializes the two changes).
            record = new_signing_key(self._settings.alg, self._cipher, now=now)
            await self._stores.keys.add_signing_key(
                record, retire_others_at=now, not_after=now + self._settings.key_lifetime_after_retirement
            )
            log.info("created signing key %s (%s)", record.kid, record.alg)
            records = await self._stores.keys.signing_keys()
            ring = KeyRing.build(records, self._cipher, self._settings, now=now)
        self._ring, self._ring_records = ring, records

    def _verify(self, token: object, token_type: str | None) -> dict[str, Any]:
        """Verify with the ring's prebuilt Verifier; check our claims' types. InvalidTokenError otherwise."""
        if not isinstance(token, str):
            raise InvalidTokenError("token is not a string")
        assert self._ring is not None
        try:
            claims = self._ring.verifier.verify(token, now=self._clock())
        except JWTError as exc:
            raise InvalidTokenError(f"{exc.code}: {exc.reason}") from None
        return check_claims(claims, token_type, max_access_lifetime=self._settings.access_ttl + ACCESS_LIFETIME_LEEWAY)

    def _active_key(self) -> Key:
        assert self._ring is not None
        return self._ring.active

    async def _start_family(self, user: UserRecord) -> TokenPair:
        pair, first = issue_pair(self._active_key(), self._settings, user, secrets.token_urlsafe(16),
                                 self._clock())
        await self._stores.tokens.start_family(first)
        return pair

    async def _revoke(self, family_ids: Sequence[str], denials: Sequence[Denial], now: float) -> None:
        """Revoke families (in storage, and their access tokens in the denylist until the last one
        expires) plus ``denials``, in one transaction; then apply and publish. The store extends
        each family's denial to its latest access token's ``exp`` (which may have been issued under
        a longer ``access_ttl``); ``now + access_ttl`` is the floor for families from before schema 3."""
        last_access_exp = int(now) + self._settings.access_ttl
        everything = [Denial(kind="family", value=fid, expires_at=last_access_exp) for fid in family_ids]
        everything += denials
        everything = await self._stores.tokens.revoke(family_ids=family_ids, denials=everything, now=now)
        self.on_denials(everything)
        await self._publish(functools.partial(self._stores.feed.publish_denials, everything))

    async def _publish(self, send: Callable[[], Awaitable[None]]) -> None:
        """Send a feed message; if that fails, keep retrying it in the background until it goes
        through (or :meth:`close`). The database already holds the change, so a failure only
        delays other processes: by the retry backoff (at most ``_PUBLISH_RETRY_MAX`` s between
        tries) once the feed works again. While Redis is down the other workers' feeds are stale
        too, and they fail closed (``revocation_max_staleness``); only if this process dies
        before a retry succeeds do they wait for their maintenance reload (``run_maintenance``)."""
        try:
            await send()
        except Exception as exc:
            log.warning("could not publish to the revocation feed (%r); retrying in the background",
                        exc.__cause__ or exc)
            self._tasks.spawn(self._publish_until_sent(send))

    async def _publish_until_sent(self, send: Callable[[], Awaitable[None]]) -> None:
        delay = _PUBLISH_RETRY_FIRST
        while True:
            await asyncio.sleep(delay)
            try:
                await send()
            except Exception:
                delay = min(delay * 2, _PUBLISH_RETRY_MAX)
            else:
                log.warning("revocation feed: a delayed message was published")
                return

    # ---- FeedListener ---------------------------------------------------------------------

    def on_denials(self, denials: Sequence[Denial]) -> None:
        """Apply revocations made here or, through the feed, by another process."""
        self._view.apply(denials)

    def on_keys_changed(self) -> None:
        """Another process rotated the keys: reload the ring in the background."""
        self._tasks.spawn(self._reload_ring())

    async def on_resync(self) -> None:
        """The feed may have missed messages: merge the database's live denylist into memory
        and reload the key ring (the Verifier is rebuilt only if the keys changed).

        Raises:
            ServiceUnavailableError: storage is down (the feed stays stale and retries).
        """
        now = self._clock()
        self._view.apply(await self._stores.tokens.live_denials(now=now))
        self._view.expire(now=now)
        await self._load_ring(create=False)

    async def _reload_ring(self) -> None:
        try:
            await self._load_ring(create=False)
        except Exception:
            log.exception("could not reload the signing keys")


def _noop() -> None:
    return None

