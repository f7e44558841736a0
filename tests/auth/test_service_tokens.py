"""Access tokens, refresh rotation, reuse detection (RFC 9700 §4.14), logout, verify_token and
expiry, with the injectable clock."""


import pytest
import sqlalchemy as sa

import jwtkit
from jwtkit.auth.errors import InvalidCredentialsError, InvalidTokenError
from jwtkit.auth.service import AuthService
from jwtkit.storage.sql import open_sql_stores

from .conftest import PASSWORD

pytestmark = pytest.mark.anyio



@pytest.fixture
async def pair(service, alice):
    return await service.login("alice", PASSWORD, client="c")


def refused(service, token):
    with pytest.raises(InvalidTokenError) as caught:
        service.authenticate(token)
    return caught.value.reason


async def refused_refresh(service, token):
    with pytest.raises(InvalidTokenError) as caught:
        await service.refresh(token)
    return caught.value.reason


# ---- authenticate


async def test_authenticate_returns_the_principal_from_the_claims(service, alice, pair):
    principal = service.authenticate(pair.access_token)
    claims = jwtkit.decode_unverified(pair.access_token)[1]
    assert (principal.user_id, principal.username) == (alice.id, "alice")
    assert (principal.jti, principal.exp, principal.family_id) == (claims["jti"], claims["exp"], claims["fid"])


async def test_a_refresh_token_is_not_an_access_token(service, pair):
    assert "token_type" in refused(service, pair.refresh_token)


async def test_an_access_token_is_not_a_refresh_token(service, pair):
    assert "token_type" in await refused_refresh(service, pair.access_token)


async def test_an_access_token_expires_at_its_exp(service, pair, clock, settings):
    clock.advance(settings.access_ttl - 1)
    service.authenticate(pair.access_token)
    clock.advance(1)
    assert "expired" in refused(service, pair.access_token)


@pytest.mark.parametrize("junk", ["", "x", "a.b.c", "x" * 100_000, "\x00\xff", "eyJhbGciOiJub25lIn0.e30."])
async def test_junk_is_an_invalid_token(service, junk):
    refused(service, junk)
    with pytest.raises(InvalidTokenError):
        await service.verify_token(junk)


async def test_a_non_string_token_is_an_invalid_token(service):
    refused(service, None)
    refused(service, b"abc")


async def test_a_token_signed_by_a_foreign_key_is_refused(service, pair):
    header, claims = jwtkit.decode_unverified(pair.access_token)
    forged = jwtkit.encode(claims, jwtkit.Key.generate("ES256", kid=header["kid"]))
    refused(service, forged)


async def test_the_verifier_is_built_once_per_key_ring(service, pair):
    verifier = service.keys.ring.verifier
    service.authenticate(pair.access_token)
    service.authenticate(pair.access_token)
    assert service.keys.ring.verifier is verifier


async def test_an_access_token_is_remembered_after_it_authenticated(service, pair):
    assert not service.remembers(pair.access_token)
    service.authenticate(pair.access_token)
    assert service.remembers(pair.access_token)


async def test_a_remembered_access_token_is_still_refused_once_revoked(service, pair):
    service.authenticate(pair.access_token)
    await service.logout(service.authenticate(pair.access_token), pair.refresh_token)
    assert service.remembers(pair.access_token)  # the signature is remembered; the token is not accepted
    assert refused(service, pair.access_token)


async def test_a_refused_token_is_not_remembered(service, pair):
    header, claims = jwtkit.decode_unverified(pair.access_token)
    forged = jwtkit.encode(claims, jwtkit.Key.generate("ES256", kid=header["kid"]))
    refused(service, forged)
    assert not service.remembers(forged)


# ---- refresh rotation and reuse


async def test_refresh_returns_a_new_pair_in_the_same_family(service, pair):
    new = await service.refresh(pair.refresh_token)
    old_claims = jwtkit.decode_unverified(pair.access_token)[1]
    new_claims = service.authenticate(new.access_token).claims
    assert new_claims["fid"] == old_claims["fid"]
    assert new_claims["jti"] != old_claims["jti"]
    assert new.refresh_token != pair.refresh_token


async def test_a_refreshed_token_can_itself_be_refreshed(service, pair):
    second = await service.refresh(pair.refresh_token)
    third = await service.refresh(second.refresh_token)
    service.authenticate(third.access_token)


async def test_reusing_a_spent_refresh_token_is_refused(service, pair):
    await service.refresh(pair.refresh_token)
    assert "reused" in await refused_refresh(service, pair.refresh_token)


async def test_reuse_revokes_the_newer_refresh_tokens_of_the_family(service, pair):
    newer = await service.refresh(pair.refresh_token)
    await refused_refresh(service, pair.refresh_token)
    await refused_refresh(service, newer.refresh_token)


async def test_reuse_denies_the_access_tokens_of_the_family(service, pair):
    newer = await service.refresh(pair.refresh_token)
    await refused_refresh(service, pair.refresh_token)
    assert "revoked" in refused(service, newer.access_token)
    assert "revoked" in refused(service, pair.access_token)


async def test_reuse_leaves_other_families_alone(service, pair):
    other = await service.login("alice", PASSWORD, client="c")
    await service.refresh(pair.refresh_token)
    await refused_refresh(service, pair.refresh_token)
    service.authenticate(other.access_token)
    await service.refresh(other.refresh_token)


async def test_the_family_denial_lasts_until_its_last_access_token_expires(service, pair, clock, settings):
    newer = await service.refresh(pair.refresh_token)
    await refused_refresh(service, pair.refresh_token)
    live = await service.stores.tokens.live_denials(now=clock.now)
    assert [(d.kind, d.expires_at) for d in live] == [("family", int(clock.now) + settings.access_ttl)]
    clock.advance(settings.access_ttl)
    assert "expired" in refused(service, newer.access_token)


