"""The answer to a leaked signing key: ``retire_key`` ends trust in it now, everywhere, and the
sessions it signed; and a token minted with a stolen key cannot outlive the server's access TTL.
On every backend (memory, SQLite, PostgreSQL + Redis)."""

import pytest

import jwtkit
from jwtkit.auth.errors import InvalidTokenError

from .conftest import PASSWORD

pytestmark = pytest.mark.anyio



def kid_of(token):
    return jwtkit.decode_unverified(token)[0]["kid"]


def published(service):
    return {jwk["kid"] for jwk in service.jwks()["keys"]}


async def test_a_retired_key_is_refused_at_once_and_leaves_the_jwks(service, alice):
    pair = await service.login("alice", PASSWORD, client="c")
    old_kid = kid_of(pair.access_token)
    new_kid = await service.rotate_keys()

    retired = await service.retire_key(old_kid)

    assert retired.kid == old_kid
    assert published(service) == {new_kid}
    with pytest.raises(InvalidTokenError):
        service.authenticate(pair.access_token)
    with pytest.raises(InvalidTokenError):
        await service.refresh(pair.refresh_token)


async def test_retiring_counts_and_ends_the_sessions_the_key_signed(service, alice):
    pairs = [await service.login("alice", PASSWORD, client="c") for _ in range(3)]
    old_kid = kid_of(pairs[0].access_token)
    await service.rotate_keys()
    moved_on = await service.refresh(pairs[2].refresh_token)  # its latest tokens: the new key's

    retired = await service.retire_key(old_kid)

    assert retired.sessions_ended == 2
    service.authenticate(moved_on.access_token)
    await service.refresh(moved_on.refresh_token)


async def test_retiring_the_active_key_rotates_first_so_the_server_can_still_sign(service, alice):
    before = await service.login("alice", PASSWORD, client="c")
    active = kid_of(before.access_token)

    retired = await service.retire_key(active)

    assert retired.replaced_by not in (None, active)
    assert retired.sessions_ended == 1
    after = await service.login("alice", PASSWORD, client="c")
    assert kid_of(after.access_token) == retired.replaced_by
    assert published(service) == {retired.replaced_by}
    service.authenticate(after.access_token)
    with pytest.raises(InvalidTokenError):
        service.authenticate(before.access_token)


async def test_retiring_an_unknown_key_changes_nothing(service, alice):
    jwks = service.jwks()
    with pytest.raises(LookupError, match="no-such-kid"):
        await service.retire_key("no-such-kid")
    assert service.jwks() == jwks


async def test_a_key_cannot_be_retired_twice(service):
    old_kid = next(iter(published(service)))
    await service.rotate_keys()
    await service.retire_key(old_kid)
    with pytest.raises(LookupError):
        await service.retire_key(old_kid)


@pytest.mark.parametrize("backend", ["memory", "postgresql+redis"])  # two services sharing a feed
async def test_a_retirement_reaches_another_service_through_the_feed(open_service, eventually):
    first, second = await open_service(), await open_service()
    await first.register("alice", PASSWORD)
    pair = await first.login("alice", PASSWORD, client="c")
    second.authenticate(pair.access_token)

    await first.retire_key(kid_of(pair.access_token))

    def refused():
        try:
            second.authenticate(pair.access_token)
        except InvalidTokenError:
            return True
        return False

    await eventually(refused, what="the other service refusing the retired key's token")
    assert published(second) == published(first)


async def test_a_retirement_reaches_another_service_at_its_reload_from_the_database(open_service):
    first, second = await open_service(), await open_service()
    await first.register("alice", PASSWORD)
    pair = await first.login("alice", PASSWORD, client="c")
    second.authenticate(pair.access_token)  # now in second's verified-token cache too
    await first.retire_key(kid_of(pair.access_token))

    await second.resync()  # what database polling and the maintenance loop call

    with pytest.raises(InvalidTokenError):
        second.authenticate(pair.access_token)


# ---- tokens minted with a stolen key


def forged_access_token(service, pair, **changes):
    """An access token signed with the server's own active key (as a thief of that key would)."""
    _, claims = jwtkit.decode_unverified(pair.access_token)
    claims.update(changes)
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwtkit.encode(claims, service.keys.ring.active)


async def test_an_access_token_that_lives_longer_than_the_access_ttl_is_refused(service, alice, settings):
    pair = await service.login("alice", PASSWORD, client="c")
    _, claims = jwtkit.decode_unverified(pair.access_token)
    month = forged_access_token(service, pair, exp=claims["iat"] + 30 * 86400)
    with pytest.raises(InvalidTokenError) as refused:
        service.authenticate(month)
    assert "lifetime" in refused.value.reason
    with pytest.raises(InvalidTokenError) as refused:
        await service.verify_token(month)
    assert "lifetime" in refused.value.reason


async def test_an_access_token_without_iat_is_refused(service, alice):
    pair = await service.login("alice", PASSWORD, client="c")
    with pytest.raises(InvalidTokenError) as refused:
        service.authenticate(forged_access_token(service, pair, iat=None))
    assert "iat" in refused.value.reason


async def test_an_access_token_of_exactly_the_access_ttl_is_accepted(service, alice, settings):
    pair = await service.login("alice", PASSWORD, client="c")
    _, claims = jwtkit.decode_unverified(pair.access_token)
    assert claims["exp"] - claims["iat"] == settings.access_ttl
    service.authenticate(forged_access_token(service, pair, jti="another-jti"))
