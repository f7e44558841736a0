"""``open_stores``: what it composes for one process, for workers polling the database, and for
workers sharing Redis; and that a failure half-way leaves nothing open."""

import socket

import pytest

from jwtkit.auth.errors import ServiceUnavailableError
from jwtkit.storage import open_stores
from jwtkit.storage.memory import LocalRevocationFeed
from jwtkit.storage.polling import DatabasePollingFeed

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


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


async def test_an_unreachable_redis_is_service_unavailable_and_leaves_nothing_open(sqlite_url):
    with pytest.raises(ServiceUnavailableError):
        await open_stores(sqlite_url, redis_url=f"redis://127.0.0.1:{closed_port()}/0")
