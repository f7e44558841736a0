"""``SqliteDirectStore``: the SQLite file store whose hot paths run on ``sqlite3`` (its behaviour is
the contract suite's, which runs on it; here what is its own: which URLs get it, lock contention
with other connections and processes, and every failure as ``ServiceUnavailableError``)."""

import asyncio
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from jwtkit.auth.errors import ServiceUnavailableError, UsernameTakenError
from jwtkit.auth.models import RefreshRecord, SessionRecord
from jwtkit.auth.ports import SpendResult
from jwtkit.storage.sql import SqliteDirectStore, SqlStore, open_sql_stores
from jwtkit.storage.sql.engine import make_engine
from jwtkit.storage.sql.sqlite_rate_limiter import SqliteDirectRateLimiter

pytestmark = pytest.mark.anyio

NOW = 1_800_000_000.0


def session(key, expires_at=NOW + 100):
    return SessionRecord(key_hash=key, data={"user_id": 1, "username": "alice"}, expires_at=expires_at)


def refresh(jti, family="fam-1", *, user_id=1, ttl=100.0):
    return RefreshRecord(jti=jti, family_id=family, user_id=user_id, issued_at=NOW, expires_at=NOW + ttl,
                         access_jti=f"a-{jti}", access_expires_at=NOW + 10)


@pytest.fixture
def path(tmp_path):
    return tmp_path / "jwtkit.db"


@pytest.fixture
async def stores(path):
    opened = await open_sql_stores(f"sqlite+aiosqlite:///{path}")
    yield opened
    await opened.close()


