"""The lean pool of asyncpg connections behind ``PostgresDirectStore``: reuse, the size bound and
its wait, connections dropped when they may not be clean, and close — on the real PostgreSQL."""

import asyncio

import asyncpg
import pytest
import sqlalchemy as sa

from jwtkit.storage.sql.pg_pool import ConnectionPool

pytestmark = pytest.mark.anyio


@pytest.fixture
def connect(postgres_url):
    url = sa.make_url(postgres_url)

    async def connect_() -> asyncpg.Connection:
        return await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username, password=url.password,
                                     database=url.database)

    return connect_


@pytest.fixture
async def pool(connect):
    opened = await ConnectionPool.open(connect, max_size=2)
    yield opened
    await opened.close()


async def pid(conn) -> int:
    return int(await conn.fetchval("SELECT pg_backend_pid()"))


async def test_it_opens_one_connection_at_once(pool):
    assert pool.get_size() == 1


async def test_a_released_connection_is_handed_out_again(pool):
    first = await pool.acquire()
    pool.release_nowait(first)
    again = await pool.acquire()
    pool.release_nowait(again)
    assert again is first


async def test_no_more_than_max_size_connections_are_opened(pool):
    held = [await pool.acquire(), await pool.acquire()]
    with pytest.raises(TimeoutError):
        await pool.acquire(timeout=0.05)
    assert pool.get_size() == 2
    for conn in held:
        pool.release_nowait(conn)


async def test_a_waiter_gets_the_next_connection_released(pool):
    held = [await pool.acquire(), await pool.acquire()]
    waiting = asyncio.ensure_future(pool.acquire(timeout=5))
    await asyncio.sleep(0.01)
    assert not waiting.done()

    pool.release_nowait(held[0])
    handed = await waiting
    for conn in (handed, held[1]):
        pool.release_nowait(conn)

    assert handed is held[0]


async def test_a_broken_connection_is_terminated_and_its_slot_opens_a_new_one_for_a_waiter(pool):
    held = [await pool.acquire(), await pool.acquire()]
    old_pids = {await pid(conn) for conn in held}
    waiting = asyncio.ensure_future(pool.acquire(timeout=5))
    await asyncio.sleep(0.01)

    pool.release_nowait(held[0], broken=True)
    fresh = await waiting

    fresh_pid = await pid(fresh)
    for conn in (fresh, held[1]):
        pool.release_nowait(conn)

    assert held[0].is_closed()
    assert fresh_pid not in old_pids
    assert pool.get_size() == 2


async def test_a_connection_inside_a_transaction_is_not_reused(pool):
    conn = await pool.acquire()
    await conn.execute("BEGIN")
    pool.release_nowait(conn)
    again = await pool.acquire()
    pool.release_nowait(again)
    assert conn.is_closed()
    assert again is not conn


async def test_a_connection_the_server_closed_while_idle_is_not_handed_out(pool, connect):
    conn = await pool.acquire()
    backend = await pid(conn)
    pool.release_nowait(conn)
    admin = await connect()
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", backend)
        for _ in range(100):  # until the client has seen the server close it
            if conn.is_closed():
                break
            await asyncio.sleep(0.01)
    finally:
        await admin.close()

    again = await pool.acquire()
    again_pid = await pid(again)
    pool.release_nowait(again)

    assert again_pid != backend


async def test_a_waiter_that_gives_up_leaves_the_pool_whole(pool):
    held = [await pool.acquire(), await pool.acquire()]
    with pytest.raises(TimeoutError):
        await pool.acquire(timeout=0.01)
    for conn in held:
        pool.release_nowait(conn)
    again = {await pool.acquire(), await pool.acquire()}
    for conn in again:
        pool.release_nowait(conn)
    assert again == set(held)


async def test_closing_closes_idle_connections_and_refuses_later_callers(connect):
    pool = await ConnectionPool.open(connect, max_size=2)
    idle = await pool.acquire()
    pool.release_nowait(idle)

    await pool.close()

    assert idle.is_closed()
    with pytest.raises(asyncpg.InterfaceError):
        await pool.acquire()


async def test_a_connection_in_use_at_close_is_terminated_when_released(connect):
    pool = await ConnectionPool.open(connect, max_size=2)
    conn = await pool.acquire()
    await pool.close()
    pool.release_nowait(conn)
    assert conn.is_closed()


async def test_a_waiter_at_close_is_told_the_pool_is_closed(connect):
    pool = await ConnectionPool.open(connect, max_size=1)
    held = await pool.acquire()
    waiting = asyncio.ensure_future(pool.acquire(timeout=5))
    await asyncio.sleep(0.01)

    await pool.close()

    with pytest.raises(asyncpg.InterfaceError):
        await waiting
    pool.release_nowait(held)


async def test_a_connection_that_cannot_be_opened_frees_its_slot():
    attempts = []

    async def refused() -> asyncpg.Connection:
        attempts.append(1)
        raise OSError("connection refused")

    pool = ConnectionPool(refused, max_size=1)
    for _ in range(2):
        with pytest.raises(OSError, match="connection refused"):
            await pool.acquire(timeout=1)
    assert (len(attempts), pool.get_size()) == (2, 0)
