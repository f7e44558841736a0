"""``Introspection``: RFC 7662 token introspection — who may ask (one client, by a secret from the
settings, compared in constant time) and what a resource server learns about a token.

A token is ``active`` exactly when :meth:`AuthService.verify_token` would accept it now: an access
token verified and not denied, a refresh token also issued, unspent and unrevoked in storage.
Everything else — expired, revoked, spent, forged, another issuer's, junk — is ``{"active": false}``
and nothing more (§2.2: no hint why). An active token's answer carries the §2.2 members its claims
have: ``scope``, ``client_id``, ``username``, ``token_type``, ``exp``, ``iat``, ``nbf``, ``sub``,
``aud``, ``iss``, ``jti``; ``token_type`` is ``Bearer`` (RFC 6749 §5.1) for an access token, and
``token_use`` (as Ory Hydra says it) names which of ours it is: ``access_token`` or ``refresh_token``.
"""

from __future__ import annotations

import hmac
from typing import Any

from .errors import InvalidTokenError
from .flows import TokenFlows
from .ports import UserStore
from .settings import AuthSettings

__all__ = ["INACTIVE", "Introspection"]

INACTIVE: dict[str, Any] = {"active": False}
_COPIED = ("scope", "client_id", "exp", "iat", "nbf", "sub", "aud", "iss", "jti")


class Introspection:
    """RFC 7662 over the token flows."""

    def __init__(self, settings: AuthSettings, flows: TokenFlows, users: UserStore) -> None:
        secret = settings.introspection_client_secret
        self._client = None if secret is None else (settings.introspection_client_id.encode(), secret.encode())
        self._flows = flows
        self._users = users

    @property
    def enabled(self) -> bool:
        """Whether a client secret is configured (without one, nobody may introspect)."""
        return self._client is not None

    def client_authenticated(self, client_id: str, client_secret: str) -> bool:
        """Whether these are the introspection client's credentials (both compared in constant
        time, always both, so the answer's timing says nothing about which was wrong)."""
        if self._client is None:
            return False
        expected_id, expected_secret = self._client
        id_ok = hmac.compare_digest(client_id.encode("utf-8", "surrogateescape"), expected_id)
        secret_ok = hmac.compare_digest(client_secret.encode("utf-8", "surrogateescape"), expected_secret)
        return id_ok & secret_ok

    async def introspect(self, token: str) -> dict[str, Any]:
        """The RFC 7662 §2.2 answer for ``token``.

        Raises:
            ServiceUnavailableError: storage is down, or revocations are not confirmed current
                (an answer of ``active`` could be wrong, and ``inactive`` would log users out).
        """
        try:
            claims = await self._flows.live_claims(token)
        except InvalidTokenError:
            return dict(INACTIVE)
        username = claims.username
        if username is None:  # a refresh token: its claims do not name the user
            user = await self._users.get_user(claims.user_id)
            if user is None:
                return dict(INACTIVE)
            username = user.username
        answer: dict[str, Any] = {"active": True, "username": username}
        answer |= {name: claims.raw[name] for name in _COPIED if name in claims.raw}
        if claims.token_type == "access":
            answer["token_type"] = "Bearer"
        answer["token_use"] = f"{claims.token_type}_token"
        return answer
