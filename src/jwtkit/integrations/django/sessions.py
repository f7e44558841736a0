"""Sessions (refresh families) in the database: start, rotate race-free, detect reuse, revoke.

Rotation spends the presented refresh token with one conditional UPDATE
(``… SET spent_at = now WHERE jti = ? AND spent_at IS NULL``) and decides by its row count:
of N concurrent presentations exactly one updates a row, on every database Django supports.
A token found already spent is reuse (RFC 9700 §4.14): the whole family is revoked, its
unspent tokens are spent, and the family id is denied to access tokens until the last one
it could have issued expires.

A refresh token we never issued (Simple JWT's, during a migration) is adopted on first sight:
a new family, its ``jti`` recorded with an INSERT that the unique ``jti`` makes the loser of a
race fail, so it too rotates exactly once. While Simple JWT's blacklist app stays installed, a
token it blacklisted (logged out, or rotated before the switch) is refused instead.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .conf import jwt_settings
from .denylist import denylist
from .exceptions import SessionRevokedError, TokenError
from .models import OutstandingToken, RevokedAccess, TokenFamily

if TYPE_CHECKING:
    from .tokens import RefreshToken

BLACKLISTED = "Token is blacklisted"
SIMPLEJWT_BLACKLIST_APP = "rest_framework_simplejwt.token_blacklist"


def as_datetime(timestamp: float) -> datetime:
    """A NumericDate as the datetime Django stores (aware UTC, or naive when ``USE_TZ = False``)."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment if django_settings.USE_TZ else timezone.make_naive(moment, UTC)


def _user_pk(user: Any) -> Any:
    return getattr(user, "pk", None)


def start_family(token: RefreshToken, user: Any) -> TokenFamily:
    """Record ``token`` as the first refresh token of a new family and name the family in it."""
    settings = jwt_settings()
    now = timezone.now()
    expires = as_datetime(token["exp"])
    with transaction.atomic():
        family = TokenFamily.objects.create(user_id=_user_pk(user), created_at=now, expires_at=expires)
        OutstandingToken.objects.create(
            jti=token[settings.jti_claim], family=family, created_at=now, expires_at=expires
        )
    token[settings.family_claim] = str(family.id)
    return family


def blacklisted_by_simplejwt(jti: str) -> bool:
    """Did Simple JWT's blacklist app (kept installed while switching) blacklist this ``jti``?"""
    if not apps.is_installed(SIMPLEJWT_BLACKLIST_APP):
        return False
    blacklisted = apps.get_model("token_blacklist", "BlacklistedToken")
    return bool(blacklisted.objects.filter(token__jti=jti).exists())


def _adopt(token: RefreshToken, user_pk: Any, *, spent: bool) -> OutstandingToken | None:
    """Give a refresh token we did not issue a family; None when a concurrent request did first.

    Raises:
        TokenError: Simple JWT had blacklisted it (a logout or a rotation before the switch).
    """
    settings = jwt_settings()
    if blacklisted_by_simplejwt(token[settings.jti_claim]):
        raise TokenError(BLACKLISTED)
    now = timezone.now()
    expires = as_datetime(token["exp"])
    try:
        with transaction.atomic():
            family = TokenFamily.objects.create(user_id=user_pk, created_at=now, expires_at=expires)
            return OutstandingToken.objects.create(
                jti=token[settings.jti_claim],
                family=family,
                created_at=now,
                expires_at=expires,
                spent_at=now if spent else None,
            )
    except IntegrityError:
        return None


def _row(jti: str) -> OutstandingToken | None:
    return OutstandingToken.objects.select_related("family").filter(jti=jti).first()


def revoke_family(family_id: Any, reason: str) -> bool:
    """Revoke a family: spend its tokens and deny its access tokens. False if it already was."""
    settings = jwt_settings()
    now = timezone.now()
    with transaction.atomic():
        revoked = TokenFamily.objects.filter(id=family_id, revoked_at__isnull=True).update(
            revoked_at=now, revoked_reason=reason
        )
        OutstandingToken.objects.filter(family_id=family_id, spent_at__isnull=True).update(spent_at=now)
        if revoked:
            until = now + timedelta(seconds=settings.access_lifetime + settings.leeway)
            denylist.deny(RevokedAccess.KIND_FAMILY, str(family_id), until)
    return bool(revoked)


