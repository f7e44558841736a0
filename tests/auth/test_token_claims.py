"""``check_claims`` and ``TokenClaims.principal`` build their frozen objects without the generated
``__init__`` (a hot-path shortcut): what they build must be what the constructors build."""

import dataclasses

import pytest

from jwtkit.auth.errors import InvalidTokenError
from jwtkit.auth.models import Principal
from jwtkit.auth.tokens import TokenClaims, check_claims

ACCESS = {"sub": "7", "user_id": 7, "fid": "family", "iat": 1_800_000_000, "token_type": "access", "jti": "a-jti",
          "username": "alice", "exp": 1_800_000_300}
REFRESH = {"sub": "7", "user_id": 7, "fid": "family", "iat": 1_800_000_000, "token_type": "refresh", "jti": "r-jti",
           "exp": 1_800_086_400}


def test_access_claims_are_what_the_constructor_builds():
    claims = check_claims(ACCESS, "access", max_access_lifetime=305)
    assert claims == TokenClaims(token_type="access", jti="a-jti", family_id="family", user_id=7, username="alice",
                                 exp=1_800_000_300, raw=ACCESS)
    assert claims.raw is ACCESS
    assert claims.principal() == Principal(user_id=7, username="alice", jti="a-jti", exp=1_800_000_300,
                                           family_id="family", claims=ACCESS)


def test_refresh_claims_have_no_username():
    claims = check_claims(REFRESH, None, max_access_lifetime=305)
    assert claims == TokenClaims(token_type="refresh", jti="r-jti", family_id="family", user_id=7, username=None,
                                 exp=1_800_086_400, raw=REFRESH)


def test_the_built_objects_stay_frozen_and_print_like_the_constructed_ones():
    claims = check_claims(ACCESS, "access", max_access_lifetime=305)
    principal = claims.principal()
    for obj in (claims, principal):
        with pytest.raises(dataclasses.FrozenInstanceError):
            obj.jti = "other"  # type: ignore[misc]
    assert repr(principal) == repr(Principal(user_id=7, username="alice", jti="a-jti", exp=1_800_000_300,
                                             family_id="family", claims=ACCESS))


def test_a_wrong_claim_is_still_refused():
    with pytest.raises(InvalidTokenError):
        check_claims(ACCESS | {"user_id": True}, "access", max_access_lifetime=305)
    with pytest.raises(InvalidTokenError):
        check_claims(ACCESS, "refresh", max_access_lifetime=305)
