"""``SqlRateLimiter`` on SQLite (a temp file) and PostgreSQL (a schema per test): its rows, shared
by every process on the database; a reservation is checked and recorded in one atomic step, also
across processes (each "process" here is its own engine on the same database). The sliding window
every adapter shares is in test_rate_limiter_contract.py.

Without PostgreSQL its half of these tests skips, except under ``CI`` where it fails.
"""

import asyncio
import sqlite3

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from jwtkit.auth.errors import ServiceUnavailableError
from jwtkit.storage.memory import MemoryRateLimiter
from jwtkit.storage.sql import SqlRateLimiter, open_sql_stores
from jwtkit.storage.sql.engine import make_engine
from jwtkit.storage.sql.rate_limiter import stored_key

pytestmark = pytest.mark.anyio

T0 = 1_700_000_000.25
WINDOW = 60.0


@pytest.fixture
async def open_process(database):
    """``await open_process()``: the stores of one more process on this test's database (its own
    engine), with the shared rate limiter; all closed at the end."""
    url, schema = database
    opened = []

    async def open_():
        stores = await open_sql_stores(url, schema=schema, shared_rate_limiter=True)
        opened.append(stores)
        return stores

    yield open_
    for stores in opened:
        await stores.close()


@pytest.fixture
async def stores(open_process):
    return await open_process()


@pytest.fixture
def limiter(stores):
    return stores.rate_limiter


async def hit(limiter, key, now, limit=3):
    return await limiter.acquire([(key, limit)], now=now, window=WINDOW)


async def rows(stores, key=None):
    """The ``login_attempts`` rows' times (of ``key``'s stored key, or of every key), in time order."""
    query = sa.text("SELECT at FROM login_attempts ORDER BY at, id")
    if key is not None:
        query = sa.text("SELECT at FROM login_attempts WHERE key = :key ORDER BY at, id").bindparams(
            key=stored_key(key)
        )
    async with stores.users.engine.connect() as conn:
        return [row[0] for row in await conn.execute(query)]


# ---- wiring


async def test_open_sql_stores_shares_the_limiter_through_the_database_only_when_asked(database):
    url, schema = database
    default = await open_sql_stores(url, schema=schema)
    shared = await open_sql_stores(url, schema=schema, shared_rate_limiter=True)
    try:
        assert isinstance(default.rate_limiter, MemoryRateLimiter)
        assert isinstance(shared.rate_limiter, SqlRateLimiter)
    finally:
        await default.close()
        await shared.close()


# ---- its rows


async def test_an_acquire_records_one_event_on_each_of_its_keys(limiter, stores):
    await limiter.acquire([("user:alice", 3), ("client:203.0.113.7", 20)], now=T0, window=WINDOW)

    assert await rows(stores, "user:alice") == [T0]
    assert await rows(stores, "client:203.0.113.7") == [T0]


async def test_release_of_a_time_without_an_event_changes_nothing(limiter, stores):
    await hit(limiter, "user:alice", T0)

    await limiter.release("user:alice", now=T0 + 1)
    await limiter.release("user:bob", now=T0)

    assert await rows(stores, "user:alice") == [T0]


async def test_an_acquire_drops_the_events_of_its_keys_that_left_the_window(limiter, stores):
    await hit(limiter, "user:alice", T0)
    await hit(limiter, "user:bob", T0)

    await hit(limiter, "user:alice", T0 + WINDOW + 1)

    assert await rows(stores, "user:alice") == [T0 + WINDOW + 1]
    assert await rows(stores, "user:bob") == [T0]  # not touched: left to purge


# ---- several processes on one database


async def test_an_event_recorded_by_one_process_counts_in_another(open_process):
    first, second = await open_process(), await open_process()

    assert await hit(first.rate_limiter, "user:alice", T0, limit=1) == 0.0

    assert await hit(second.rate_limiter, "user:alice", T0 + 1, limit=1) == WINDOW - 1


