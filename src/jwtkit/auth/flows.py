"""``TokenFlows``: the Bearer-token use case — issue a pair at login, verify an access token
(the one verification path), rotate a refresh token with reuse detection, log out, revoke.

A refresh decides before it hands out a pair: the successor's record (its ``jti``s and ``exp``s)
is computed without signing, the store checks the user and spends the old token with it in one
conditional update (one round trip where it can), and only a ``SPENT`` answer is answered with a
pair. Where the store waits (PostgreSQL: a round trip and a WAL flush), the pair is signed during
that wait for the user the refresh token names, and used only if the store's user is that user.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence

from .errors import InvalidTokenError
from .events import NO_EVENTS, AuthEvents
from .grace import replay_within_grace
from .models import Denial, Principal, TokenPair, UserRecord
from .overlap import start_now
from .ports import SpendResult, TokenStore, UserStore
from .publishing import FeedPublisher
from .revocation import RevocationView
from .settings import AuthSettings
from .signing import SigningKeys
from .tokens import (
    ACCESS_LIFETIME_LEEWAY,
    TokenClaims,
    check_access_typ,
    check_claims,
    issue_pair,
    new_refresh_record,
    refresh_username,
    resign_pair,
    sign_pair,
)

__all__ = ["TokenFlows"]

log = logging.getLogger(__name__)


class TokenFlows:
    """Issue, verify, refresh and revoke access/refresh pairs."""

    def __init__(self, settings: AuthSettings, users: UserStore, tokens: TokenStore, keys: SigningKeys,
                 view: RevocationView, publisher: FeedPublisher, clock: Callable[[], float],
                 events: AuthEvents = NO_EVENTS) -> None:
        self._settings = settings
        self._events = events
        self._users = users
        self._tokens = tokens
        self._keys = keys
        self._view = view
        self._publisher = publisher
        self._clock = clock
        self._max_access_lifetime = settings.access_ttl + ACCESS_LIFETIME_LEEWAY
        self._at_jwt = settings.access_token_profile == "rfc9068"  # access tokens must say typ: at+jwt

    def claims(self, token: object, token_type: str | None) -> TokenClaims:
        """The checked claims of a token of ours (signature, registered claims, our claims).

        Raises:
            InvalidTokenError: the token is not valid (``reason`` says why).
        """
        claims = self._keys.verify(token, token_type)
        checked = check_claims(claims, token_type, max_access_lifetime=self._max_access_lifetime)
        if self._at_jwt and checked.token_type == "access":
            check_access_typ(str(token))  # RFC 9068 §4 (verify() took only a str)
        return checked

    def authenticate(self, access_token: str, *, allow_stale: bool = False) -> Principal:
        """See ``AuthService.authenticate``."""
        return self._admit(self.claims(access_token, "access"), allow_stale=allow_stale)

    def remembers(self, access_token: str) -> bool:
        """See ``AuthService.remembers``."""
        return self._keys.remembers(access_token)

    async def verify_token(self, token: str) -> None:
        """See ``AuthService.verify_token``."""
        await self.live_claims(token)

    async def live_claims(self, token: str) -> TokenClaims:
        """The claims of a token of ours that is valid now: an access token not denied (and the
        view fresh), a refresh token issued, unspent and unrevoked in storage.

        Raises:
            InvalidTokenError: it is not.
            ServiceUnavailableError: storage is down, or the revocation view is stale.
        """
        claims = self.claims(token, None)
        if claims.token_type == "access":
            self._admit(claims, allow_stale=False)
            return claims
        if self._view.family_denied(claims.family_id):
            raise InvalidTokenError("refresh family revoked")
        record = await self._tokens.get_refresh(claims.jti)
        if record is None:
            raise InvalidTokenError("refresh token unknown")
        if record.revoked_at is not None:
            raise InvalidTokenError("refresh family revoked")
        if record.spent_at is not None:
            raise InvalidTokenError("refresh token spent")
        return claims

    async def start_family(self, user: UserRecord) -> TokenPair:
        """A new refresh family (one login) and its first pair."""
        pair, first = issue_pair(self._keys.active, self._keys.refresh_signer, self._settings, user,
                                 secrets.token_urlsafe(16), self._clock())
        await self._tokens.start_family(first)
        return pair

    async def refresh(self, refresh_token: str) -> TokenPair:
        """See ``AuthService.refresh``."""
        claims = self.claims(refresh_token, "refresh")
        if self._view.family_denied(claims.family_id):
            raise InvalidTokenError("refresh family revoked")
        now = self._clock()
        key, refresh_key = self._keys.active, self._keys.refresh_signer
        successor = new_refresh_record(key, self._settings, claims.user_id, claims.family_id, now)
        # One round trip (where the store can): the user is checked and the token spent together.
        spending = start_now(self._tokens.spend_refresh_for_user(claims.user_id, claims.jti, now=now,
                                                                 successor=successor))
        ahead, username = None, refresh_username(claims)
        if not spending.done and username is not None:
            try:  # while the store works; wasted only when it refuses
                ahead = sign_pair(key, refresh_key, self._settings, claims.user_id, username, successor)
            except BaseException:
                await spending  # never leave the spend half-run, holding its connection
                raise
        spend = await spending
        user, result = spend.user, spend.result
        if user is None:
            raise InvalidTokenError("user no longer exists")
        if user.disabled_at is not None or result is None:
            raise InvalidTokenError("user disabled", kind="ended")
        if result is SpendResult.SPENT:
            self._events.refresh("ok", user.id)
            if ahead is not None and user.username == username:  # the store's user is claims.user_id
                return ahead
            return resign_pair(key, refresh_key, self._settings, user, successor)
        if result is SpendResult.REUSED:
            replayed = await replay_within_grace(self._tokens, key, refresh_key, self._settings, user, claims.jti,
                                                 now=now)
            if replayed is not None:
                self._events.refresh("grace", user.id)
                return replayed
            log.warning("refresh token reuse (jti %s, user %s): revoking family %s",
                        claims.jti, user.id, claims.family_id)
            self._events.refresh("reused", user.id)
            await self.revoke([claims.family_id], [], now, user_id=user.id)
            raise InvalidTokenError("refresh token reused; family revoked")
        raise InvalidTokenError(f"refresh token {result.value}")

    async def logout(self, principal: Principal, refresh_token: str) -> None:
        """See ``AuthService.logout``."""
        claims = self.claims(refresh_token, "refresh")
        if claims.user_id != principal.user_id:
            raise InvalidTokenError("refresh token of another user")
        family_ids = sorted({principal.family_id, claims.family_id})
        await self.revoke(family_ids, [Denial(kind="jti", value=principal.jti, expires_at=principal.exp)],
                          self._clock(), user_id=principal.user_id)

    async def revoke_token(self, token: str) -> bool:
        """RFC 7009: revoke a token of ours whatever else it is — a refresh token's whole family,
        an access token's ``jti`` until its ``exp``. A token that does not verify (expired,
        forged, junk) has nothing to revoke: returns False, as RFC 7009 §2.2 answers it anyway.

        Raises:
            ServiceUnavailableError: storage is down.
        """
        try:
            claims = self.claims(token, None)
        except InvalidTokenError:
            return False
        if claims.token_type == "refresh":
            await self.revoke([claims.family_id], [], self._clock())
        else:
            await self.revoke([], [Denial(kind="jti", value=claims.jti, expires_at=claims.exp)], self._clock())
        return True

    async def revoke(self, family_ids: Sequence[str], denials: Sequence[Denial], now: float, *,
                     user_id: int | None = None) -> None:
        """Revoke families (in storage, and their access tokens in the denylist until the last one
        expires) plus ``denials``, in one transaction; then apply here and publish. The store
        extends each family's denial to its latest access token's ``exp`` (which may have been
        issued under a longer ``access_ttl``); ``now + access_ttl`` is the floor for families from
        before schema 3."""
        last_access_exp = int(now) + self._settings.access_ttl
        everything = [Denial(kind="family", value=fid, expires_at=last_access_exp) for fid in family_ids]
        everything += denials
        written = await self._tokens.revoke(family_ids=family_ids, denials=everything, now=now)
        self._view.apply(written)
        self._events.revoked(families=len(family_ids), tokens=len(denials), user_id=user_id)
        await self._publisher.denials(written)

    def _admit(self, claims: TokenClaims, *, allow_stale: bool) -> Principal:
        """The principal of checked access-token claims, unless revoked (or the view is stale)."""
        if self._view.jti_denied(claims.jti) or self._view.family_denied(claims.family_id):
            raise InvalidTokenError("access token revoked")
        if not allow_stale:
            self._view.check_fresh()
        return claims.principal()
