"""Validation of registered claims (RFC 7519 §4.1), prepared once per policy.

Types are checked as strictly as values: a NumericDate is an ``int`` or a finite ``float``
(never a ``bool``, a string or ``1e400``); ``iss`` and ``sub`` and ``jti`` are strings;
``aud`` is a string or a non-empty list of strings, compared exactly (no substring match,
CVE-2024-53861).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from jwtkit.errors import (
    ExpiredTokenError,
    InvalidAudienceError,
    InvalidClaimError,
    InvalidIssuerError,
    MissingClaimError,
    NotYetValidError,
)

# Times beyond 2**53 s (285 million years) are nobody's intent; huge ints would overflow float arithmetic.
_MAX_SECONDS = 2**53


def _string_set(value: str | Iterable[str] | None, name: str) -> frozenset[str] | None:
    if value is None:
        return None
    values = frozenset((value,)) if isinstance(value, str) else frozenset(value)
    if not values or not all(isinstance(v, str) and v for v in values):
        raise ValueError(f"{name} must be a non-empty string or a non-empty list of non-empty strings")
    return values


def _numeric_date(claims: dict[str, Any], name: str) -> float | int | None:
    value = claims.get(name)
    if value is None:
        if name in claims:
            raise InvalidClaimError(f"claim {name!r} is null; expected a NumericDate", claim=name)
        return None
    kind = type(value)
    if kind is int and -_MAX_SECONDS < value < _MAX_SECONDS:
        return value  # type: ignore[no-any-return]
    if kind is float and -_MAX_SECONDS < value < _MAX_SECONDS:
        return value  # type: ignore[no-any-return]
    raise InvalidClaimError(
        f"claim {name!r} must be a NumericDate (seconds since the epoch as a number), found {value!r:.40}",
        claim=name,
    )


@dataclass(frozen=True, slots=True)
class ClaimsPolicy:
    """What a verifier demands of the claims: built and validated once, applied per token."""

    audience: frozenset[str] | None
    issuer: frozenset[str] | None
    leeway: float
    required: tuple[str, ...]

    @classmethod
    def build(
        cls,
        *,
        audience: str | Iterable[str] | None,
        issuer: str | Iterable[str] | None,
        leeway: float | timedelta,
        required: Iterable[str],
    ) -> ClaimsPolicy:
        """Validate the options (``TypeError``/``ValueError`` on misuse) and freeze them."""
        if isinstance(leeway, timedelta):
            leeway = leeway.total_seconds()
        if isinstance(leeway, bool) or not isinstance(leeway, int | float) or not math.isfinite(leeway):
            raise TypeError("leeway must be a number of seconds or a timedelta")
        if leeway < 0:
            raise ValueError("leeway must not be negative")
        if isinstance(required, str):
            raise TypeError("required must be a list of claim names, not a string")
        names = tuple(required)
        if not all(isinstance(n, str) and n for n in names):
            raise TypeError("required must contain claim names (non-empty strings)")
        return cls(
            audience=_string_set(audience, "audience"),
            issuer=_string_set(issuer, "issuer"),
            leeway=float(leeway),
            required=names,
        )

    def validate(self, claims: dict[str, Any], now: float) -> None:
        """Raise the matching :class:`~jwtkit.errors.JWTError` for the first claim that fails."""
        for name in self.required:
            if name not in claims:
                raise MissingClaimError(f"the token has no {name!r} claim, which is required", claim=name)
        leeway = self.leeway
        # RFC 7519 §4.1.4: the current time must be before exp.
        exp = _numeric_date(claims, "exp")
        if exp is not None and now - leeway >= exp:
            raise ExpiredTokenError(f"the token expired {_ago(now - exp)}", claim="exp")
        # RFC 7519 §4.1.5: the current time must be at or after nbf.
        nbf = _numeric_date(claims, "nbf")
        if nbf is not None and now + leeway < nbf:
            raise NotYetValidError(f"the token is not valid for another {_span(nbf - now)}", claim="nbf")
        iat = _numeric_date(claims, "iat")
        if iat is not None and now + leeway < iat:
            raise NotYetValidError(f"the token was issued {_span(iat - now)} in the future", claim="iat")
        if self.issuer is not None or "iss" in claims:
            self._check_issuer(claims)
        if self.audience is not None or "aud" in claims:
            self._check_audience(claims)
        for name in ("sub", "jti"):
            if name in claims and type(claims[name]) is not str:  # a null is no string either
                raise InvalidClaimError(f"claim {name!r} must be a string, found {_kind(claims[name])}", claim=name)

    def window(self, claims: dict[str, Any]) -> tuple[float, float]:
        """``(start, end)`` for claims that passed :meth:`validate` once: they pass again at ``now``
        exactly when ``start <= now + leeway`` and ``now - leeway < end`` (the very comparisons
        ``validate`` makes: ``start`` is the later of ``nbf`` and ``iat``, ``end`` is ``exp``);
        every other check depends on the claims alone."""
        exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
        starts = [t for t in (nbf, iat) if t is not None]
        return (max(starts) if starts else -math.inf), (math.inf if exp is None else exp)

    def _check_issuer(self, claims: dict[str, Any]) -> None:
        iss = claims.get("iss")
        if "iss" in claims and type(iss) is not str:
            raise InvalidClaimError(f"claim 'iss' must be a string, found {_kind(iss)}", claim="iss")
        if self.issuer is None:
            return
        if iss is None:
            raise MissingClaimError("the token has no 'iss' claim, but an issuer is expected", claim="iss")
        if iss not in self.issuer:
            raise InvalidIssuerError(f"issuer {iss!r:.80} is not the expected {_one_of(self.issuer)}", claim="iss")

    def _check_audience(self, claims: dict[str, Any]) -> None:
        aud = claims.get("aud")
        if aud is None:
            if "aud" in claims:
                raise InvalidClaimError("claim 'aud' is null", claim="aud")
            if self.audience is not None:
                raise MissingClaimError(
                    f"the token has no 'aud' claim, but the audience {_one_of(self.audience)} is expected",
                    claim="aud",
                )
            return
        if type(aud) is str:
            audiences: Iterable[Any] = (aud,)
        elif type(aud) is list and aud and all(type(a) is str for a in aud):
            audiences = aud
        else:
            raise InvalidClaimError("claim 'aud' must be a string or a non-empty list of strings", claim="aud")
        if self.audience is None:
            # RFC 7519 §4.1.3: a token meant for an audience is rejected by anyone who names none.
            raise InvalidAudienceError(
                f"the token is meant for {_theirs(audiences)}, but no audience is expected "
                "(give the audience this service answers to)",
                claim="aud",
            )
        if self.audience.isdisjoint(audiences):
            raise InvalidAudienceError(
                f"the token is meant for {_theirs(audiences)}, not the expected {_one_of(self.audience)}",
                claim="aud",
            )


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _one_of(values: frozenset[str]) -> str:
    names = sorted(values)
    return repr(names[0]) if len(names) == 1 else "one of " + ", ".join(map(repr, names))


def _theirs(audiences: Iterable[str]) -> str:
    """The token's audiences, for a message: each cut at 60 characters, at most 3 of them."""
    names = [repr(name[:60] + "…" if len(name) > 60 else name) for name in audiences]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"audience {shown}" if len(names) == 1 else f"audiences {shown}"


def _span(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _ago(seconds: float) -> str:
    return f"{_span(seconds)} ago"