async def test_concurrent_acquires_from_two_processes_admit_exactly_the_limit(open_process):
    first, second = await open_process(), await open_process()

    waits = await asyncio.gather(*(
        hit(process.rate_limiter, "user:alice", T0 + i / 100, limit=5)
        for i, process in enumerate([first, second] * 20)
    ))

    assert sum(1 for wait in waits if wait == 0.0) == 5
    assert len(await rows(first, "user:alice")) == 5


async def test_concurrent_acquires_of_overlapping_keys_in_either_order_all_complete(open_process):
    first, second = await open_process(), await open_process()

    def attempt(process, i):
        keys = [("user:alice", 5), ("client:203.0.113.7", 7)]
        if i % 2:
            keys.reverse()  # the opposite order: the locks are still taken in one order (no deadlock)
        return process.rate_limiter.acquire(keys, now=T0 + i / 100, window=WINDOW)

    waits = await asyncio.gather(*(attempt(process, i) for i, process in enumerate([first, second] * 20)))

    assert sum(1 for wait in waits if wait == 0.0) == 5  # user:alice, the tighter limit, decides
    assert len(await rows(first, "client:203.0.113.7")) == 5


async def test_concurrent_releases_of_one_time_from_two_processes_each_give_back_one_event(open_process):
    first, second = await open_process(), await open_process()
    for _ in range(12):
        await hit(first.rate_limiter, "client:203.0.113.7", T0, limit=20)

    await asyncio.gather(*(
        process.rate_limiter.release("client:203.0.113.7", now=T0) for process in [first, second] * 5
    ))

    assert await rows(first, "client:203.0.113.7") == [T0, T0]


