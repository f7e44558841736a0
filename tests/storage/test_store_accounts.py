"""The account methods of the store (schema version 8), on every adapter: last login, disabled,
live families per user, deleting a user with their tokens, a user's cookie sessions; and the
upgrade of a version-7 database."""

import pytest
import sqlalchemy as sa

from jwtkit.auth.models import RefreshRecord, SessionRecord
from jwtkit.storage.sql import open_sql_stores
from jwtkit.storage.sql.schema import MIGRATIONS

pytestmark = pytest.mark.anyio

BEFORE_V8 = max(version for version, _ in MIGRATIONS if version < 8)


def first_token(jti, user_id, *, family, expires_at=9e9):
    return RefreshRecord(jti=jti, family_id=family, user_id=user_id, issued_at=1.0, expires_at=expires_at,
                         access_expires_at=301.0)


async def test_a_login_and_a_disable_are_remembered(stores):
    user = await stores.users.create_user("alice", "h", now=1.0)
    assert (user.last_login_at, user.disabled_at) == (None, None)
    await stores.users.record_login(user.id, now=5.0)
    assert await stores.users.set_disabled(user.id, disabled_at=6.0) is True
    found = await stores.users.get_user_by_name("ALICE")
    assert (found.last_login_at, found.disabled_at) == (5.0, 6.0)
    assert await stores.users.set_disabled(user.id, disabled_at=None) is True
    assert (await stores.users.get_user(user.id)).disabled_at is None
    assert await stores.users.set_disabled(user.id + 100, disabled_at=1.0) is False


async def test_live_families_are_the_unrevoked_unexpired_ones_of_the_user(stores):
    alice = await stores.users.create_user("alice", "h", now=1.0)
    bob = await stores.users.create_user("bob", "h", now=1.0)
    for jti, user, family, expires_at in [("a1", alice, "fa1", 9e9), ("a2", alice, "fa2", 9e9),
                                          ("a3", alice, "fa3", 50.0), ("b1", bob, "fb1", 9e9)]:
        await stores.tokens.start_family(first_token(jti, user.id, family=family, expires_at=expires_at))
    await stores.tokens.revoke(family_ids=["fa2"], denials=[], now=10.0)
    assert await stores.tokens.live_families(alice.id, now=100.0) == ["fa1"]
    assert await stores.tokens.live_families(alice.id, now=10.0) == ["fa1", "fa3"]
    listed = {account.username: account for account in await stores.users.list_users(now=100.0)}
    assert (listed["alice"].live_families, listed["bob"].live_families) == (1, 1)
    assert listed["alice"].created_at == 1.0


async def test_deleting_a_user_deletes_their_tokens_not_the_others(stores):
    alice = await stores.users.create_user("alice", "h", now=1.0)
    bob = await stores.users.create_user("bob", "h", now=1.0)
    await stores.tokens.start_family(first_token("a1", alice.id, family="fa1"))
    await stores.tokens.start_family(first_token("b1", bob.id, family="fb1"))
    assert await stores.users.delete_user(alice.id) is True
    assert await stores.users.delete_user(alice.id) is False
    assert await stores.users.get_user_by_name("alice") is None
    assert await stores.tokens.get_refresh("a1") is None
    assert await stores.tokens.get_refresh("b1") is not None
    assert [account.username for account in await stores.users.list_users(now=2.0)] == ["bob"]


async def test_a_users_cookie_sessions_are_deleted_and_only_theirs(stores):
    for key, user_id in [("k1", 1), ("k2", 1), ("k3", 11), ("k4", 2)]:
        await stores.sessions.add_session(SessionRecord(key_hash=key, data={"user_id": user_id, "username": "x"},
                                                        expires_at=9e9))
    assert await stores.sessions.delete_user_sessions(1) == 2
    assert await stores.sessions.get_session("k1") is None
    assert await stores.sessions.get_session("k3") is not None  # 11 is not 1
    assert await stores.sessions.get_session("k4") is not None


async def test_a_version_7_database_is_upgraded_with_the_account_columns(database):
    url, schema = database
    stores = await open_sql_stores(url, schema=schema)
    await stores.users.create_user("alice", "h", now=1.0)
    async with stores.users.engine.begin() as conn:  # make it what version 7 created
        for column in ("disabled_at", "last_login_at"):
            await conn.execute(sa.text(f"ALTER TABLE users DROP COLUMN {column}"))
        await conn.execute(sa.text("DELETE FROM schema_version"))
        await conn.execute(sa.text("INSERT INTO schema_version (version) VALUES (:v)"), {"v": BEFORE_V8})
    await stores.close()

    stores = await open_sql_stores(url, schema=schema)
    try:
        async with stores.users.engine.connect() as conn:
            versions = (await conn.execute(sa.text("SELECT version FROM schema_version ORDER BY version"))).all()
        assert [row[0] for row in versions] == [BEFORE_V8, 8]
        user = await stores.users.get_user_by_name("alice")
        assert (user.disabled_at, user.last_login_at) == (None, None)
        await stores.users.record_login(user.id, now=7.0)
        assert (await stores.users.get_user(user.id)).last_login_at == 7.0
    finally:
        await stores.close()
