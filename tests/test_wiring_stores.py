"""``jwtkit.wiring.open_stores``: what it composes for one process, for workers polling the database, and for
workers sharing Redis; and that a failure half-way leaves nothing open."""

import socket
import threading

import pytest

from jwtkit.auth.errors import ServiceUnavailableError
from jwtkit.storage.memory import LocalRevocationFeed, MemoryRateLimiter
from jwtkit.storage.polling import DatabasePollingFeed
from jwtkit.storage.sql import SqlRateLimiter
from jwtkit.wiring import open_stores

pytestmark = pytest.mark.anyio


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite+aiosqlite:///{tmp_path / 'jwtkit.db'}"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_a_single_process_gets_the_local_feed(sqlite_url):
    stores = await open_stores(sqlite_url)
    try:
        assert isinstance(stores.feed, LocalRevocationFeed)
    finally:
        await stores.close()


async def test_poll_database_gives_a_fresh_polling_feed_that_close_stops(sqlite_url):
    stores = await open_stores(sqlite_url, poll_database=True, poll_interval=0.05)
    assert isinstance(stores.feed, DatabasePollingFeed)
    assert stores.feed.is_fresh(1.0)

    await stores.close()

    assert not stores.feed.is_fresh(10.0)


async def test_a_single_process_counts_logins_in_memory(sqlite_url):
    stores = await open_stores(sqlite_url)
    try:
        assert isinstance(stores.rate_limiter, MemoryRateLimiter)
    finally:
        await stores.close()


async def test_processes_sharing_a_database_without_redis_count_logins_in_it(sqlite_url):
    stores = await open_stores(sqlite_url, poll_database=True, poll_interval=0.05)
    try:
        assert isinstance(stores.rate_limiter, SqlRateLimiter)
    finally:
        await stores.close()


async def test_polling_an_in_memory_sqlite_polls_its_own_connection_with_no_reader_thread():
    before = len(reader_threads())
    stores = await open_stores("sqlite+aiosqlite://", poll_database=True, poll_interval=0.05)
    try:
        assert stores.feed.is_fresh(1.0)
        assert len(reader_threads()) == before
    finally:
        await stores.close()


def reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "jwtkit-revocation-reads"]


async def test_polling_an_sql_database_reads_on_a_thread_of_its_own_that_close_stops(sqlite_url):
    before = len(reader_threads())
    stores = await open_stores(sqlite_url, poll_database=True, poll_interval=0.05)
    assert len(reader_threads()) == before + 1

    await stores.close()

    assert len(reader_threads()) == before


async def test_a_reader_that_cannot_reach_the_database_is_service_unavailable_and_leaves_no_thread(
    sqlite_url, monkeypatch
):
    from jwtkit.storage import sql

    unreachable = f"postgresql+asyncpg://jwtkit@127.0.0.1:{closed_port()}/jwtkit"  # refused at once
    open_sql_store = sql.open_sql_store  # the stores open first; the reader's own store then cannot connect
    monkeypatch.setattr(sql, "open_sql_store", lambda url, schema=None: open_sql_store(unreachable))
    before = len(reader_threads())

    with pytest.raises(ServiceUnavailableError):
        await open_stores(sqlite_url, poll_database=True)

    assert len(reader_threads()) == before


async def test_an_unreachable_redis_is_service_unavailable_and_leaves_nothing_open(sqlite_url):
    with pytest.raises(ServiceUnavailableError):
        await open_stores(sqlite_url, redis_url=f"redis://127.0.0.1:{closed_port()}/0")
