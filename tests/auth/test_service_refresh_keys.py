"""Refresh tokens are signed HS256 with a key derived from the signing key: only the issuing
server can check them, nothing new is stored or published, and refresh tokens signed the older
way (with the signing key itself) still refresh."""

import pytest

import jwtkit
from jwtkit.auth.errors import InvalidTokenError
from jwtkit.auth.keyring import refresh_key_of

from .conftest import PASSWORD

pytestmark = pytest.mark.anyio


@pytest.fixture
async def pair(service, alice):
    return await service.login("alice", PASSWORD, client="c")


def header_of(token):
    return jwtkit.decode_unverified(token)[0]


def reason(caught):
    return caught.value.reason


async def test_a_refresh_token_is_signed_hs256_under_the_signing_key_s_kid(service, pair):
    access, refresh = header_of(pair.access_token), header_of(pair.refresh_token)
    assert (access["alg"], refresh["alg"]) == ("ES256", "HS256")
    assert refresh["kid"] == access["kid"] == service.keys.active.kid


async def test_the_jwks_publishes_no_key_that_checks_a_refresh_token(service, pair):
    verifier = jwtkit.Verifier(jwtkit.KeySet.from_jwks(service.jwks()), algorithms=["ES256", "HS256"])
    with pytest.raises(jwtkit.JWTError):
        verifier.verify(pair.refresh_token, now=jwtkit.decode_unverified(pair.refresh_token)[1]["iat"])


async def test_the_refresh_key_is_derived_the_same_in_every_process_sharing_the_keys(open_service):
    first = await open_service()
    await first.register("alice", PASSWORD)
    pair = await first.login("alice", PASSWORD, client="c")
    second = await open_service()

    assert second.keys.refresh_signer == first.keys.refresh_signer
    assert (await second.refresh(pair.refresh_token)).refresh_token


async def test_a_refresh_token_signed_with_the_signing_key_as_before_still_refreshes(service, pair):
    claims = jwtkit.decode_unverified(pair.refresh_token)[1]
    older = jwtkit.encode(claims, service.keys.active)
    assert header_of(older)["alg"] == "ES256"

    new = await service.refresh(older)

    assert header_of(new.refresh_token)["alg"] == "HS256"


async def test_an_access_token_signed_with_the_refresh_key_is_refused(service, pair):
    claims = jwtkit.decode_unverified(pair.access_token)[1]
    minted = jwtkit.encode(claims, service.keys.refresh_signer)
    with pytest.raises(InvalidTokenError) as as_access:
        service.authenticate(minted)
    with pytest.raises(InvalidTokenError) as as_any:
        await service.verify_token(minted)
    assert "token_type" in reason(as_access)
    assert "token_type" in reason(as_any)


async def test_a_refresh_token_sent_as_an_access_token_is_refused_by_its_token_type(service, pair):
    with pytest.raises(InvalidTokenError) as caught:
        service.authenticate(pair.refresh_token)
    assert "token_type is 'refresh'" in reason(caught)


async def test_a_refresh_token_under_a_guessed_hmac_key_is_refused(service, pair):
    claims = jwtkit.decode_unverified(pair.refresh_token)[1]
    kid = service.keys.active.kid
    forged = jwtkit.encode(claims, jwtkit.Key.from_secret(b"s" * 32, "HS256", kid=kid))
    with pytest.raises(InvalidTokenError) as caught:
        await service.refresh(forged)
    assert reason(caught).startswith("invalid_signature")


async def test_a_refresh_token_of_an_unknown_kid_is_refused_as_such(service, pair):
    claims = jwtkit.decode_unverified(pair.refresh_token)[1]
    forged = jwtkit.encode(claims, jwtkit.Key.from_secret(b"s" * 32, "HS256", kid="nobody"))
    with pytest.raises(InvalidTokenError) as caught:
        await service.refresh(forged)
    assert reason(caught).startswith("key_not_found")


async def test_a_refresh_token_of_a_rotated_out_key_still_refreshes(service, pair):
    await service.rotate_keys()

    new = await service.refresh(pair.refresh_token)

    assert header_of(new.refresh_token)["kid"] == service.keys.active.kid != header_of(pair.refresh_token)["kid"]


async def test_a_refresh_token_of_a_retired_key_is_refused_for_its_key(service, pair):
    await service.retire_key(service.keys.active.kid)
    with pytest.raises(InvalidTokenError) as caught:
        await service.refresh(pair.refresh_token)
    assert reason(caught).startswith("key_not_found")  # the key is gone, not only its sessions


async def test_refresh_tokens_of_an_elliptic_key_refresh_after_a_change_of_algorithm(open_service):
    first = await open_service()
    await first.register("alice", PASSWORD)
    pair = await first.login("alice", PASSWORD, client="c")
    second = await open_service(alg="EdDSA")

    new = await second.refresh(pair.refresh_token)

    assert header_of(new.access_token)["alg"] == "EdDSA"
    assert header_of(new.refresh_token)["alg"] == "HS256"


def test_the_refresh_key_depends_on_the_private_key_alone():
    key = jwtkit.Key.generate("ES256", kid="k1")
    again = jwtkit.Key.from_jwk(key.to_jwk(private=True))
    other = jwtkit.Key.generate("ES256", kid="k1")
    assert refresh_key_of(key) == refresh_key_of(again) != refresh_key_of(other)
