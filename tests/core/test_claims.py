"""Registered claims (RFC 7519 §4.1) and the header ``typ`` (RFC 7515 §4.1.9), as ``decode`` sees them.

Time is always passed as ``now=`` so the tests are exact at the boundaries.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta, timezone

import forge
import pytest

import jwtkit
from jwtkit import (
    ExpiredTokenError,
    InvalidAudienceError,
    InvalidClaimError,
    InvalidIssuerError,
    JWTError,
    Key,
    MissingClaimError,
    NotYetValidError,
    Verifier,
)
from support.constants import NOW

SECRET = b"claims-test-secret-0123456789abcdef"
KEY = Key.from_secret(SECRET, alg="HS256")


def token(claims: dict[str, object], **headers: object) -> str:
    return jwtkit.encode(claims, KEY, headers=headers or None)


def decode(tok: str, **options: object) -> dict[str, object]:
    options.setdefault("now", NOW)
    return jwtkit.decode(tok, KEY, algorithms=["HS256"], **options)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# exp, nbf, iat (RFC 7519 §4.1.4-§4.1.6)
# ---------------------------------------------------------------------------------------------
def test_a_token_before_its_exp_is_valid():
    assert decode(token({"exp": NOW + 1})) == {"exp": NOW + 1}


def test_a_token_at_exactly_its_exp_is_expired():
    """RFC 7519 §4.1.4: the current time MUST be *before* exp."""
    with pytest.raises(ExpiredTokenError) as info:
        decode(token({"exp": NOW}))
    assert info.value.claim == "exp"
    assert info.value.code == "expired_token"


def test_a_token_after_its_exp_is_expired():
    with pytest.raises(ExpiredTokenError):
        decode(token({"exp": NOW - 1}))


def test_a_fractional_exp_is_compared_exactly():
    assert decode(token({"exp": NOW + 0.5}))["exp"] == NOW + 0.5
    with pytest.raises(ExpiredTokenError):
        decode(token({"exp": NOW + 0.5}), now=NOW + 0.5)


@pytest.mark.parametrize("leeway", [30, 30.0, timedelta(seconds=30)], ids=["int", "float", "timedelta"])
def test_leeway_extends_exp(leeway):
    """RFC 7519 §4.1.4: a small leeway accounts for clock skew; exp == now - leeway is still expired."""
    assert decode(token({"exp": NOW - 29}), leeway=leeway)
    with pytest.raises(ExpiredTokenError):
        decode(token({"exp": NOW - 30}), leeway=leeway)


def test_a_token_before_its_nbf_is_not_yet_valid():
    with pytest.raises(NotYetValidError) as info:
        decode(token({"nbf": NOW + 1}))
    assert info.value.claim == "nbf"
    assert info.value.code == "not_yet_valid"


def test_a_token_at_exactly_its_nbf_is_valid():
    """RFC 7519 §4.1.5: the current time MUST be after *or equal to* nbf."""
    assert decode(token({"nbf": NOW})) == {"nbf": NOW}


@pytest.mark.parametrize("leeway", [30, timedelta(seconds=30)], ids=["int", "timedelta"])
def test_leeway_brings_nbf_forward(leeway):
    assert decode(token({"nbf": NOW + 30}), leeway=leeway)
    with pytest.raises(NotYetValidError):
        decode(token({"nbf": NOW + 31}), leeway=leeway)


def test_a_token_issued_in_the_future_is_not_yet_valid():
    with pytest.raises(NotYetValidError) as info:
        decode(token({"iat": NOW + 10}))
    assert info.value.claim == "iat"


def test_a_token_issued_now_or_in_the_past_is_valid():
    assert decode(token({"iat": NOW}))
    assert decode(token({"iat": NOW - 86400 * 365}))


def test_leeway_allows_an_iat_slightly_in_the_future():
    assert decode(token({"iat": NOW + 10}), leeway=10)


def test_now_overrides_the_clock():
    tok = token({"nbf": NOW, "exp": NOW + 60})
    assert decode(tok, now=NOW + 59)
    with pytest.raises(ExpiredTokenError):
        decode(tok, now=NOW + 60)
    with pytest.raises(NotYetValidError):
        decode(tok, now=NOW - 1)


def test_without_now_the_system_clock_is_used():
    current = int(time.time())
    assert jwtkit.decode(token({"exp": current + 3600}), KEY, algorithms=["HS256"])
    with pytest.raises(ExpiredTokenError):
        jwtkit.decode(token({"exp": current - 3600}), KEY, algorithms=["HS256"])


def test_a_verifier_takes_now_per_call():
    verifier = Verifier(KEY, algorithms=["HS256"], leeway=timedelta(seconds=5))
    tok = token({"exp": NOW})
    assert verifier.verify(tok, now=NOW + 4)
    with pytest.raises(ExpiredTokenError):
        verifier.verify(tok, now=NOW + 5)


def test_time_claims_are_optional_unless_required():
    assert decode(token({"sub": "a"})) == {"sub": "a"}
    with pytest.raises(MissingClaimError) as info:
        decode(token({"sub": "a"}), required=["exp"])
    assert info.value.claim == "exp"


# ---------------------------------------------------------------------------------------------
# iss (RFC 7519 §4.1.1)
# ---------------------------------------------------------------------------------------------
def test_the_expected_issuer_is_accepted():
    assert decode(token({"iss": "https://auth.example"}), issuer="https://auth.example")


def test_another_issuer_is_refused():
    with pytest.raises(InvalidIssuerError) as info:
        decode(token({"iss": "https://evil.example"}), issuer="https://auth.example")
    assert info.value.claim == "iss"
    assert info.value.code == "invalid_issuer"


def test_issuers_are_compared_exactly():
    """Case, trailing slashes and prefixes all make a different issuer (RFC 7519 §4.1.1, StringOrURI)."""
    for iss in ("https://AUTH.example", "https://auth.example/", "https://auth.example.evil", "https://auth"):
        with pytest.raises(InvalidIssuerError):
            decode(token({"iss": iss}), issuer="https://auth.example")


def test_any_of_several_allowed_issuers_is_accepted():
    allowed = ["https://a.example", "https://b.example"]
    assert decode(token({"iss": "https://b.example"}), issuer=allowed)
    assert decode(token({"iss": "https://a.example"}), issuer=tuple(allowed))
    with pytest.raises(InvalidIssuerError):
        decode(token({"iss": "https://c.example"}), issuer=allowed)


def test_a_missing_issuer_is_refused_when_one_is_expected():
    with pytest.raises(MissingClaimError) as info:
        decode(token({"sub": "a"}), issuer="https://auth.example")
    assert info.value.claim == "iss"


def test_the_issuer_is_not_checked_when_none_is_expected():
    assert decode(token({"iss": "https://anyone.example"}))


def test_an_issuer_that_is_not_a_string_is_refused_even_when_none_is_expected():
    with pytest.raises(InvalidClaimError) as info:
        decode(token({"iss": 42}))
    assert info.value.claim == "iss"


# ---------------------------------------------------------------------------------------------
# aud (RFC 7519 §4.1.3)
# ---------------------------------------------------------------------------------------------
def test_a_string_audience_matching_the_expected_one_is_accepted():
    assert decode(token({"aud": "api"}), audience="api")


def test_a_list_audience_containing_the_expected_one_is_accepted():
    assert decode(token({"aud": ["web", "api"]}), audience="api")


def test_any_of_several_expected_audiences_is_enough():
    assert decode(token({"aud": "api"}), audience=["billing", "api"])
    assert decode(token({"aud": ["x", "billing"]}), audience=("billing", "api"))


def test_an_audience_not_expected_is_refused():
    with pytest.raises(InvalidAudienceError) as info:
        decode(token({"aud": ["web", "mobile"]}), audience="api")
    assert info.value.claim == "aud"
    assert info.value.code == "invalid_audience"


def test_the_audience_error_names_the_expected_audience_and_the_tokens():
    with pytest.raises(InvalidAudienceError) as info:
        decode(token({"aud": ["web", "mobile"]}), audience="api")
    assert info.value.reason == "the token is meant for audiences 'web', 'mobile', not the expected 'api'"


def test_the_audience_error_shows_a_long_audience_list_in_part():
    with pytest.raises(InvalidAudienceError) as info:
        decode(token({"aud": [f"aud-{n}" + "x" * 100 for n in range(50)]}), audience=["api", "billing"])
    assert "and 47 more, not the expected one of 'api', 'billing'" in info.value.reason
    assert len(info.value.reason) < 300


def test_the_missing_audience_error_names_the_expected_audience():
    with pytest.raises(MissingClaimError, match="the audience 'api' is expected"):
        decode(token({"sub": "a"}), audience="api")


def test_a_missing_audience_is_refused_when_one_is_expected():
    with pytest.raises(MissingClaimError) as info:
        decode(token({"sub": "a"}), audience="api")
    assert info.value.claim == "aud"


def test_a_token_with_an_audience_is_refused_when_none_is_expected():
    """RFC 7519 §4.1.3: a recipient that does not identify itself with a value in aud rejects the JWT."""
    with pytest.raises(InvalidAudienceError, match="audience"):
        decode(token({"aud": "api"}))


@pytest.mark.parametrize("aud", [None, [], [None], ["api", 3], 3, {"api": True}])
def test_an_audience_of_the_wrong_type_is_an_invalid_claim(aud):
    tok = forge.signed({"alg": "HS256"}, {"aud": aud}, KEY)
    with pytest.raises(InvalidClaimError) as info:
        decode(tok, audience="api")
    assert info.value.claim == "aud"


# ---------------------------------------------------------------------------------------------
# required, sub, jti
# ---------------------------------------------------------------------------------------------
def test_required_claims_must_be_present():
    tok = token({"sub": "a", "exp": NOW + 60})
    assert decode(tok, required=["sub", "exp"])
    with pytest.raises(MissingClaimError) as info:
        decode(tok, required=("sub", "jti"))
    assert info.value.claim == "jti"
    assert info.value.code == "missing_claim"


def test_a_required_private_claim_must_be_present():
    assert decode(token({"token_type": "access"}), required=["token_type"])
    with pytest.raises(MissingClaimError):
        decode(token({"user_id": 1}), required=["token_type"])


def test_a_required_claim_that_is_null_is_still_checked_for_type():
    tok = forge.signed({"alg": "HS256"}, {"exp": None}, KEY)
    with pytest.raises(InvalidClaimError):
        decode(tok, required=["exp"])


@pytest.mark.parametrize("claim", ["sub", "jti"])
@pytest.mark.parametrize("value", [123, ["a"], {"id": "a"}, True])
def test_sub_and_jti_must_be_strings(claim, value):
    """RFC 7519 §4.1.2, §4.1.7: sub is a StringOrURI, jti a case-sensitive string."""
    with pytest.raises(InvalidClaimError) as info:
        decode(token({claim: value}))
    assert info.value.claim == claim


@pytest.mark.parametrize("claim", ["sub", "jti", "iss"])
def test_a_null_sub_jti_or_iss_is_refused(claim):
    """A null is no string: like a null exp or aud (found by the differential test; PyJWT and joserfc agree)."""
    with pytest.raises(InvalidClaimError, match="found null") as info:
        decode(token({claim: None}))
    assert info.value.claim == claim


def test_string_sub_and_jti_are_accepted():
    assert decode(token({"sub": "42", "jti": "1foo2jwt3id4"})) == {"sub": "42", "jti": "1foo2jwt3id4"}


def test_unregistered_claims_are_returned_untouched():
    claims = {"user_id": 123, "roles": ["a", "b"], "nested": {"x": [1, 2.5, None, True]}, "token_type": "access"}
    assert decode(token(claims)) == claims


# ---------------------------------------------------------------------------------------------
# typ (RFC 7515 §4.1.9, RFC 8725 §3.11)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("header_typ", ["JWT", "jwt", "application/jwt", "Application/JWT"])
@pytest.mark.parametrize("expected", ["JWT", "jwt", "application/jwt"])
def test_typ_is_compared_as_a_media_type(header_typ, expected):
    """RFC 7515 §4.1.9: compare case-insensitively; ``application/`` may be omitted."""
    assert decode(token({"sub": "a"}, typ=header_typ), typ=expected) == {"sub": "a"}


@pytest.mark.parametrize("header_typ", ["at+jwt", "application/at+jwt", "AT+JWT"])
def test_an_access_token_typ_matches_at_jwt(header_typ):
    """RFC 9068 §2.1: access tokens carry ``typ: at+jwt``."""
    assert decode(token({"sub": "a"}, typ=header_typ), typ="at+jwt")


@pytest.mark.parametrize(("header_typ", "expected"), [("JWT", "at+jwt"), ("at+jwt", "JWT"), ("jwt", "jwt+at")])
def test_a_different_typ_is_refused(header_typ, expected):
    with pytest.raises(InvalidClaimError) as info:
        decode(token({"sub": "a"}, typ=header_typ), typ=expected)
    assert info.value.claim == "typ"
    assert header_typ in str(info.value)


def test_a_missing_typ_is_refused_when_one_is_expected():
    with pytest.raises(InvalidClaimError):
        decode(token({"sub": "a"}, typ=None), typ="JWT")


def test_typ_is_not_checked_when_none_is_expected():
    assert decode(token({"sub": "a"}, typ="anything+jwt")) == {"sub": "a"}


def test_encode_sets_typ_jwt_by_default_and_headers_override_it():
    assert jwtkit.decode_unverified(token({}))[0]["typ"] == "JWT"
    assert jwtkit.decode_unverified(token({}, typ="at+jwt"))[0]["typ"] == "at+jwt"
    assert "typ" not in jwtkit.decode_unverified(token({}, typ=None))[0]


# ---------------------------------------------------------------------------------------------
# datetime in encode
# ---------------------------------------------------------------------------------------------
def test_an_aware_datetime_becomes_a_numeric_date():
    when = datetime.fromtimestamp(NOW, tz=UTC)
    claims = jwtkit.decode_unverified(token({"exp": when + timedelta(minutes=5), "iat": when, "nbf": when}))[1]
    assert claims == {"exp": NOW + 300, "iat": NOW, "nbf": NOW}
    assert all(type(claims[name]) is int for name in ("exp", "iat", "nbf"))


def test_a_datetime_in_another_time_zone_is_the_same_instant():
    paris = timezone(timedelta(hours=2))
    when = datetime.fromtimestamp(NOW, tz=UTC).astimezone(paris)
    assert jwtkit.decode_unverified(token({"exp": when}))[1]["exp"] == NOW


def test_a_naive_datetime_is_taken_as_utc():
    naive = datetime.fromtimestamp(NOW, tz=UTC).replace(tzinfo=None)
    assert jwtkit.decode_unverified(token({"exp": naive}))[1]["exp"] == NOW


def test_microseconds_are_dropped_from_a_datetime():
    when = datetime.fromtimestamp(NOW, tz=UTC) + timedelta(microseconds=999_999)
    assert jwtkit.decode_unverified(token({"iat": when}))[1]["iat"] == NOW


def test_a_token_encoded_with_datetimes_verifies():
    when = datetime.fromtimestamp(NOW, tz=UTC)
    tok = token({"iat": when, "exp": when + timedelta(seconds=60)})
    assert decode(tok, required=["exp"]) == {"iat": NOW, "exp": NOW + 60}


def test_encode_does_not_modify_the_callers_claims():
    when = datetime.fromtimestamp(NOW, tz=UTC)
    claims = {"exp": when}
    token(claims)
    assert claims == {"exp": when}


def test_other_datetime_claims_are_not_converted():
    with pytest.raises(TypeError):
        token({"login_at": datetime.fromtimestamp(NOW, tz=UTC)})


# ---------------------------------------------------------------------------------------------
# Errors: stable code, the claim at fault, a message a person can act on, and never the secret
# ---------------------------------------------------------------------------------------------
CASES = {
    # name: (claims, decode options, error, code, claim, words the message must contain)
    "expired": ({"exp": NOW - 90}, {}, ExpiredTokenError, "expired_token", "exp", ["expired", "90 s"]),
    "not-yet": ({"nbf": NOW + 90}, {}, NotYetValidError, "not_yet_valid", "nbf", ["not valid", "90 s"]),
    "issued-in-future": ({"iat": NOW + 90}, {}, NotYetValidError, "not_yet_valid", "iat", ["issued", "90 s"]),
    "issuer": (
        {"iss": "https://evil.example"},
        {"issuer": "https://auth.example"},
        InvalidIssuerError,
        "invalid_issuer",
        "iss",
        ["https://evil.example", "https://auth.example"],
    ),
    "audience": (
        {"aud": "web"},
        {"audience": "api"},
        InvalidAudienceError,
        "invalid_audience",
        "aud",
        ["'web'", "'api'"],
    ),
    "missing": ({}, {"required": ["jti"]}, MissingClaimError, "missing_claim", "jti", ["'jti'", "required"]),
    "exp-type": ({"exp": "soon"}, {}, InvalidClaimError, "invalid_claim", "exp", ["'exp'", "NumericDate", "soon"]),
    "sub-type": ({"sub": 7}, {}, InvalidClaimError, "invalid_claim", "sub", ["'sub'", "string", "int"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_error_carries_its_code_claim_and_an_actionable_message(case):
    claims, options, error, code, claim, words = CASES[case]
    tok = forge.signed({"alg": "HS256"}, claims, KEY)
    with pytest.raises(error) as info:
        decode(tok, **options)
    assert info.value.code == code
    assert info.value.claim == claim
    assert info.value.reason == str(info.value)
    for word in words:
        assert word in str(info.value), f"{word!r} not in {str(info.value)!r}"


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_error_message_never_contains_the_secret(case):
    claims, options, *_ = CASES[case]
    tok = forge.signed({"alg": "HS256"}, claims, KEY)
    with pytest.raises(JWTError) as info:
        decode(tok, **options)
    text = str(info.value) + repr(info.value) + repr(info.value.args)
    for form in (SECRET.decode(), SECRET.hex(), forge.b64url(SECRET), "claims-test-secret"):
        assert form not in text


def test_a_bad_signature_error_never_contains_the_secret_or_the_expected_mac():
    tok = forge.replace_segment(token({"sub": "a"}), 2, forge.b64url(bytes(32)))
    expected_mac = forge.segments(token({"sub": "a"}))[2]
    with pytest.raises(JWTError) as info:
        decode(tok)
    text = str(info.value) + repr(info.value)
    assert SECRET.decode() not in text
    assert expected_mac not in text


def test_a_long_hostile_claim_value_is_truncated_in_the_message():
    """A message is for a person and a log line: attacker-sized values are cut short."""
    with pytest.raises(InvalidIssuerError) as info:
        decode(token({"iss": "x" * 5000}), issuer="https://auth.example")
    assert len(str(info.value)) < 300
    assert re.search("x{20}", str(info.value))


@pytest.mark.parametrize("exp", [1e300, -1e300, 2.0**53])
def test_a_float_time_beyond_2_to_the_53_seconds_is_an_invalid_claim_not_eternity(exp):
    key = Key.generate("HS256")
    token = jwtkit.encode({"exp": exp}, key)
    with pytest.raises(InvalidClaimError) as info:
        jwtkit.decode(token, key, algorithms=["HS256"])
    assert info.value.claim == "exp"
