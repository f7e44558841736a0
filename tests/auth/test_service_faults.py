"""Storage faults: they surface as ServiceUnavailableError, and a revocation or rotation that
fails half-way leaves the old state (one transaction each)."""

import sqlite3

import pytest

from jwtkit.auth.errors import ServiceUnavailableError

from .conftest import PASSWORD

pytestmark = pytest.mark.anyio



@pytest.fixture
def backend():
    return "sqlite"


@pytest.fixture
def db(tmp_path):
    def run(sql):
        with sqlite3.connect(tmp_path / "auth.db") as conn:
            conn.execute(sql)

    return run


async def test_a_failing_database_is_service_unavailable(service, alice, db):
    db("DROP TABLE users")
    with pytest.raises(ServiceUnavailableError):
        await service.login("alice", PASSWORD, client="c")
    with pytest.raises(ServiceUnavailableError):
        await service.register("bob", PASSWORD)


async def test_a_failed_rotation_leaves_the_refresh_token_unspent(service, alice, db):
    pair = await service.login("alice", PASSWORD, client="c")
    db("CREATE TRIGGER boom BEFORE INSERT ON refresh_tokens BEGIN SELECT RAISE(ABORT, 'boom'); END")
    with pytest.raises(ServiceUnavailableError):
        await service.refresh(pair.refresh_token)
    db("DROP TRIGGER boom")
    await service.refresh(pair.refresh_token)  # not spent by the failed attempt


async def test_a_failed_logout_revokes_nothing(service, alice, db):
    pair = await service.login("alice", PASSWORD, client="c")
    principal = service.authenticate(pair.access_token)
    db("CREATE TRIGGER boom BEFORE INSERT ON denylist BEGIN SELECT RAISE(ABORT, 'boom'); END")
    with pytest.raises(ServiceUnavailableError):
        await service.logout(principal, pair.refresh_token)
    service.authenticate(pair.access_token)
    db("DROP TRIGGER boom")
    await service.refresh(pair.refresh_token)  # the family was not revoked either


async def test_a_failed_key_rotation_keeps_the_old_key(service, db):
    kid = service.keys.ring.active.kid
    db("CREATE TRIGGER boom BEFORE INSERT ON signing_keys BEGIN SELECT RAISE(ABORT, 'boom'); END")
    with pytest.raises(ServiceUnavailableError):
        await service.rotate_keys()
    assert service.keys.ring.active.kid == kid
    assert [r.retired_at for r in await service.stores.keys.signing_keys()] == [None]
