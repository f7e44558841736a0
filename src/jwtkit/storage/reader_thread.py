"""``ReaderThread``: the revocation poll's database reads, on a thread with its own event loop.

Why: under full load the server's event loop runs hundreds of request callbacks per turn, and
every await of a database call (pool checkout, execute, fetch, commit; each a hop to the
driver's thread and back) waits for a turn. A poll of a dozen hops then took over a second on a
saturated 2-CPU machine, the feed went stale, and valid tokens were refused (fail closed)
although nothing was wrong. On its own loop the reads wait only for the GIL (a switch
interval, 5 ms, per hop), and the server's loop sees one hop: the answer.

The thread has its own engine (a second connection to the same database), opened by the
``open_reader`` factory inside the thread's loop; it serves the two reads the
:class:`~jwtkit.storage.polling.DatabasePollingFeed` makes, with the store's errors
(``ServiceUnavailableError``) passed through.

Example::

    reader = ReaderThread(lambda: open_reader(url))   # -> (store, close)
    await reader.start()
    feed = DatabasePollingFeed(reader, reader)
    ...
    await reader.close()
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from jwtkit.auth.models import Denial, SigningKeyRecord

from .polling import DenialReads, KeyReads

__all__ = ["PollReads", "ReaderThread"]

T = TypeVar("T")


class PollReads(DenialReads, KeyReads, Protocol):
    """The two reads of a revocation poll (a ``TokenStore`` and a ``KeyStore`` in one)."""


OpenReader = Callable[[], Awaitable[tuple[PollReads, Callable[[], Awaitable[None]]]]]


class ReaderThread:
    """:class:`PollReads` served by a reader opened and run on a daemon thread's event loop."""

    def __init__(self, open_reader: OpenReader, *, name: str = "jwtkit-revocation-reads",
                 close_timeout: float = 10.0) -> None:
        self._open_reader = open_reader
        self._close_timeout = close_timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._reader: PollReads | None = None
        self._close_reader: Callable[[], Awaitable[None]] | None = None

    async def start(self) -> None:
        """Start the thread and open the reader on it.

        Raises:
            whatever ``open_reader`` raises (e.g. ``ServiceUnavailableError``); the thread is stopped.
        """
        self._thread.start()
        try:
            self._reader, self._close_reader = await self._call(self._open_reader())
        except BaseException:
            await self._stop_thread()
            raise

    async def denials_since(self, since: float, *, now: float) -> list[Denial]:
        return await self._call(self._opened().denials_since(since, now=now))

    async def signing_keys(self) -> list[SigningKeyRecord]:
        return await self._call(self._opened().signing_keys())

    async def close(self) -> None:
        """Finish what runs on the thread (reads of cancelled callers included), close the
        reader, then stop and join the thread. Idempotent."""
        close, self._close_reader = self._close_reader, None
        try:
            if self._thread.is_alive():
                await self._call(self._shut_down(close, self._close_timeout))
        finally:
            await self._stop_thread()

    @staticmethod
    async def _shut_down(close: Callable[[], Awaitable[None]] | None, timeout: float) -> None:
        """On the thread's loop: let the reads still running finish (those whose callers were
        cancelled included; one that takes over ``timeout`` s is cancelled), then close the
        reader, so that every connection is closed cleanly and nothing calls into a stopped loop."""
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        if others:
            _, late = await asyncio.wait(others, timeout=timeout)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if close is not None:
            await close()

    def _opened(self) -> PollReads:
        if self._reader is None or not self._thread.is_alive():
            raise RuntimeError("ReaderThread used before start() or after close()")
        return self._reader

    async def _call(self, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable`` on the thread's loop. Cancelling the caller does not interrupt it
        there: a database call cancelled halfway can leave its connection in an unknown state;
        it finishes (unobserved), and :meth:`close` waits for it."""

        async def run() -> T:
            return await awaitable

        answer = asyncio.wrap_future(asyncio.run_coroutine_threadsafe(run(), self._loop))
        answer.add_done_callback(_observe)
        return await asyncio.shield(answer)

    async def _stop_thread(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            await asyncio.to_thread(self._thread.join)

    def _run(self) -> None:  # the thread
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.run_until_complete(self._loop.shutdown_default_executor())
            self._loop.close()


def _observe(answer: asyncio.Future[Any]) -> None:
    """Retrieve the outcome of an answer nobody may await any more (its caller was cancelled),
    so asyncio does not log "exception was never retrieved" for it."""
    if not answer.cancelled():
        answer.exception()
