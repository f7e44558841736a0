"""``ReaderThread``: the revocation poll's reads run on a thread with its own event loop, so a
busy (or blocked) server loop cannot hold them up; errors, cancellation and close pass through."""

import asyncio
import logging
import threading

import pytest

from jwtkit.auth.errors import ServiceUnavailableError
from jwtkit.auth.models import Denial, SigningKeyRecord
from jwtkit.storage.reader_thread import ReaderThread
from jwtkit.storage.sql import open_sql_stores
from jwtkit.storage.sql.engine import make_engine
from jwtkit.storage.sql.store import SqlStore

pytestmark = pytest.mark.anyio

DENIAL = Denial(kind="jti", value="j1", expires_at=2_000_000_000.0)


class Reader:
    """Records the thread each call ran on; ``fail``/``block`` change what the calls do."""

    def __init__(self) -> None:
        self.threads: list[int] = []
        self.closed_on: int | None = None
        self.fail: Exception | None = None
        self.started = threading.Event()
        self.block = False  # wait until ``release`` is set (or forever)
        self.release = threading.Event()
        self.cancelled = threading.Event()
        self.finished = threading.Event()

    async def denials_since(self, since: float, *, now: float) -> list[Denial]:
        self.threads.append(threading.get_ident())
        self.started.set()
        if self.fail is not None:
            raise self.fail
        if self.block:
            try:
                while not self.release.is_set():
                    await asyncio.sleep(0.005)
            except asyncio.CancelledError:
                self.cancelled.set()
                raise
        self.finished.set()
        return [DENIAL]

    async def signing_keys(self) -> list[SigningKeyRecord]:
        self.threads.append(threading.get_ident())
        return []

    async def close(self) -> None:
        self.closed_on = threading.get_ident()


@pytest.fixture
async def started():
    reader = Reader()

    async def open_reader():
        return reader, reader.close

    thread = ReaderThread(open_reader, name="jwtkit-test-fixture-reads", close_timeout=0.2)
    await thread.start()
    yield thread, reader
    await thread.close()


async def test_reads_run_on_the_thread_and_their_answers_come_back(started):
    thread, reader = started

    assert await thread.denials_since(0.0, now=1.0) == [DENIAL]
    assert await thread.signing_keys() == []
    assert len(set(reader.threads)) == 1
    assert reader.threads[0] != threading.get_ident()


async def test_a_read_proceeds_while_the_callers_event_loop_is_blocked(started):
    thread, reader = started
    read = asyncio.ensure_future(thread.denials_since(0.0, now=1.0))
    await asyncio.sleep(0)  # the read is submitted to the thread ...

    ran = reader.started.wait(timeout=30)  # ... and runs while this loop is blocked in a sync wait

    assert ran
    assert await read == [DENIAL]


async def test_the_readers_errors_reach_the_caller(started):
    thread, reader = started
    reader.fail = ServiceUnavailableError()

    with pytest.raises(ServiceUnavailableError):
        await thread.denials_since(0.0, now=1.0)


async def test_cancelling_the_caller_lets_the_read_finish_on_the_thread(started):
    thread, reader = started
    reader.block = True
    read = asyncio.ensure_future(thread.denials_since(0.0, now=1.0))
    await asyncio.to_thread(reader.started.wait, 30)

    read.cancel()
    with pytest.raises(asyncio.CancelledError):
        await read
    reader.release.set()

    assert await asyncio.to_thread(reader.finished.wait, 30)  # not interrupted halfway
    assert not reader.cancelled.is_set()


async def test_close_waits_for_a_read_in_flight_to_finish():
    reader = Reader()

    async def open_reader():
        return reader, reader.close

    thread = ReaderThread(open_reader, close_timeout=60)
    await thread.start()
    reader.block = True
    read = asyncio.ensure_future(thread.denials_since(0.0, now=1.0))
    await asyncio.to_thread(reader.started.wait, 30)

    closing = asyncio.ensure_future(thread.close())
    await asyncio.sleep(0.05)
    reader.release.set()
    await closing

    assert await read == [DENIAL]
    assert not reader.cancelled.is_set()


async def test_close_closes_the_reader_on_its_thread_and_stops_the_thread(started):
    thread, reader = started
    await thread.signing_keys()

    await thread.close()
    await thread.close()  # idempotent

    assert reader.closed_on == reader.threads[0]
    assert not any(t.name == "jwtkit-test-fixture-reads" for t in threading.enumerate())
    with pytest.raises(RuntimeError, match="after close"):
        await thread.signing_keys()


async def test_closing_cancels_a_read_that_outlasts_the_close_timeout_before_the_loop_stops(started, caplog):
    thread, reader = started
    reader.block = True
    read = asyncio.ensure_future(thread.denials_since(0.0, now=1.0))
    await asyncio.to_thread(reader.started.wait, 30)

    await thread.close()

    assert reader.cancelled.is_set()
    assert reader.closed_on == reader.threads[0]  # closed on the reader's own thread, as without a cancel
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(read, 30)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # e.g. "Task was destroyed but it is pending"


async def test_a_reader_that_cannot_open_leaves_no_thread_behind():
    async def open_reader():
        raise ServiceUnavailableError()

    thread = ReaderThread(open_reader, name="jwtkit-test-reads")
    with pytest.raises(ServiceUnavailableError):
        await thread.start()

    assert not any(t.name == "jwtkit-test-reads" for t in threading.enumerate())


async def test_it_reads_what_another_connection_wrote_to_an_sqlite_file(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'auth.db'}"
    stores = await open_sql_stores(url)

    async def open_reader():
        engine = make_engine(url)
        return SqlStore(engine), engine.dispose

    thread = ReaderThread(open_reader)
    await thread.start()
    try:
        await stores.tokens.revoke(family_ids=[], denials=[DENIAL], now=1_900_000_000.0)
        assert await thread.denials_since(1_899_999_990.0, now=1_900_000_000.0) == [DENIAL]
    finally:
        await thread.close()
        await stores.close()
