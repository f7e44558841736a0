"""``InvalidTokenError.kind``: what a client may be told about a token failure (issue 15). Only
failures that come after a verified signature (expiry, revocation, reuse) are anything but
``"invalid"``, so the kind is no oracle for a forger."""

import pytest

from jwtkit.auth.errors import InvalidTokenError


@pytest.mark.parametrize(("reason", "kind"), [
    ("expired_token: the token expired 5 minutes ago", "expired"),
    ("access token revoked", "ended"),
    ("refresh family revoked", "ended"),
    ("refresh token revoked", "ended"),
    ("refresh token reused; family revoked", "ended"),
    ("session expired", "ended"),
    ("invalid_signature: the signature does not verify", "invalid"),
    ("malformed_token: not three segments", "invalid"),
    ("key_not_found: no key for kid 'x'", "invalid"),
    ("token_type is 'refresh', expected 'access'", "invalid"),
    ("refresh token unknown", "invalid"),
    ("refresh token spent", "invalid"),
    ("unknown session", "invalid"),
    ("empty Bearer token", "invalid"),
])
def test_the_kind_is_read_from_the_services_reason(reason, kind):
    assert InvalidTokenError(reason).kind == kind


def test_a_raiser_may_say_the_kind_and_when_the_token_expired():
    error = InvalidTokenError("anything", kind="expired", expires_at=1_900_000_000)
    assert (error.kind, error.expires_at) == ("expired", 1_900_000_000)
    assert error.code == "invalid_token"
