"""``Verifier(cache_size=N)``: the signature of an exact token text is verified once; the claims every time."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jwtkit
from jwtkit import ExpiredTokenError, InvalidAudienceError, InvalidSignatureError, Key, NotYetValidError, Verifier
from jwtkit.core.jws import SignatureVerifier
from support.constants import NOW


@pytest.fixture(scope="module")
def key():
    return Key.generate("ES256")


@pytest.fixture
def signature_checks(monkeypatch):
    """The token texts whose signature is checked, in order (a spy on the JWS layer's verification)."""
    checked: list[str] = []
    original = SignatureVerifier.verify

    def spy(self, token):
        checked.append(token)
        return original(self, token)

    monkeypatch.setattr(SignatureVerifier, "verify", spy)
    return checked


def token_for(key, **claims):
    return jwtkit.encode({"user_id": 123, "exp": NOW + 300, **claims}, key)


def test_a_cached_token_still_expires(key):
    verifier = Verifier(key.public_key(), algorithms=["ES256"], cache_size=8)
    token = token_for(key)
    assert verifier.verify(token, now=NOW)["user_id"] == 123
    with pytest.raises(ExpiredTokenError):
        verifier.verify(token, now=NOW + 301)


def test_a_tampered_copy_of_a_cached_token_is_verified_and_refused(key):
    verifier = Verifier(key.public_key(), algorithms=["ES256"], cache_size=8)
    token = token_for(key)
    verifier.verify(token, now=NOW)
    header, _, signature = token.split(".")
    forged = token_for(Key.generate("ES256"), user_id=1).split(".")[1]
    with pytest.raises(InvalidSignatureError):
        verifier.verify(f"{header}.{forged}.{signature}", now=NOW)


def test_mutating_the_returned_claims_does_not_change_what_the_cache_returns(key):
    verifier = Verifier(key.public_key(), algorithms=["ES256"], cache_size=8)
    token = token_for(key)
    verifier.verify(token, now=NOW)["user_id"] = 0
    assert verifier.verify(token, now=NOW)["user_id"] == 123


def test_appending_to_a_list_claim_does_not_change_what_the_cache_returns(key):
    verifier = Verifier(key.public_key(), algorithms=["ES256"], cache_size=8)
    token = token_for(key, roles=["reader"])
    verifier.verify(token, now=NOW)["roles"].append("admin")
    assert verifier.verify(token, now=NOW)["roles"] == ["reader"]


def test_mutating_an_object_inside_a_claim_does_not_change_what_the_cache_returns(key):
    verifier = Verifier(key.public_key(), algorithms=["ES256"], cache_size=8)
    token = token_for(key, org={"id": 7, "perms": {"billing": ["read"]}, "teams": [{"name": "ops"}]})
    claims = verifier.verify(token, now=NOW)
    claims["org"]["id"] = 0
    claims["org"]["perms"]["billing"].append("write")
    claims["org"]["perms"]["admin"] = True
    claims["org"]["teams"][0]["name"] = "root"
    assert verifier.verify(token, now=NOW)["org"] == {
        "id": 7, "perms": {"billing": ["read"]}, "teams": [{"name": "ops"}]
    }


def test_two_callers_of_one_cached_token_get_independent_nested_claims(key):
    verifier = Verifier(key.public_key(), algorithms=["ES256"], cache_size=8)
    token = token_for(key, roles=["reader"], scopes=[["a", "b"]])
    first, second = verifier.verify(token, now=NOW), verifier.verify(token, now=NOW)
    first["scopes"][0].append("c")
    assert second["scopes"] == [["a", "b"]]
    assert first["roles"] is not second["roles"]


def test_a_verified_token_has_its_signature_checked_once(key, signature_checks):
    verifier = Verifier(key.public_key(), algorithms=["ES256"], cache_size=8)
    token = token_for(key)
    verifier.verify(token, now=NOW)
    verifier.verify(token, now=NOW)
    assert signature_checks == [token]


def test_a_token_whose_signature_fails_is_not_remembered(key, signature_checks):
    verifier = Verifier(key.public_key(), algorithms=["ES256"], cache_size=8)
    token = token_for(key)
    bad = token[:-2] + ("AA" if not token.endswith("AA") else "BA")
    for _ in range(2):
        with pytest.raises(jwtkit.JWTError):
            verifier.verify(bad, now=NOW)
    assert signature_checks == [bad, bad]


def test_the_cache_keeps_at_most_cache_size_tokens_dropping_the_oldest(key, signature_checks):
    verifier = Verifier(key.public_key(), algorithms=["ES256"], cache_size=2)
    tokens = [token_for(key, jti=str(n)) for n in range(3)]
    for token in tokens:
        verifier.verify(token, now=NOW)
    for token in (tokens[2], tokens[1], tokens[0]):
        verifier.verify(token, now=NOW)
    assert signature_checks == [*tokens, tokens[0]]


def test_tokens_taken_in_turn_beyond_the_cache_size_are_verified_every_time(key, signature_checks):
    # first in, first out, round after round: a cycle one longer than the cache never hits it
    verifier = Verifier(key.public_key(), algorithms=["ES256"], cache_size=3)
    tokens = [token_for(key, jti=str(n)) for n in range(4)]
    for _ in range(3):
        for token in tokens:
            verifier.verify(token, now=NOW)
    assert signature_checks == tokens * 3
    signature_checks.clear()
    for token in tokens[1:]:  # the three most recent are remembered
        verifier.verify(token, now=NOW)
    assert signature_checks == []


def test_without_cache_size_nothing_is_remembered(key, signature_checks):
    verifier = Verifier(key.public_key(), algorithms=["ES256"])
    token = token_for(key)
    verifier.verify(token, now=NOW)
    verifier.verify(token, now=NOW)
    assert signature_checks == [token, token]


@pytest.mark.parametrize("size", [-1, 1.5, True])
def test_a_cache_size_that_is_not_a_non_negative_integer_is_refused(key, size):
    with pytest.raises(ValueError, match="cache_size"):
        Verifier(key.public_key(), algorithms=["ES256"], cache_size=size)


def test_a_cached_token_is_refused_before_its_nbf_and_accepted_from_it(key):
    verifier = Verifier(key.public_key(), algorithms=["ES256"], cache_size=8)
    token = token_for(key, nbf=NOW + 10)
    with pytest.raises(NotYetValidError):
        verifier.verify(token, now=NOW)
    assert verifier.verify(token, now=NOW + 10)["user_id"] == 123
    with pytest.raises(NotYetValidError):
        verifier.verify(token, now=NOW + 9)


def test_a_cached_token_of_another_audience_is_refused_every_time(key):
    verifier = Verifier(key.public_key(), algorithms=["ES256"], audience="api", cache_size=8)
    token = token_for(key, aud="other")
    for _ in range(3):
        with pytest.raises(InvalidAudienceError):
            verifier.verify(token, now=NOW)


_TIMES = st.one_of(st.none(), st.integers(NOW - 50, NOW + 50), st.floats(NOW - 50, NOW + 50))


@settings(max_examples=300, deadline=None)
@given(exp=_TIMES, nbf=_TIMES, iat=_TIMES, leeway=st.sampled_from([0, 0.5, 3, 7.25]),
       times=st.lists(st.one_of(st.integers(NOW - 60, NOW + 60), st.floats(NOW - 60, NOW + 60)), min_size=1,
                      max_size=6))
def test_a_cached_verifier_answers_every_time_as_an_uncached_one(key, exp, nbf, iat, leeway, times):
    claims = {name: value for name, value in (("exp", exp), ("nbf", nbf), ("iat", iat)) if value is not None}
    token = jwtkit.encode({"user_id": 123, **claims}, key)
    cached = Verifier(key.public_key(), algorithms=["ES256"], leeway=leeway, cache_size=8)
    uncached = Verifier(key.public_key(), algorithms=["ES256"], leeway=leeway)
    for now in times:
        assert _outcome(cached, token, now) == _outcome(uncached, token, now)


def _outcome(verifier, token, now):
    try:
        return verifier.verify(token, now=now)
    except jwtkit.JWTError as error:
        return type(error)


# ---- remembers(): whether verify() of a token would skip its signature check


def test_a_token_is_remembered_once_its_signature_verified(key):
    verifier = Verifier(key.public_key(), algorithms=["ES256"], cache_size=8)
    token = token_for(key)
    assert not verifier.remembers(token)
    verifier.verify(token, now=NOW)
    assert verifier.remembers(token)


def test_a_remembered_token_costs_no_signature_check(key, signature_checks):
    verifier = Verifier(key.public_key(), algorithms=["ES256"], cache_size=8)
    token = token_for(key)
    verifier.verify(token, now=NOW)
    signature_checks.clear()
    assert verifier.remembers(token)
    verifier.verify(token, now=NOW)
    assert signature_checks == []


def test_a_token_whose_signature_failed_is_not_remembered(key):
    verifier = Verifier(key.public_key(), algorithms=["ES256"], cache_size=8)
    bad = token_for(key)[:-4] + "AAAA"
    with pytest.raises(jwtkit.JWTError):
        verifier.verify(bad, now=NOW)
    assert not verifier.remembers(bad)


def test_a_verifier_without_a_cache_remembers_nothing(key):
    verifier = Verifier(key.public_key(), algorithms=["ES256"])
    token = token_for(key)
    verifier.verify(token, now=NOW)
    assert not verifier.remembers(token)


class _SwitchableKeys:
    """A KeySource whose key set the test replaces."""

    def __init__(self, keyset):
        self.current = keyset

    def keyset(self):
        return self.current

    def keyset_for(self, kid):
        return self.current


def test_a_new_key_set_from_the_source_forgets_what_was_remembered(key):
    source = _SwitchableKeys(jwtkit.KeySet([key.public_key()]))
    verifier = Verifier(source, algorithms=["ES256"], cache_size=8)
    token = token_for(key)
    verifier.verify(token, now=NOW)
    source.current = jwtkit.KeySet([key.public_key()])
    assert not verifier.remembers(token)