@pytest.fixture
def lock_holder(path):
    """A second connection (as another server's would be) that takes the write lock until released."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    yield connection
    if connection.in_transaction:
        connection.execute("ROLLBACK")
    connection.close()


async def test_an_sqlite_file_gets_the_direct_store_for_every_port(stores):
    assert isinstance(stores.users, SqliteDirectStore)
    assert stores.tokens is stores.users
    assert stores.sessions is stores.users
    assert stores.keys is stores.users


async def test_an_in_memory_sqlite_keeps_the_sqlalchemy_store():
    # One private connection (StaticPool): a second connection would be another, empty database.
    stores = await open_sql_stores("sqlite+aiosqlite://")
    try:
        assert type(stores.users) is SqlStore
        user = await stores.users.create_user("alice", "h", now=NOW)
        assert await stores.users.get_user(user.id) == user
    finally:
        await stores.close()


async def test_what_it_writes_the_sqlalchemy_methods_read_and_the_other_way_round(stores):
    user = await stores.users.create_user("alice", "h", now=NOW)
    await stores.users.set_password_hash(user.id, "h2")  # inherited (SQLAlchemy)
    assert (await stores.users.get_user(user.id)).password_hash == "h2"  # sqlite3
    await stores.tokens.start_family(refresh("t1"))  # sqlite3
    await stores.tokens.revoke(family_ids=["fam-1"], denials=[], now=NOW)  # SQLAlchemy
    assert (await stores.tokens.get_refresh("t1")).revoked_at == NOW
    assert await stores.tokens.spend_refresh("t1", now=NOW + 1, successor=refresh("t2")) is SpendResult.REVOKED


async def test_a_write_waits_for_another_connections_lock_without_stalling_reads(stores, lock_holder):
    await stores.sessions.add_session(session("a" * 64))
    lock_holder.execute("BEGIN IMMEDIATE")
    write = asyncio.create_task(stores.sessions.add_session(session("b" * 64)))
    for _ in range(20):  # the loop keeps serving reads while the write waits on its thread
        assert await stores.sessions.get_session("a" * 64) is not None
        await asyncio.sleep(0.005)
    assert not write.done()
    lock_holder.execute("COMMIT")
    await write
    assert await stores.sessions.get_session("b" * 64) is not None


async def test_a_spend_under_contention_still_decides_once(stores, lock_holder):
    await stores.users.create_user("alice", "h", now=NOW)
    await stores.tokens.start_family(refresh("t1"))
    lock_holder.execute("BEGIN IMMEDIATE")
    spends = [asyncio.create_task(stores.tokens.spend_refresh("t1", now=NOW + 1, successor=refresh(f"t2-{i}")))
              for i in range(3)]
    await asyncio.sleep(0.05)
    lock_holder.execute("COMMIT")
    results = await asyncio.gather(*spends)
    assert sorted(r.name for r in results) == ["REUSED", "REUSED", "SPENT"]


async def test_a_write_waits_for_another_process_holding_the_lock(stores, path):
    script = textwrap.dedent(f"""
        import sqlite3, sys
        c = sqlite3.connect({str(path)!r}, isolation_level=None)
        c.execute("BEGIN IMMEDIATE")
        print("locked", flush=True)
        sys.stdin.readline()
        c.execute("INSERT INTO sessions VALUES ('{"c" * 64}', '{{}}', 1)")
        c.execute("COMMIT")
    """)
    with subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True) as holder:
        try:
            assert await asyncio.to_thread(holder.stdout.readline) == "locked\n"
            user = asyncio.create_task(stores.users.create_user("alice", "h", now=NOW))
            await asyncio.sleep(0.05)
            assert not user.done()
            assert await stores.users.get_user_by_name("alice") is None  # reads go on meanwhile
            holder.stdin.write("go\n")
            holder.stdin.flush()
            created = await user
            assert await stores.users.get_user_by_name("ALICE") == created
            assert await stores.sessions.get_session("c" * 64) is not None  # the other process's commit
        finally:
            holder.kill()


async def test_a_lock_held_past_the_busy_timeout_is_service_unavailable(path, stores, lock_holder):
    store = SqliteDirectStore.open(make_engine(f"sqlite+aiosqlite:///{path}"), str(path), busy_timeout_ms=50)
    try:
        lock_holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(ServiceUnavailableError) as caught:
            await store.add_session(session("d" * 64))
        assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
        lock_holder.execute("ROLLBACK")
        await store.add_session(session("d" * 64))  # and works again once the lock is free
    finally:
        await store.close()


async def test_a_file_that_cannot_be_opened_is_service_unavailable(tmp_path):
    missing = tmp_path / "no-such-dir" / "x.db"
    with pytest.raises(ServiceUnavailableError):
        SqliteDirectStore.open(make_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"), str(missing))


async def test_a_file_that_is_not_a_database_is_service_unavailable(tmp_path):
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database, " * 512)
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        store = SqliteDirectStore.open(engine, str(garbage))
    except ServiceUnavailableError:
        return  # refused at open: as good
    try:
        with pytest.raises(ServiceUnavailableError):
            await store.get_session("e" * 64)
        with pytest.raises(ServiceUnavailableError):
            await store.create_user("alice", "h", now=NOW)
    finally:
        await store.close()


async def test_integrity_failures_other_than_a_taken_name_are_service_unavailable(stores):
    await stores.users.create_user("alice", "h", now=NOW)
    with pytest.raises(UsernameTakenError):
        await stores.users.create_user("Alice", "h", now=NOW)
    await stores.tokens.start_family(refresh("t1"))
    with pytest.raises(ServiceUnavailableError) as caught:
        await stores.tokens.start_family(refresh("t1"))  # the same family and jti again
    assert isinstance(caught.value.__cause__, sqlite3.IntegrityError)
    await stores.sessions.add_session(session("a" * 64))
    with pytest.raises(ServiceUnavailableError):
        await stores.sessions.add_session(session("a" * 64))


async def test_a_failed_write_leaves_no_transaction_open(stores, lock_holder):
    await stores.users.create_user("alice", "h", now=NOW)
    await stores.tokens.start_family(refresh("t1"))
    with pytest.raises(ServiceUnavailableError):
        await stores.tokens.start_family(refresh("t1"))
    lock_holder.execute("BEGIN IMMEDIATE")  # would fail at once if the store still held the write lock
    lock_holder.execute("ROLLBACK")


async def test_a_closed_store_is_service_unavailable(path):
    stores = await open_sql_stores(f"sqlite+aiosqlite:///{path}")
    await stores.close()
    with pytest.raises(ServiceUnavailableError):
        await stores.sessions.get_session("a" * 64)


async def test_closing_twice_is_harmless(path):
    stores = await open_sql_stores(f"sqlite+aiosqlite:///{path}")
    await stores.close()
    await stores.close()


async def test_the_shared_rate_limiter_on_an_sqlite_file_is_the_direct_one(path):
    stores = await open_sql_stores(f"sqlite+aiosqlite:///{path}", shared_rate_limiter=True)
    try:
        assert isinstance(stores.rate_limiter, SqliteDirectRateLimiter)
    finally:
        await stores.close()


async def test_the_rate_limiter_waits_for_another_connections_lock_and_still_counts_exactly(path, lock_holder):
    first = await open_sql_stores(f"sqlite+aiosqlite:///{path}", shared_rate_limiter=True)
    second = await open_sql_stores(f"sqlite+aiosqlite:///{path}", shared_rate_limiter=True)
    try:
        lock_holder.execute("BEGIN IMMEDIATE")
        attempts = [asyncio.create_task(stores.rate_limiter.acquire([("user:alice", 3)], now=NOW, window=60))
                    for stores in (first, second) for _ in range(4)]
        await asyncio.sleep(0.05)
        assert not any(attempt.done() for attempt in attempts)
        lock_holder.execute("COMMIT")
        waits = await asyncio.gather(*attempts)
        assert sum(wait == 0 for wait in waits) == 3
        await first.rate_limiter.release("user:alice", now=NOW)
        assert await second.rate_limiter.acquire([("user:alice", 3)], now=NOW, window=60) == 0
    finally:
        await first.close()
        await second.close()
