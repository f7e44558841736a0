"""Restart durability on the same SQLite file: keys, users, tokens, revocations and sessions
survive; the denylist is reloaded into memory at open."""

import pytest

from jwtkit.auth.errors import InvalidTokenError

from .conftest import PASSWORD

pytestmark = pytest.mark.anyio



@pytest.fixture
def backend():
    return "sqlite"


async def restart(open_service, old):
    await old.close()
    return await open_service()


async def test_tokens_issued_before_a_restart_still_verify_and_refresh(open_service):
    service = await open_service()
    await service.register("alice", PASSWORD)
    pair = await service.login("alice", PASSWORD, client="c")
    jwks = service.jwks()
    service = await restart(open_service, service)
    assert service.jwks() == jwks
    service.authenticate(pair.access_token)
    await service.verify_token(pair.refresh_token)
    service.authenticate((await service.refresh(pair.refresh_token)).access_token)


async def test_a_logout_stays_in_force_after_a_restart(open_service):
    service = await open_service()
    await service.register("alice", PASSWORD)
    pair = await service.login("alice", PASSWORD, client="c")
    await service.logout(service.authenticate(pair.access_token), pair.refresh_token)
    service = await restart(open_service, service)
    with pytest.raises(InvalidTokenError):
        service.authenticate(pair.access_token)
    with pytest.raises(InvalidTokenError):
        await service.refresh(pair.refresh_token)


async def test_a_spent_refresh_token_stays_spent_after_a_restart(open_service):
    service = await open_service()
    await service.register("alice", PASSWORD)
    pair = await service.login("alice", PASSWORD, client="c")
    newer = await service.refresh(pair.refresh_token)
    service = await restart(open_service, service)
    with pytest.raises(InvalidTokenError):
        await service.refresh(pair.refresh_token)
    with pytest.raises(InvalidTokenError):
        service.authenticate(newer.access_token)  # reuse after the restart still revokes the family


async def test_a_rotated_key_ring_survives_a_restart(open_service):
    service = await open_service()
    await service.register("alice", PASSWORD)
    old = await service.login("alice", PASSWORD, client="c")
    new_kid = await service.rotate_keys()
    service = await restart(open_service, service)
    assert service.keys.ring.active.kid == new_kid
    service.authenticate(old.access_token)


async def test_sessions_and_users_survive_a_restart(open_service):
    service = await open_service()
    alice = await service.register("alice", PASSWORD)
    session_id, _ = await service.session_login("alice", PASSWORD, client="c")
    service = await restart(open_service, service)
    assert await service.session_user(session_id) == alice


@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgresql"])
async def test_a_revoked_family_stays_denied_after_a_restart_with_a_shorter_access_ttl(open_service, clock,
                                                                                       backend):
    service = await open_service(access_ttl=3600)
    await service.register("alice", PASSWORD)
    first = await service.login("alice", PASSWORD, client="c")
    clock.advance(10)
    second = await service.refresh(first.refresh_token)
    await service.close()
    service = await open_service(access_ttl=300)

    # (A service with the 300 s TTL refuses tokens that live 3600 s anyway, so it cannot
    # authenticate one for a logout: reuse of the spent refresh token revokes the family here.)
    with pytest.raises(InvalidTokenError):
        await service.refresh(first.refresh_token)
    clock.advance(301)
    await service.purge_expired()
    # A worker still on the 3600 s TTL (a rolling change of the setting) must keep denying them.
    service = await restart(lambda: open_service(access_ttl=3600), service)

    with pytest.raises(InvalidTokenError):
        service.authenticate(second.access_token)  # issued under the 3600 s TTL, still unexpired
