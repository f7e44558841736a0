"""What only the asyncpg-direct PostgreSQL store has to prove beyond the contract suite (which runs
on it: ``open_sql_stores`` picks it for every PostgreSQL URL): it is the store chosen, it keeps to
the test's schema, one spend of a token wins however many race (across pools), a spend that waited
for a revoker's lock changes nothing, and killed or stalled connections are a 503, never an asyncpg
exception, and are replaced. Only the test's own connections are killed."""

import asyncio
import dataclasses

import asyncpg
import pytest
import sqlalchemy as sa

from jwtkit.auth.errors import ServiceUnavailableError
from jwtkit.auth.models import RefreshRecord, SessionRecord
from jwtkit.auth.ports import SpendResult
from jwtkit.storage.sql import open_sql_stores
from jwtkit.storage.sql.engine import make_engine
from jwtkit.storage.sql.postgres_direct import PostgresDirectStore, open_postgres_pool

pytestmark = pytest.mark.anyio

NOW = 1_800_000_000.0


def token(jti, family="fam-1", *, user_id, issued_at=NOW, ttl=100.0, access_expires_at=None):
    return RefreshRecord(jti=jti, family_id=family, user_id=user_id, issued_at=issued_at, expires_at=issued_at + ttl,
                         access_expires_at=access_expires_at, access_jti=f"a-{jti}")


@pytest.fixture
async def stores(postgres_url, pg_schema):
    opened = await open_sql_stores(postgres_url, schema=pg_schema)
    yield opened
    await opened.close()


@pytest.fixture
async def pg_admin(postgres_url, pg_schema):
    url = sa.make_url(postgres_url)
    conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username, password=url.password,
                                 database=url.database, server_settings={"search_path": pg_schema})
    yield conn
    await conn.close()


async def pool_pids(store):
    """The backend pids of every connection the store's pool holds (opened to its maximum)."""
    held = [await store.pool.acquire() for _ in range(store.pool.get_max_size())]
    try:
        return [await conn.fetchval("SELECT pg_backend_pid()") for conn in held]
    finally:
        for conn in held:
            store.pool.release_nowait(conn)


async def test_postgresql_urls_get_the_direct_store_for_every_per_request_port(stores):
    assert isinstance(stores.users, PostgresDirectStore)
    assert stores.tokens is stores.users
    assert stores.sessions is stores.users
    assert stores.keys is stores.users


async def test_rows_go_to_the_requested_schema(stores, pg_admin, pg_schema):
    user = await stores.users.create_user("alice", "h", now=NOW)
    await stores.tokens.start_family(token("r1", user_id=user.id))
    await stores.sessions.add_session(SessionRecord(key_hash="ab" * 32, data={}, expires_at=NOW))
    for table in ("users", "refresh_families", "refresh_tokens", "sessions"):
        assert await pg_admin.fetchval(f'SELECT count(*) FROM "{pg_schema}".{table}') == 1, table


async def test_of_many_concurrent_spends_across_processes_exactly_one_wins(postgres_url, pg_schema, stores):
    user = await stores.users.create_user("alice", "h", now=NOW)
    await stores.tokens.start_family(token("r1", user_id=user.id, access_expires_at=NOW + 10))
    other = await open_sql_stores(postgres_url, schema=pg_schema)  # another process's pool
    try:
        spends = [
            (stores if i % 2 else other).tokens.spend_refresh(
                "r1", now=NOW + 1, successor=token(f"s{i}", user_id=user.id, issued_at=NOW + 1,
                                                   access_expires_at=NOW + 100 + i))
            for i in range(20)
        ]
        results = await asyncio.gather(*spends)
    finally:
        await other.close()

    assert results.count(SpendResult.SPENT) == 1
    assert set(results) == {SpendResult.SPENT, SpendResult.REUSED}
    winner = results.index(SpendResult.SPENT)
    stored = [i for i in range(20) if await stores.tokens.get_refresh(f"s{i}") is not None]
    assert stored == [winner]
    assert (await stores.tokens.get_refresh("r1")).spent_at == NOW + 1
    assert (await stores.tokens.spent_successor("r1", spent_since=NOW)).jti == f"s{winner}"


async def test_a_spend_that_waited_for_a_revokers_lock_changes_nothing(stores, pg_admin):
    user = await stores.users.create_user("alice", "h", now=NOW)
    await stores.tokens.start_family(token("r1", user_id=user.id))
    revoker = pg_admin.transaction()
    await revoker.start()
    await pg_admin.execute("UPDATE refresh_families SET revoked_at = $1 WHERE family_id = 'fam-1'", NOW)
    spend = asyncio.create_task(stores.tokens.spend_refresh("r1", now=NOW + 1,
                                                            successor=token("r2", user_id=user.id)))
    await asyncio.sleep(0.3)
    assert not spend.done()  # it holds the token and waits for the family row
    await revoker.commit()

    assert await spend is SpendResult.REVOKED
    spent = await stores.tokens.get_refresh("r1")
    assert (spent.spent_at, spent.revoked_at) == (None, NOW)  # the token's update was undone with the rest
    assert await stores.tokens.get_refresh("r2") is None


async def test_refused_spends_change_nothing_and_say_why(stores):
    user = await stores.users.create_user("alice", "h", now=NOW)
    await stores.tokens.start_family(token("r1", user_id=user.id))
    await stores.tokens.start_family(token("old", "fam-2", user_id=user.id, ttl=1.0))
    successor = dataclasses.replace(token("r2", user_id=user.id), kid="k2")

    assert await stores.tokens.spend_refresh("nope", now=NOW, successor=successor) is SpendResult.UNKNOWN
    assert await stores.tokens.spend_refresh("old", now=NOW + 5, successor=successor) is SpendResult.UNKNOWN
    assert await stores.tokens.spend_refresh("r1", now=NOW, successor=successor) is SpendResult.SPENT
    again = dataclasses.replace(successor, jti="r3")
    assert await stores.tokens.spend_refresh("r1", now=NOW, successor=again) is SpendResult.REUSED
    assert await stores.tokens.get_refresh("r3") is None


