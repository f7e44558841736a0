"""What only the SQL adapter has: the versioned schema, SQLite settings, and failures that become
ServiceUnavailableError instead of a raw SQLAlchemy error."""

import asyncio
import json
import sqlite3
import time

import pytest
import sqlalchemy as sa

from jwtkit.auth.errors import ServiceUnavailableError
from jwtkit.storage.memory import MemoryStore
from jwtkit.storage.sql import SCHEMA_VERSION, SchemaTooNewError, SqlStore, open_sql_stores
from jwtkit.storage.sql.engine import make_engine
from jwtkit.storage.sql.schema import MIGRATIONS
from jwtkit.wiring import open_stores

pytestmark = pytest.mark.anyio


# What undoes version 5 (users.username_key, server_secrets): run first when a test makes a
# database what an older version created.
UNDO_VERSION_5 = ("DROP TABLE server_secrets", "DROP INDEX ux_users_username_key",
                  "ALTER TABLE users DROP COLUMN username_key")


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite+aiosqlite:///{tmp_path / 'jwtkit.db'}"


def versions_from(version):
    """The versions a database at ``version`` is stamped with after upgrading: its own, then each step's."""
    return [version, *(step for step, _ in MIGRATIONS if step > version)]


async def test_a_fresh_database_is_stamped_with_the_current_schema_version(sqlite_url, tmp_path):
    stores = await open_sql_stores(sqlite_url)
    await stores.close()
    with sqlite3.connect(tmp_path / "jwtkit.db") as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"users", "refresh_families", "refresh_tokens", "denylist", "sessions", "signing_keys",
            "login_attempts"} <= tables


async def test_reopening_does_not_restamp_or_recreate(sqlite_url, tmp_path):
    for _ in range(2):
        stores = await open_sql_stores(sqlite_url)
        await stores.close()
    with sqlite3.connect(tmp_path / "jwtkit.db") as conn:
        assert conn.execute("SELECT count(*) FROM schema_version").fetchone() == (1,)


async def test_servers_opening_a_new_sqlite_file_together_create_it_once(tmp_path):
    # Each open has its own connection (aiosqlite: its own thread), so their DDL can interleave.
    for attempt in range(25):
        url = f"sqlite+aiosqlite:///{tmp_path / f'race{attempt}.db'}"
        opened = await asyncio.gather(*(open_sql_stores(url) for _ in range(4)), return_exceptions=True)
        for stores in opened:
            if not isinstance(stores, BaseException):
                await stores.close()
        assert [type(s).__name__ for s in opened if isinstance(s, BaseException)] == []
        with sqlite3.connect(tmp_path / f"race{attempt}.db") as conn:
            assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]


