"""Signature checks run back to back: the requests of one pass of the event loop queue theirs,
and the last callback of that pass runs them one after another.

A server under load verifies a token, then parses the next request, runs the framework, writes
an answer, and only then verifies the next token: by then the HTTP stack has taken the CPU's
caches and branch predictors from the curve arithmetic, and an ES256 check costs ~1.5–1.9× what it
costs in a tight loop (``benchmarks/profile_auth_me.py``). Run together, the checks of the
requests that arrived together keep them. Each check still runs in its own request's context
(its request id, its log lines) and answers only its own request, with its own result or error.

The cost is one more turn of the loop per checked request (a few µs while the server is idle),
so only work that is known to need the cryptography is queued: a token whose signature is
remembered is checked inline (``AuthService.remembers``).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["MAX_BATCH", "LoopBatch"]

T = TypeVar("T")

MAX_BATCH = 32
"""At most this many checks run in one callback; the rest wait for the next turn of the loop, so
a flood of requests cannot hold the loop for longer than 32 checks (~5 ms of ES256) at a time."""

_Pending = list[tuple[Callable[[], Any], contextvars.Context, "asyncio.Future[Any]"]]


class LoopBatch:
    """Calls to run at the end of the current pass of the running loop, in the order submitted.

    ``await batch.run(fn)`` returns ``fn()``'s result or raises its exception, as ``fn()`` would;
    ``fn`` runs in the caller's context (``contextvars``). A caller cancelled while waiting has
    its call skipped. Each loop has its own queue (a batch may serve several loops, on several
    threads).
    """

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending: dict[asyncio.AbstractEventLoop, _Pending] = {}

    async def run(self, fn: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        pending = self._pending.get(loop)
        if pending is None:
            self._pending[loop] = pending = []
            loop.call_soon(self._flush, loop)
        pending.append((fn, contextvars.copy_context(), future))
        return await future

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        pending = self._pending.pop(loop)
        rest = pending[MAX_BATCH:]
        del pending[MAX_BATCH:]
        try:
            for index, (fn, context, future) in enumerate(pending):
                if future.cancelled():
                    continue
                try:
                    result = context.run(fn)
                except Exception as exc:  # the caller's own error, raised where it awaits
                    future.set_exception(exc)
                except BaseException:  # KeyboardInterrupt, SystemExit: leave no caller waiting
                    for _, _, left in pending[index:]:
                        left.cancel()
                    raise
                else:
                    future.set_result(result)
        finally:
            # after what this slice woke up, and the loop's I/O (the calls are sync: none was queued meanwhile)
            if rest:
                self._pending[loop] = rest
                loop.call_soon(self._flush, loop)