async def test_killed_idle_connections_are_replaced_without_an_error(stores, pg_admin):
    user = await stores.users.create_user("alice", "h", now=NOW)
    pids = await pool_pids(stores.users)

    await pg_admin.execute("SELECT pg_terminate_backend(pid, 5000) FROM unnest($1::int[]) AS pid", pids)

    assert await stores.users.get_user(user.id) == user  # a read retries once on a fresh connection
    await stores.sessions.add_session(SessionRecord(key_hash="cd" * 32, data={}, expires_at=NOW))
    assert (await stores.sessions.get_session("cd" * 32)).key_hash == "cd" * 32
    assert not set(pids) & set(await pool_pids(stores.users))


async def blocked_by(pg_admin, locker):
    """The pids waiting for a lock the connection ``locker`` holds (once there is one)."""
    blocked: list[int] = []
    while not blocked:
        blocked = await pg_admin.fetchval(
            "SELECT array_agg(pid) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", locker) or []
        await asyncio.sleep(0.01)
    return blocked


async def test_a_read_whose_connection_is_killed_mid_statement_is_retried_once(stores, pg_admin, pg_schema):
    user = await stores.users.create_user("alice", "h", now=NOW)
    locker = await pg_admin.fetchval("SELECT pg_backend_pid()")
    async with pg_admin.transaction():
        await pg_admin.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        read = asyncio.create_task(stores.users.get_user(user.id))
        await pg_admin.execute("SELECT pg_terminate_backend(pid, 5000) FROM unnest($1::int[]) AS pid",
                               await blocked_by(pg_admin, locker))
        await asyncio.sleep(0.5)  # the retry waits for the lock in turn
        assert not read.done()
    assert await read == user


async def test_a_connection_killed_mid_statement_is_service_unavailable_and_changes_nothing(stores, pg_admin):
    user = await stores.users.create_user("alice", "h", now=NOW)
    await stores.tokens.start_family(token("r1", user_id=user.id))
    locker = await pg_admin.fetchval("SELECT pg_backend_pid()")
    transaction = pg_admin.transaction()
    await transaction.start()
    await pg_admin.execute("SELECT 1 FROM refresh_families WHERE family_id = 'fam-1' FOR UPDATE")
    spend = asyncio.create_task(stores.tokens.spend_refresh("r1", now=NOW + 1,
                                                            successor=token("r2", user_id=user.id)))
    await pg_admin.execute("SELECT pg_terminate_backend(pid, 5000) FROM unnest($1::int[]) AS pid",
                           await blocked_by(pg_admin, locker))

    with pytest.raises(ServiceUnavailableError) as caught:
        await spend
    assert isinstance(caught.value.__cause__, (asyncpg.PostgresError, asyncpg.InterfaceError, ConnectionError))
    await transaction.rollback()
    assert (await stores.tokens.get_refresh("r1")).spent_at is None
    assert await stores.tokens.spend_refresh("r1", now=NOW + 1,
                                             successor=token("r2", user_id=user.id)) is SpendResult.SPENT


async def test_a_stalled_statement_is_service_unavailable_not_a_hang(postgres_url, pg_schema, stores, pg_admin):
    engine = make_engine(postgres_url, schema=pg_schema, statement_timeout=0.5)
    store = PostgresDirectStore(engine, await open_postgres_pool(engine, schema=pg_schema, statement_timeout=0.5),
                                statement_timeout=0.5)
    try:
        async with pg_admin.transaction():
            await pg_admin.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")  # the server stalls us
            with pytest.raises(ServiceUnavailableError):
                await asyncio.wait_for(store.get_user_by_name("alice"), 30)  # 30 s: a hang guard only
            with pytest.raises(ServiceUnavailableError):
                await asyncio.wait_for(store.create_user("alice", "h", now=NOW), 30)
        assert await store.get_user_by_name("alice") is None  # usable again, and nothing was written
    finally:
        await store.close()
        await engine.dispose()


async def test_a_database_gone_away_is_service_unavailable_and_comes_back(postgres_proxy, pg_schema):
    stores = await open_sql_stores(postgres_proxy.postgres_url, schema=pg_schema)
    try:
        user = await stores.users.create_user("alice", "h", now=NOW)
        await postgres_proxy.stop()
        calls = [stores.users.get_user(user.id), stores.users.get_user_by_name("alice"),
                 stores.users.create_user("bob", "h", now=NOW), stores.sessions.get_session("ab" * 32),
                 stores.tokens.start_family(token("r1", user_id=user.id)),
                 stores.tokens.spend_refresh("r1", now=NOW, successor=token("r2", user_id=user.id))]
        for call in calls:
            with pytest.raises(ServiceUnavailableError):
                await asyncio.wait_for(call, 30)
        await postgres_proxy.start()
        assert await stores.users.get_user(user.id) == user
        assert await stores.users.get_user_by_name("bob") is None
    finally:
        await stores.close()


async def test_failures_are_logged_without_the_row_or_its_parameters(stores, pg_admin, caplog):
    await pg_admin.execute("ALTER TABLE users RENAME TO gone_users")
    with pytest.raises(ServiceUnavailableError):
        await stores.users.create_user("alice", "$argon2id$SECRETHASHVALUE", now=NOW)
    assert "storage failure during create_user: UndefinedTableError (SQLSTATE 42P01)" in caplog.text
    assert "SECRETHASHVALUE" not in caplog.text