async def test_a_database_from_a_newer_jwtkit_is_refused(sqlite_url, tmp_path):
    stores = await open_sql_stores(sqlite_url)
    await stores.close()
    with sqlite3.connect(tmp_path / "jwtkit.db") as conn:
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION + 1,))
    with pytest.raises(SchemaTooNewError):
        await open_sql_stores(sqlite_url)


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(sqlite_url):
    stores = await open_sql_stores(sqlite_url)
    try:
        async with stores.users.engine.connect() as conn:
            assert (await conn.execute(sa.text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(sa.text("PRAGMA busy_timeout"))).scalar() > 0
            assert (await conn.execute(sa.text("PRAGMA foreign_keys"))).scalar() == 1
    finally:
        await stores.close()


async def test_an_unreachable_sqlite_file_is_service_unavailable(tmp_path):
    with pytest.raises(ServiceUnavailableError):
        await open_sql_stores(f"sqlite+aiosqlite:///{tmp_path / 'missing-dir' / 'x.db'}")


async def test_an_unreachable_postgresql_is_service_unavailable():
    with pytest.raises(ServiceUnavailableError):
        await open_sql_stores("postgresql+asyncpg://postgres@127.0.0.1:1/test")


async def test_a_failing_statement_is_service_unavailable_not_a_sqlalchemy_error(sqlite_url, tmp_path):
    stores = await open_sql_stores(sqlite_url)
    try:
        with sqlite3.connect(tmp_path / "jwtkit.db") as conn:
            conn.execute("DROP TABLE sessions")
        with pytest.raises(ServiceUnavailableError) as caught:
            await stores.sessions.get_session("00" * 32)
        assert isinstance(caught.value.__cause__, sa.exc.SQLAlchemyError | sqlite3.Error)  # the lean store's
    finally:
        await stores.close()


async def test_postgresql_connections_killed_by_the_server_are_replaced(postgres_url, pg_schema):
    stores = await open_sql_stores(postgres_url, schema=pg_schema)
    try:
        await stores.users.create_user("alice", "h", now=1.0)
        async with stores.users.engine.connect() as conn:
            own_pid = (await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar()
        killer = await open_sql_stores(postgres_url, schema=pg_schema)
        try:
            async with killer.users.engine.connect() as conn:
                await conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": own_pid})
        finally:
            await killer.close()
        assert (await stores.users.get_user_by_name("alice")).username == "alice"
    finally:
        await stores.close()


async def test_a_postgresql_statement_that_stalls_is_service_unavailable_not_a_hang(postgres_url, pg_schema):
    stores = await open_sql_stores(postgres_url, schema=pg_schema)  # creates the tables
    await stores.close()
    store = SqlStore(make_engine(postgres_url, schema=pg_schema, statement_timeout=0.5))
    blocker = await open_sql_stores(postgres_url, schema=pg_schema)
    try:
        async with blocker.users.engine.connect() as conn, conn.begin():
            await conn.execute(sa.text("LOCK TABLE users IN ACCESS EXCLUSIVE MODE"))  # the server stalls us

            with pytest.raises(ServiceUnavailableError) as caught:
                await asyncio.wait_for(store.get_user_by_name("alice"), 30)  # 30 s: a hang guard only

        assert isinstance(caught.value.__cause__, (sa.exc.SQLAlchemyError, TimeoutError))
        assert await store.get_user_by_name("alice") is None  # the connection is usable again
    finally:
        await blocker.close()
        await store.engine.dispose()


async def test_postgresql_tables_live_in_the_requested_schema(postgres_url, pg_schema):
    stores = await open_sql_stores(postgres_url, schema=pg_schema)
    try:
        async with stores.users.engine.connect() as conn:
            found = await conn.execute(
                sa.text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"), {"s": pg_schema}
            )
            assert "refresh_tokens" in {row[0] for row in found}
    finally:
        await stores.close()


async def test_open_stores_picks_the_adapter_from_the_url(sqlite_url):
    memory = await open_stores("memory://")
    assert isinstance(memory.users, MemoryStore)
    sql = await open_stores(sqlite_url)
    try:
        assert sql.users.engine.dialect.name == "sqlite"
    finally:
        await sql.close()


async def test_an_unsupported_url_is_a_value_error():
    with pytest.raises(ValueError, match="unsupported"):
        await open_stores("mysql+aiomysql://localhost/db")


async def test_a_version_1_database_is_upgraded_with_the_denylist_write_time(sqlite_url, tmp_path):
    stores = await open_sql_stores(sqlite_url)
    await stores.close()
    with sqlite3.connect(tmp_path / "jwtkit.db") as conn:  # make it what version 1 created
        for statement in UNDO_VERSION_5:
            conn.execute(statement)
        conn.execute("DROP TABLE login_attempts")
        conn.execute("DROP INDEX ix_denylist_created_at")
        conn.execute("ALTER TABLE denylist DROP COLUMN created_at")
        conn.execute("ALTER TABLE refresh_families DROP COLUMN access_expires_at")
        conn.execute("INSERT INTO denylist (kind, jti, exp) VALUES ('jti', 'from-v1', 9e9)")
        conn.execute("UPDATE schema_version SET version = 1")

    stores = await open_sql_stores(sqlite_url)
    try:
        assert [d.value for d in await stores.tokens.live_denials(now=0)] == ["from-v1"]
        assert await stores.tokens.denials_since(0, now=0) == []  # no write time: found by a full reload only
    finally:
        await stores.close()
    with sqlite3.connect(tmp_path / "jwtkit.db") as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == versions_from(1)


async def test_a_failing_write_logs_no_key_material_or_password_hash(database, caplog):
    from jwtkit.auth.keyring import KeyCipher, new_signing_key

    url, schema = database
    stores = await open_sql_stores(url, schema=schema)
    try:
        async with stores.keys.engine.begin() as conn:
            await conn.execute(sa.text("ALTER TABLE signing_keys RENAME TO gone"))
            await conn.execute(sa.text("ALTER TABLE users RENAME TO gone_users"))
        record = new_signing_key("ES256", KeyCipher(None), now=1.0)
        secret_hash = "$argon2id$v=19$m=8,t=1,p=1$c2VjcmV0c2FsdA$SECRETHASHVALUE"
        with pytest.raises(ServiceUnavailableError):
            await stores.keys.add_signing_key(record, retire_others_at=None, not_after=None)
        with pytest.raises(ServiceUnavailableError):
            await stores.users.create_user("alice", secret_hash, now=1.0)
    finally:
        await stores.close()
    assert '"d"' in record.private_jwk  # the test would prove nothing without key material
    private_d = json.loads(record.private_jwk)["d"]
    logged = caplog.text + "".join(str(r.exc_info) for r in caplog.records)
    assert "storage failure" in caplog.text
    assert private_d not in logged
    assert '"d"' not in logged
    assert "SECRETHASHVALUE" not in logged


async def test_a_version_2_database_is_upgraded_with_the_family_access_expiry(database):
    from jwtkit.auth.models import Denial, RefreshRecord

    url, schema = database
    stores = await open_sql_stores(url, schema=schema)
    user = await stores.users.create_user("alice", "h", now=1.0)
    async with stores.tokens.engine.begin() as conn:  # make it what version 2 created, with a family of then
        for statement in UNDO_VERSION_5:
            await conn.execute(sa.text(statement))
        await conn.execute(sa.text("DROP TABLE login_attempts"))
        await conn.execute(sa.text("ALTER TABLE refresh_families DROP COLUMN access_expires_at"))
        await conn.execute(sa.text("UPDATE schema_version SET version = 2"))
        await conn.execute(sa.text(
            "INSERT INTO refresh_families (family_id, user_id, created_at, expires_at) VALUES ('old', :u, 1, 9e9)"
        ), {"u": user.id})
    await stores.close()

    stores = await open_sql_stores(url, schema=schema)
    try:
        floor = Denial(kind="family", value="old", expires_at=500.0)
        assert await stores.tokens.revoke(family_ids=["old"], denials=[floor], now=2.0) == [floor]
        first = RefreshRecord(jti="r1", family_id="new", user_id=user.id, issued_at=3.0, expires_at=9e9,
                              access_expires_at=3600.0)
        await stores.tokens.start_family(first)
        written = await stores.tokens.revoke(
            family_ids=["new"], denials=[Denial(kind="family", value="new", expires_at=300.0)], now=4.0
        )
        assert [denial.expires_at for denial in written] == [3600.0]
        async with stores.tokens.engine.connect() as conn:
            versions = (await conn.execute(sa.text("SELECT version FROM schema_version ORDER BY version"))).all()
        assert [row[0] for row in versions] == versions_from(2)
    finally:
        await stores.close()


async def test_a_version_3_database_is_upgraded_with_the_login_attempts_table(database):
    url, schema = database
    stores = await open_sql_stores(url, schema=schema)
    async with stores.users.engine.begin() as conn:  # make it what version 3 created
        fresh_indexes = await conn.run_sync(lambda sync: sa.inspect(sync).get_indexes("login_attempts"))
        for statement in UNDO_VERSION_5:
            await conn.execute(sa.text(statement))
        await conn.execute(sa.text("DROP TABLE login_attempts"))
        await conn.execute(sa.text("UPDATE schema_version SET version = 3"))
    await stores.close()

    stores = await open_sql_stores(url, schema=schema, shared_rate_limiter=True)
    try:
        assert await stores.rate_limiter.acquire([("user:alice", 1)], now=1.0, window=60.0) == 0.0
        assert await stores.rate_limiter.acquire([("user:alice", 1)], now=2.0, window=60.0) == 59.0
        async with stores.users.engine.connect() as conn:
            versions = (await conn.execute(sa.text("SELECT version FROM schema_version ORDER BY version"))).all()
            indexes = await conn.run_sync(lambda sync: sa.inspect(sync).get_indexes("login_attempts"))
        assert [row[0] for row in versions] == versions_from(3)
        assert indexes == fresh_indexes  # the same table a fresh database gets
        assert {index["name"] for index in indexes} == {"ix_login_attempts_key_at", "ix_login_attempts_expires_at"}
    finally:
        await stores.close()


async def test_a_revocation_that_waited_for_the_sqlite_lock_is_stamped_after_the_wait(sqlite_url, tmp_path):
    import asyncio
    import time

    from jwtkit.auth.models import Denial

    stores = await open_sql_stores(sqlite_url)
    blocker = sqlite3.connect(tmp_path / "jwtkit.db", isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        started = time.time()
        denial = Denial(kind="jti", value="j-1", expires_at=started + 3600)
        revoking = asyncio.create_task(stores.tokens.revoke(family_ids=[], denials=[denial], now=started))
        await asyncio.sleep(0.3)
        assert not revoking.done()
        released = time.time()
        blocker.execute("ROLLBACK")
        await revoking
        # A poller that looked at `released` saw nothing yet: the entry must count as newer.
        assert await stores.tokens.denials_since(released, now=started) == [denial]
    finally:
        blocker.close()
        await stores.close()


async def test_concurrent_rotations_on_postgresql_leave_exactly_one_active_key(postgres_url, pg_schema):
    import asyncio

    from jwtkit.auth.models import SigningKeyRecord

    first, second = await open_sql_stores(postgres_url, schema=pg_schema), None
    try:
        second = await open_sql_stores(postgres_url, schema=pg_schema)

        def record(i):
            return SigningKeyRecord(kid=f"k{i}", alg="ES256", private_jwk="{}", encrypted=False, created_at=float(i))

        await asyncio.gather(*(
            (first if i % 2 else second).keys.add_signing_key(record(i), retire_others_at=100.0, not_after=200.0)
            for i in range(20)
        ))

        active = [r.kid for r in await first.keys.signing_keys() if r.retired_at is None]
        assert len(active) == 1
    finally:
        await first.close()
        if second is not None:
            await second.close()


async def test_a_version_5_database_is_upgraded_with_the_family_signing_kid(database):
    from jwtkit.auth.models import RefreshRecord, SigningKeyRecord

    url, schema = database
    stores = await open_sql_stores(url, schema=schema)
    user = await stores.users.create_user("alice", "h", now=1.0)
    async with stores.tokens.engine.begin() as conn:  # make it what version 5 created, with a family of then
        await conn.execute(sa.text("DROP INDEX ix_refresh_families_kid"))
        await conn.execute(sa.text("ALTER TABLE refresh_families DROP COLUMN kid"))
        await conn.execute(sa.text("DELETE FROM schema_version"))
        await conn.execute(sa.text("INSERT INTO schema_version (version) VALUES (5)"))
        await conn.execute(sa.text(
            "INSERT INTO refresh_families (family_id, user_id, created_at, expires_at) VALUES ('old', :u, 1, 9e9)"
        ), {"u": user.id})
    await stores.close()

    stores = await open_sql_stores(url, schema=schema)
    try:
        await stores.tokens.start_family(RefreshRecord(jti="r1", family_id="new", user_id=user.id, issued_at=2.0,
                                                       expires_at=9e9, kid="k1"))
        await stores.keys.add_signing_key(
            SigningKeyRecord(kid="k1", alg="ES256", private_jwk="{}", encrypted=False, created_at=1.0),
            retire_others_at=None, not_after=None,
        )
        assert await stores.keys.retire_signing_key("k1", now=3.0) == 1  # "old" has no kid: not counted
        async with stores.tokens.engine.connect() as conn:
            versions = (await conn.execute(sa.text("SELECT version FROM schema_version ORDER BY version"))).all()
        assert [row[0] for row in versions] == versions_from(5)
    finally:
        await stores.close()


async def test_the_signing_kid_step_applies_whether_or_not_an_earlier_step_added_the_column(sqlite_url, tmp_path):
    stores = await open_sql_stores(sqlite_url)  # a fresh database: the column exists
    await stores.close()
    with sqlite3.connect(tmp_path / "jwtkit.db") as conn:
        conn.execute("DELETE FROM schema_version")
        conn.execute("INSERT INTO schema_version (version) VALUES (5)")

    stores = await open_sql_stores(sqlite_url)
    await stores.close()
    with sqlite3.connect(tmp_path / "jwtkit.db") as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == versions_from(5)


async def test_a_second_store_on_an_opened_database_is_the_direct_store_and_sees_its_revocations(database):
    from jwtkit.auth.models import Denial
    from jwtkit.storage.sql import SqliteDirectStore, open_sql_store
    from jwtkit.storage.sql.postgres_direct import PostgresDirectStore

    url, schema = database
    stores = await open_sql_stores(url, schema=schema)
    reader, close = await open_sql_store(url, schema=schema)
    try:
        assert isinstance(reader, PostgresDirectStore if url.startswith("postgresql") else SqliteDirectStore)
        denial = Denial(kind="jti", value="j-1", expires_at=2000.0)
        await stores.tokens.revoke(family_ids=[], denials=[denial], now=1000.0)

        assert await reader.denials_since(1000.0, now=1000.0) == [denial]
        assert await reader.denials_since(time.time() + 3600, now=1000.0) == []  # stamped by the store's clock
    finally:
        await close()
        await stores.close()


async def test_the_direct_stores_read_the_signing_keys_oldest_first_as_written(database):
    from jwtkit.auth.models import SigningKeyRecord
    from jwtkit.storage.sql import open_sql_store

    url, schema = database
    stores = await open_sql_stores(url, schema=schema)
    reader, close = await open_sql_store(url, schema=schema)
    older = SigningKeyRecord(kid="k-old", alg="ES256", private_jwk='{"sealed":1}', encrypted=True, created_at=100.0,
                             retired_at=None, not_after=None)
    newer = SigningKeyRecord(kid="k-new", alg="EdDSA", private_jwk='{"plain":1}', encrypted=False, created_at=200.0,
                             retired_at=None, not_after=None)
    try:
        await stores.keys.add_signing_key(newer, retire_others_at=None, not_after=None)
        await stores.keys.add_signing_key(older, retire_others_at=None, not_after=None)
        await stores.keys.retire_signing_key("k-old", now=300.0)

        retired = SigningKeyRecord(kid="k-old", alg="ES256", private_jwk='{"sealed":1}', encrypted=True,
                                   created_at=100.0, retired_at=300.0, not_after=300.0)
        assert await reader.signing_keys() == [retired, newer]
    finally:
        await close()
        await stores.close()
