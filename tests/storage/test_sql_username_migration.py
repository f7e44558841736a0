"""Schema version 5 on SQLite and PostgreSQL: usernames become unique case-insensitively
(``users.username_key``, NFKC + casefold, unique index). An upgrade that meets existing users who
would collide stops with a message naming them and changes nothing: accounts are never merged."""

import pytest
import sqlalchemy as sa

from jwtkit.auth.errors import UsernameTakenError
from jwtkit.storage.sql import SCHEMA_VERSION, UsernameCollisionError, open_sql_stores

UNDO_VERSION_5 = ("DROP TABLE server_secrets", "DROP INDEX ux_users_username_key",
                  "ALTER TABLE users DROP COLUMN username_key")  # as in test_sql.py

pytestmark = pytest.mark.anyio


async def version_4_with(database, usernames):
    """Make the database what version 4 created, holding ``usernames`` (then exact-match unique)."""
    url, schema = database
    stores = await open_sql_stores(url, schema=schema)
    try:
        async with stores.users.engine.begin() as conn:
            for statement in UNDO_VERSION_5:
                await conn.execute(sa.text(statement))
            await conn.execute(sa.text("UPDATE schema_version SET version = 4"))
            for name in usernames:
                await conn.execute(sa.text("INSERT INTO users (username, password_hash, created_at) "
                                           "VALUES (:name, 'h', 1.0)"), {"name": name})
    finally:
        await stores.close()


async def open_sql(database):
    url, schema = database
    return await open_sql_stores(url, schema=schema)


async def rows(database, query):
    url, schema = database
    from jwtkit.storage.sql.engine import make_engine

    engine = make_engine(url, schema=schema)
    try:
        async with engine.connect() as conn:
            return [tuple(row) for row in (await conn.execute(sa.text(query))).all()]
    finally:
        await engine.dispose()


async def test_colliding_usernames_stop_the_upgrade_naming_them(database):
    await version_4_with(database, ["admin", "Admin", "ADMIN", "bob", "carol", "Carol"])

    with pytest.raises(UsernameCollisionError) as caught:
        await open_sql(database)

    assert caught.value.groups == [("ADMIN", "Admin", "admin"), ("Carol", "carol")]
    message = str(caught.value)
    for name in ("'ADMIN'", "'Admin'", "'admin'", "'Carol'", "'carol'"):
        assert name in message
    assert "'bob'" not in message
    assert "rename" in message.lower()


async def test_a_stopped_upgrade_changes_nothing(database):
    await version_4_with(database, ["admin", "Admin"])

    with pytest.raises(UsernameCollisionError):
        await open_sql(database)

    assert await rows(database, "SELECT max(version) FROM schema_version") == [(4,)]
    assert sorted(await rows(database, "SELECT username FROM users")) == [("Admin",), ("admin",)]


async def test_after_renaming_the_upgrade_goes_through(database):
    await version_4_with(database, ["admin", "Admin"])
    with pytest.raises(UsernameCollisionError):
        await open_sql(database)
    url, schema = database
    from jwtkit.storage.sql.engine import make_engine

    engine = make_engine(url, schema=schema)
    async with engine.begin() as conn:
        await conn.execute(sa.text("UPDATE users SET username = 'admin2' WHERE username = 'Admin'"))
    await engine.dispose()

    stores = await open_sql_stores(url, schema=schema)
    await stores.close()
    assert await rows(database, "SELECT max(version) FROM schema_version") == [(SCHEMA_VERSION,)]


async def test_an_upgraded_database_finds_users_by_any_casing_and_refuses_look_alikes(database):
    await version_4_with(database, ["Alice", "bob"])
    stores = await open_sql(database)
    try:
        found = await stores.users.get_user_by_name("ALICE")
        assert found.username == "Alice"
        with pytest.raises(UsernameTakenError):
            await stores.users.create_user("BOB", "h", now=2.0)
        assert await stores.keys.server_secret("device-cookie", candidate=b"x" * 32, now=2.0) == b"x" * 32
    finally:
        await stores.close()
    assert sorted(await rows(database, "SELECT username_key FROM users")) == [("alice",), ("bob",)]