async def test_an_expired_refresh_token_is_refused(service, pair, clock, settings):
    clock.advance(settings.refresh_ttl)
    assert "expired" in await refused_refresh(service, pair.refresh_token)


async def test_refresh_for_a_user_that_no_longer_exists_is_refused(service, pair):
    # An admin deleted the user (for real: the refresh checks the user in the spend's own statement).
    assert await service.stores.users.delete_user(service.authenticate(pair.access_token).user_id)
    assert "user" in await refused_refresh(service, pair.refresh_token)


# ---- logout


async def test_logout_denies_the_access_token(service, pair):
    await service.logout(service.authenticate(pair.access_token), pair.refresh_token)
    assert "revoked" in refused(service, pair.access_token)


async def test_logout_revokes_the_refresh_family(service, pair):
    await service.logout(service.authenticate(pair.access_token), pair.refresh_token)
    assert "revoked" in await refused_refresh(service, pair.refresh_token)


async def test_logout_denies_the_jti_until_its_exp(service, pair, clock):
    principal = service.authenticate(pair.access_token)
    await service.logout(principal, pair.refresh_token)
    live = await service.stores.tokens.live_denials(now=clock.now)
    assert ("jti", principal.jti, principal.exp) in {(d.kind, d.value, d.expires_at) for d in live}


async def test_logout_keeps_the_users_other_sessions(service, pair):
    other = await service.login("alice", PASSWORD, client="c")
    await service.logout(service.authenticate(pair.access_token), pair.refresh_token)
    service.authenticate(other.access_token)
    await service.refresh(other.refresh_token)


async def test_logout_with_another_users_refresh_token_is_refused_and_revokes_nothing(service, pair):
    await service.register("bob", PASSWORD)
    bobs = await service.login("bob", PASSWORD, client="c")
    with pytest.raises(InvalidTokenError):
        await service.logout(service.authenticate(pair.access_token), bobs.refresh_token)
    service.authenticate(pair.access_token)
    service.authenticate(bobs.access_token)


async def test_logout_with_junk_as_refresh_token_is_refused(service, pair):
    with pytest.raises(InvalidTokenError):
        await service.logout(service.authenticate(pair.access_token), "junk")


# ---- verify_token


async def test_verify_token_accepts_live_access_and_refresh_tokens(service, pair):
    await service.verify_token(pair.access_token)
    await service.verify_token(pair.refresh_token)


async def test_verify_token_refuses_a_spent_refresh_token(service, pair):
    await service.refresh(pair.refresh_token)
    with pytest.raises(InvalidTokenError):
        await service.verify_token(pair.refresh_token)


async def test_verify_token_refuses_revoked_tokens(service, pair):
    await service.logout(service.authenticate(pair.access_token), pair.refresh_token)
    for token in (pair.access_token, pair.refresh_token):
        with pytest.raises(InvalidTokenError):
            await service.verify_token(token)


# ---- purge


async def test_purge_drops_expired_rows_and_memory_entries(service, pair, clock, settings):
    await service.logout(service.authenticate(pair.access_token), pair.refresh_token)
    assert len(service.revocations) == 2  # the access jti and the family
    clock.advance(settings.refresh_ttl + 1)
    assert await service.purge_expired() >= 4  # refresh token, family, jti and family denials
    assert len(service.revocations) == 0
    assert await service.stores.tokens.live_denials(now=0) == []


async def test_purge_forgets_login_attempts_once_they_left_the_throttling_window(
    service, alice, clock, settings, backend
):
    with pytest.raises(InvalidCredentialsError):
        await service.login("alice", "wrong password", client="10.0.0.1")
    assert await service.purge_expired() == 0  # still counting

    clock.advance(settings.login_window)

    # the attempt's events on (username, client), the username's first tier and the client;
    # the username's longer tiers (growing delays) stay. Redis expires its keys itself (TTL).
    assert await service.purge_expired() == (0 if backend == "postgresql+redis" else 3)
    assert await service.purge_expired() == 0
    clock.advance(settings.login_window * 288)
    assert await service.purge_expired() == (0 if backend == "postgresql+redis" else 2)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_purge_deletes_login_attempts_from_a_shared_database_limiter(backend, tmp_path, request, clock,
                                                                          settings):
    if backend == "postgresql":
        url, schema = request.getfixturevalue("postgres_url"), request.getfixturevalue("pg_schema")
    else:
        url, schema = f"sqlite+aiosqlite:///{tmp_path / 'auth.db'}", None
    stores = await open_sql_stores(url, schema=schema, shared_rate_limiter=True)
    service = await AuthService.open(settings, stores, clock=clock)
    try:
        with pytest.raises(InvalidCredentialsError):
            await service.login("mallory", "wrong password", client="10.0.0.1")
        clock.advance(settings.login_window)

        assert await service.purge_expired() == 3  # all but the username's longer tiers

        async with stores.users.engine.connect() as conn:
            assert (await conn.execute(sa.text("SELECT count(*) FROM login_attempts"))).scalar() == 2
    finally:
        await service.close()


async def test_verify_token_verifies_an_access_token_once(service, pair, monkeypatch):
    calls = []
    verify = service.keys.verify

    def counting(token, token_type):
        calls.append(token)
        return verify(token, token_type)

    monkeypatch.setattr(service.keys, "verify", counting)
    await service.verify_token(pair.access_token)

    assert calls == [pair.access_token]