def _reused(row: OutstandingToken) -> TokenError:
    if revoke_family(row.family_id, reason="reuse"):
        return SessionRevokedError(BLACKLISTED)
    return TokenError(BLACKLISTED)


def _successor(refresh: RefreshToken, family_id: Any, now: datetime) -> RefreshToken:
    """Simple JWT's rotation (the same claims, a new ``jti``, ``iat`` and ``exp``), recorded as
    outstanding; the caller holds the transaction. Of ``refresh``'s own class (a project's subclass too)."""
    settings = jwt_settings()
    token_class = type(refresh)
    successor = token_class.__new__(token_class)
    successor.token, successor.current_time, successor.payload = None, int(now.timestamp()), dict(refresh.payload)
    successor.set_jti()
    successor.set_exp()
    successor.set_iat()
    successor[settings.family_claim] = str(family_id)
    expires = as_datetime(successor["exp"])
    OutstandingToken.objects.create(
        jti=successor[settings.jti_claim], family_id=family_id, created_at=now, expires_at=expires
    )
    TokenFamily.objects.filter(id=family_id).update(expires_at=expires)
    return successor


def rotate(refresh: RefreshToken, user_pk: Any) -> RefreshToken:
    """Spend ``refresh`` and return its successor in the same family (exactly once per token).

    Raises:
        TokenError: the token was already spent or its family revoked (the family is now revoked).
    """
    jti = refresh[jwt_settings().jti_claim]
    now = timezone.now()
    with transaction.atomic():
        won = OutstandingToken.objects.filter(jti=jti, spent_at__isnull=True).update(spent_at=now) == 1
        row = _row(jti)
        if won and row is not None and row.family.revoked_at is None:
            return _successor(refresh, row.family_id, now)
    if row is None:
        adopted = _adopt(refresh, user_pk, spent=True)
        if adopted is not None:
            with transaction.atomic():
                return _successor(refresh, adopted.family_id, now)
        row = _row(jti)
        if row is None:  # the concurrent adoption that beat ours rolled back: nothing to revoke
            raise TokenError(BLACKLISTED)
    raise _reused(row)


def family_of(refresh: RefreshToken, user_pk: Any) -> str:
    """Without rotation: the live family of ``refresh`` (adopting a foreign token once).

    Raises:
        TokenError: the token was spent or its family revoked.
    """
    jti = refresh[jwt_settings().jti_claim]
    row = _row(jti) or _adopt(refresh, user_pk, spent=False) or _row(jti)
    if row is None:
        raise TokenError(BLACKLISTED)
    if row.spent_at is not None or TokenFamily.objects.filter(id=row.family_id, revoked_at__isnull=False).exists():
        raise TokenError(BLACKLISTED)
    return str(row.family_id)


def revoke_refresh(refresh: RefreshToken, reason: str) -> None:
    """Logout: revoke the family of ``refresh``.

    Raises:
        TokenError: it was already revoked (Simple JWT answers a second blacklist the same way).
    """
    jti = refresh[jwt_settings().jti_claim]
    row = _row(jti) or _adopt(refresh, None, spent=False) or _row(jti)
    if row is None:
        raise TokenError(BLACKLISTED)
    if row.spent_at is not None:
        if row.family.revoked_at is None:
            raise _reused(row)
        raise TokenError(BLACKLISTED)
    if not revoke_family(row.family_id, reason):
        raise TokenError(BLACKLISTED)


def deny_access(claims: dict[str, Any]) -> None:
    """Deny one access token by its ``jti`` until its ``exp``."""
    jti = claims.get(jwt_settings().jti_claim)
    exp = claims.get("exp")
    if type(jti) is str and isinstance(exp, int | float):
        denylist.deny(RevokedAccess.KIND_JTI, jti, as_datetime(exp))
