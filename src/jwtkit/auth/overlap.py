"""``start_now``: run a coroutine up to its first wait at once, in the calling task, so that the
caller can work while it waits.

A refresh on PostgreSQL sends its spend, then waits a round trip and a WAL flush. ``start_now``
sends the query, the caller signs the new pair meanwhile, then awaits the answer. Python 3.12's
eager tasks do the same with a task; this needs none (no task to create, no trip through the event
loop): the coroutine keeps running in the caller's task, as if awaited there. A coroutine that
finishes without waiting (SQLite, in memory) is simply done.

An exception the coroutine raises before its first wait comes out of ``start_now``; one it raises
later comes out of ``await``. Cancelling the awaiting task cancels the coroutine. A started
coroutine must be awaited: until then it holds whatever it holds (a pooled connection).
"""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from typing import Any, Generic, TypeVar

__all__ = ["Started", "start_now"]

T = TypeVar("T")


class Started(Generic[T]):
    """A coroutine run up to its first wait (or to its end: ``done``); await it for its result."""

    __slots__ = ("_coro", "_result", "_yielded", "done")

    def __init__(self, coro: Coroutine[Any, Any, T], *, yielded: Any, done: bool, result: T | None) -> None:
        self._coro = coro
        self._yielded = yielded
        self._result = result
        self.done = done

    def __await__(self) -> Generator[Any, Any, T]:
        if self.done:
            return self._result  # type: ignore[return-value]  # set whenever done
        # What ``await coro`` would do from here: hand the task what the coroutine waits on, and
        # pass back into it what the task sends or throws.
        coro, yielded = self._coro, self._yielded
        self._yielded = None
        while True:
            try:
                sent = yield yielded
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # thrown in by the task (cancellation): passed on
                try:
                    yielded = coro.throw(exc)
                except StopIteration as stop:
                    return self._finish(stop.value)
            else:
                try:
                    yielded = coro.send(sent)
                except StopIteration as stop:
                    return self._finish(stop.value)

    def _finish(self, result: T) -> T:
        self.done, self._result = True, result
        return result


def start_now(coro: Coroutine[Any, Any, T]) -> Started[T]:
    """``coro`` run now up to its first wait, in the running task.

    Raises:
        whatever ``coro`` raises before it first waits.
    """
    try:
        yielded = coro.send(None)
    except StopIteration as stop:
        return Started(coro, yielded=None, done=True, result=stop.value)
    return Started(coro, yielded=yielded, done=False, result=None)