async def test_on_sqlite_an_acquire_waits_for_another_writer_and_then_counts_its_event(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'limiter.db'}"
    stores = await open_sql_stores(url, shared_rate_limiter=True)
    other = sqlite3.connect(tmp_path / "limiter.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock, recording an attempt
        other.execute("INSERT INTO login_attempts (key, at, expires_at) VALUES ('user:alice', ?, ?)",
                      (T0, T0 + WINDOW))
        acquiring = asyncio.create_task(hit(stores.rate_limiter, "user:alice", T0 + 1, limit=1))
        await asyncio.sleep(0.2)
        other.execute("COMMIT")

        assert await acquiring == WINDOW - 1
    finally:
        other.close()
        await stores.close()


async def test_on_postgresql_an_acquire_waits_for_the_key_lock_and_then_counts_what_its_holder_wrote(
    postgres_url, pg_schema
):
    from jwtkit.storage.sql.rate_limiter import _LOCK_SPACE, _lock_id

    stores = await open_sql_stores(postgres_url, schema=pg_schema, shared_rate_limiter=True)
    try:
        async with stores.users.engine.connect() as other:  # another process, inside its acquire
            await other.execute(sa.text("SELECT pg_advisory_xact_lock(:space, :id)"),
                                {"space": _LOCK_SPACE, "id": _lock_id("user:alice")})
            await other.execute(
                sa.text("INSERT INTO login_attempts (key, at, expires_at) VALUES ('user:alice', :at, :exp)"),
                {"at": T0, "exp": T0 + WINDOW},
            )
            acquiring = asyncio.create_task(hit(stores.rate_limiter, "user:alice", T0 + 1, limit=1))
            await asyncio.sleep(0.2)
            await other.commit()

        assert await acquiring == WINDOW - 1
    finally:
        await stores.close()


async def test_a_postgresql_defaulting_to_repeatable_read_still_admits_at_most_the_limit(postgres_url, pg_schema):
    # Each acquire must read after taking the lock: the limiter runs READ COMMITTED whatever the default.
    setup = await open_sql_stores(postgres_url, schema=pg_schema)
    await setup.close()
    settings = {"search_path": pg_schema, "default_transaction_isolation": "repeatable read"}
    engines = [create_async_engine(postgres_url, connect_args={"server_settings": settings}) for _ in range(2)]
    try:
        limiters = [SqlRateLimiter(engine) for engine in engines]

        waits = await asyncio.gather(*(
            hit(limiter, "user:alice", T0 + i / 100, limit=5) for i, limiter in enumerate(limiters * 20)
        ))

        assert sum(1 for wait in waits if wait == 0.0) == 5
    finally:
        for engine in engines:
            await engine.dispose()


# ---- purge


async def test_purge_deletes_the_events_whose_window_has_passed_and_counts_them(limiter, stores):
    await limiter.acquire([("user:alice", 3), ("client:203.0.113.7", 20)], now=T0, window=WINDOW)
    await hit(limiter, "user:bob", T0 + 10)

    assert await limiter.purge(now=T0 + WINDOW) == 2  # exactly `window` old: gone

    assert await rows(stores) == [T0 + 10]


async def test_purge_leaves_live_events_counting(limiter):
    await hit(limiter, "user:alice", T0, limit=1)

    assert await limiter.purge(now=T0 + WINDOW - 1) == 0

    assert await hit(limiter, "user:alice", T0 + WINDOW - 1, limit=1) == 1.0


async def test_purge_goes_by_each_events_own_window(limiter, stores):
    await limiter.acquire([("user:alice", 3)], now=T0, window=10.0)
    await limiter.acquire([("user:bob", 3)], now=T0, window=100.0)

    assert await limiter.purge(now=T0 + 50) == 1

    assert await rows(stores, "user:bob") == [T0]


# ---- keys


UNUSUAL_KEYS = [
    "user:álice",
    "user:爱丽丝",
    "user:🙂🙃",
    "user:a\x00",  # PostgreSQL text holds no NUL
    "user:\\udc80",  # what throttling.py makes of a lone surrogate
    "user:\udc80",  # a lone surrogate as such (UTF-8 cannot encode it)
    "user:" + "x" * 250,  # the column's 255 characters exactly
    "user:" + "x" * 1200,  # longer: 200 escaped characters can be
    "sha256:" + "0" * 64,  # looks like a digest
]


@pytest.mark.parametrize("key", UNUSUAL_KEYS)
async def test_any_unicode_key_is_counted(limiter, key):
    assert await hit(limiter, key, T0, limit=1) == 0.0

    assert await hit(limiter, key, T0 + 1, limit=1) == WINDOW - 1
    await limiter.release(key, now=T0)
    assert await hit(limiter, key, T0 + 2, limit=1) == 0.0
    await limiter.reset(key)
    assert await hit(limiter, key, T0 + 3, limit=1) == 0.0


async def test_unusual_keys_are_counted_apart_from_each_other_and_from_plain_ones(limiter):
    keys = [*UNUSUAL_KEYS, "user:a", "user:", stored_key("user:a\x00"), stored_key("user:" + "x" * 1200)]
    assert len({stored_key(key) for key in keys}) == len(keys)

    for key in keys:
        assert await hit(limiter, key, T0, limit=1) == 0.0, key


def test_a_key_that_fits_the_column_and_is_plain_text_is_stored_as_it_is():
    assert stored_key("client:2001:db8::/64") == "client:2001:db8::/64"
    assert stored_key("user:爱丽丝") == "user:爱丽丝"


# ---- failures


async def test_a_missing_table_is_service_unavailable_on_every_method(limiter, stores):
    async with stores.users.engine.begin() as conn:
        await conn.execute(sa.text("DROP TABLE login_attempts"))

    with pytest.raises(ServiceUnavailableError) as caught:
        await hit(limiter, "user:alice", T0)
    assert isinstance(caught.value.__cause__, sa.exc.SQLAlchemyError | sqlite3.Error)  # SQLite: sqlite3's
    with pytest.raises(ServiceUnavailableError):
        await limiter.release("user:alice", now=T0)
    with pytest.raises(ServiceUnavailableError):
        await limiter.reset("user:alice")
    with pytest.raises(ServiceUnavailableError):
        await limiter.purge(now=T0)


async def test_an_unreachable_postgresql_is_service_unavailable():
    engine = make_engine("postgresql+asyncpg://postgres@127.0.0.1:1/test")
    limiter = SqlRateLimiter(engine)
    try:
        with pytest.raises(ServiceUnavailableError):
            await hit(limiter, "user:alice", T0)
        with pytest.raises(ServiceUnavailableError):
            await limiter.purge(now=T0)
    finally:
        await engine.dispose()
