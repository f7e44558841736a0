"""The refresh-reuse grace (``AuthSettings.refresh_reuse_grace``): a refresh token spent again
shortly after its first spend is answered with the pair that first spend issued, not as reuse.

Concurrent requests of one client (browser tabs, a pool of workers) that all find the access
token expired each send the same refresh token; without a grace all but one are reuse and revoke
the family (RFC 9700 §4.14), logging the client out. Okta and Auth0 allow such a grace; ours is
off by default.

How the pair is answered again: it is **re-signed** from the successor's stored record (its
``jti``, the ``jti`` of the access token issued with it, ``iat`` and the ``exp``s), not cached.
No token is ever stored (a database read must not leak live credentials), every
worker on the database answers alike whether revocations travel by Redis or by polling, and a
restart loses nothing. A new signature over the same claims is the same token for every purpose
that matters (ECDSA signatures differ per signing anyway). The first spend stays one conditional
``UPDATE`` decided by its row count: only the winner stores a successor; a replay only reads.
"""

from __future__ import annotations

import logging

from jwtkit.core.keys import Key

from .models import TokenPair, UserRecord
from .ports import TokenStore
from .settings import AuthSettings
from .tokens import resign_pair

__all__ = ["replay_within_grace"]

log = logging.getLogger(__name__)


async def replay_within_grace(
    tokens: TokenStore, key: Key, refresh_key: Key, settings: AuthSettings, user: UserRecord, jti: str, *,
    now: float,
) -> TokenPair | None:
    """The pair that spending ``jti`` issued, re-signed with ``key`` (its refresh token with
    ``refresh_key``), when that spend happened
    within ``settings.refresh_reuse_grace`` seconds before ``now`` and the family is not revoked;
    None otherwise (the caller then treats the spend as reuse).

    Raises:
        ServiceUnavailableError: storage is down.
    """
    grace = settings.refresh_reuse_grace
    if grace <= 0:
        return None
    successor = await tokens.spent_successor(jti, spent_since=now - grace)
    if successor is None or successor.access_jti is None or successor.access_expires_at is None:
        return None  # outside the grace, revoked, or spent by a jwtkit from before schema version 7
    log.info("refresh token %s spent again within the %g s grace: answered with its successor %s",
             jti, grace, successor.jti)
    return resign_pair(key, refresh_key, settings, user, successor)
