"""The signing-key ring: JWKS, rotation without breaking live tokens, retirement, encryption at
rest, and the change of algorithm."""

import json
import logging

import pytest

import jwtkit
from jwtkit.auth.errors import InvalidTokenError

from .conftest import PASSWORD

pytestmark = pytest.mark.anyio

SECRET = b"k" * 32


def kid_of(token):
    return jwtkit.decode_unverified(token)[0]["kid"]


async def test_the_first_start_creates_one_key_and_publishes_it_without_private_members(service, alice):
    pair = await service.login("alice", PASSWORD, client="c")
    (jwk,) = service.jwks()["keys"]
    assert jwk["kid"] == kid_of(pair.access_token)
    assert jwk["alg"] == "ES256"
    assert "d" not in jwk
    assert jwtkit.KeySet.from_jwks(service.jwks()).get(jwk["kid"]).kid == jwk["kid"]


async def test_rotation_signs_with_a_new_key_and_keeps_old_tokens_valid(service, alice):
    before = await service.login("alice", PASSWORD, client="c")
    new_kid = await service.rotate_keys()
    after = await service.login("alice", PASSWORD, client="c")
    assert kid_of(after.access_token) == new_kid != kid_of(before.access_token)
    service.authenticate(before.access_token)
    await service.refresh(before.refresh_token)
    assert {k["kid"] for k in service.jwks()["keys"]} == {new_kid, kid_of(before.access_token)}


async def test_rotation_builds_a_new_verifier(service):
    verifier = service.keys.ring.verifier
    await service.rotate_keys()
    assert service.keys.ring.verifier is not verifier


async def test_a_retired_key_leaves_the_jwks_when_its_last_token_has_expired(service, clock, settings):
    old_kid = service.jwks()["keys"][0]["kid"]
    await service.rotate_keys()
    clock.advance(max(settings.access_ttl, settings.refresh_ttl) - 1)
    assert old_kid in {k["kid"] for k in service.jwks()["keys"]}
    clock.advance(1)
    assert old_kid not in {k["kid"] for k in service.jwks()["keys"]}
    assert await service.purge_expired() >= 1
    assert len(await service.stores.keys.signing_keys()) == 1


async def test_private_keys_are_encrypted_at_rest_with_the_secret(open_service):
    service = await open_service(key_encryption_secret=SECRET)
    private = service.keys.ring.active.to_jwk(private=True)
    (record,) = await service.stores.keys.signing_keys()
    assert record.encrypted
    assert private["d"] not in record.private_jwk
    reopened = await open_service(key_encryption_secret=SECRET)
    assert reopened.keys.ring.active == service.keys.ring.active


async def test_an_encrypted_key_cannot_be_loaded_with_the_wrong_secret(open_service):
    await open_service(key_encryption_secret=SECRET)
    with pytest.raises(ValueError, match="decrypt"):
        await open_service(key_encryption_secret=b"w" * 32)


async def test_an_encrypted_key_cannot_be_loaded_without_a_secret(open_service):
    await open_service(key_encryption_secret=SECRET)
    with pytest.raises(ValueError, match="key_encryption_secret"):
        await open_service()


async def test_keys_without_a_secret_are_stored_plainly_with_a_warning(open_service, caplog):
    with caplog.at_level(logging.WARNING, logger="jwtkit.auth.keyring"):
        service = await open_service()
    (record,) = await service.stores.keys.signing_keys()
    assert not record.encrypted
    assert json.loads(record.private_jwk)["kid"] == record.kid
    assert "unencrypted" in caplog.text


async def test_a_changed_algorithm_makes_a_new_active_key_and_old_tokens_stay_valid(open_service):
    first = await open_service()
    await first.register("alice", PASSWORD)
    pair = await first.login("alice", PASSWORD, client="c")
    second = await open_service(alg="EdDSA")
    assert second.keys.ring.active.alg == "EdDSA"
    second.authenticate(pair.access_token)
    new = await second.login("alice", PASSWORD, client="c")
    assert jwtkit.decode_unverified(new.access_token)[0]["alg"] == "EdDSA"


async def test_a_token_of_an_allowed_key_but_another_algorithm_is_refused(service, alice):
    pair = await service.login("alice", PASSWORD, client="c")
    header, claims = jwtkit.decode_unverified(pair.access_token)
    forged = jwtkit.encode(claims, jwtkit.Key.from_secret(b"s" * 32, "HS256", kid=header["kid"]))
    with pytest.raises(InvalidTokenError):
        service.authenticate(forged)


@pytest.mark.parametrize("backend", ["memory"])
async def test_a_rotation_reaches_another_service_through_the_feed(open_service, eventually):
    first, second = await open_service(), await open_service()
    await first.register("alice", PASSWORD)
    new_kid = await first.rotate_keys()
    await eventually(lambda: second.keys.active.kid == new_kid, what="the new key on the second service")
    token = (await first.login("alice", PASSWORD, client="c")).access_token
    second.authenticate(token)


@pytest.mark.parametrize("backend", ["memory"])
async def test_a_logout_reaches_another_service_through_the_feed(open_service):
    first, second = await open_service(), await open_service()
    await first.register("alice", PASSWORD)
    pair = await first.login("alice", PASSWORD, client="c")
    second.authenticate(pair.access_token)
    await first.logout(first.authenticate(pair.access_token), pair.refresh_token)
    with pytest.raises(InvalidTokenError):
        second.authenticate(pair.access_token)


@pytest.mark.parametrize("backend", ["memory"])
async def test_a_reload_that_finds_no_active_key_creates_none_and_keeps_the_ring(service, alice, backend):
    import dataclasses

    pair = await service.login("alice", PASSWORD, client="c")
    store = service.stores.keys
    for record in await store.signing_keys():  # retired by hand in the database: memory overwrites the kid
        await store.add_signing_key(
            dataclasses.replace(record, retired_at=1.0, not_after=None), retire_others_at=None, not_after=None
        )
    jwks = service.jwks()

    await service.resync()

    assert len(await store.signing_keys()) == 1
    assert service.jwks() == jwks
    service.authenticate(pair.access_token)

