"""Cookie sessions: a fresh random id per login, stored only as its SHA-256, expiry and purge."""

import hashlib

import pytest

from jwtkit.auth.errors import InvalidCredentialsError, InvalidTokenError

from .conftest import PASSWORD

pytestmark = pytest.mark.anyio



async def test_session_login_returns_an_id_and_max_age_and_the_id_finds_the_user(service, alice, settings):
    session_id, max_age = await service.session_login("alice", PASSWORD, client="c")
    assert max_age == settings.session_ttl
    assert len(session_id) >= 43
    assert await service.session_user(session_id) == alice


async def test_every_login_gets_a_fresh_id(service, alice):
    ids = {(await service.session_login("alice", PASSWORD, client="c"))[0] for _ in range(3)}
    assert len(ids) == 3


async def test_only_the_sha256_of_the_id_is_stored(service, alice):
    session_id, _ = await service.session_login("alice", PASSWORD, client="c")
    assert await service.stores.sessions.get_session(session_id) is None
    stored = await service.stores.sessions.get_session(hashlib.sha256(session_id.encode()).hexdigest())
    assert stored.data == {"user_id": alice.id, "username": "alice"}


async def test_session_login_with_a_wrong_password_fails_like_token_login(service, alice):
    with pytest.raises(InvalidCredentialsError):
        await service.session_login("alice", "wrong password", client="c")


@pytest.mark.parametrize("junk", ["", "x", "A" * 43, "A" * 44, "../../etc", "\x00" * 43, "é" * 43, "x" * 10_000])
async def test_unknown_or_garbage_session_ids_are_invalid_tokens(service, junk):
    with pytest.raises(InvalidTokenError):
        await service.session_user(junk)


async def test_a_session_expires_after_its_ttl(service, alice, clock, settings):
    session_id, _ = await service.session_login("alice", PASSWORD, client="c")
    clock.advance(settings.session_ttl - 1)
    assert await service.session_user(session_id) == alice
    clock.advance(1)
    with pytest.raises(InvalidTokenError):
        await service.session_user(session_id)


async def test_session_logout_ends_the_session(service, alice):
    session_id, _ = await service.session_login("alice", PASSWORD, client="c")
    await service.session_logout(session_id)
    with pytest.raises(InvalidTokenError):
        await service.session_user(session_id)


async def test_session_logout_of_garbage_is_not_an_error(service):
    await service.session_logout("garbage")


async def test_purge_removes_expired_sessions(service, alice, clock, settings):
    session_id, _ = await service.session_login("alice", PASSWORD, client="c")
    clock.advance(settings.session_ttl)
    assert await service.purge_expired() >= 1
    key_hash = hashlib.sha256(session_id.encode()).hexdigest()
    assert await service.stores.sessions.get_session(key_hash) is None
