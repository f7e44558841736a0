"""The service's background tasks (key-ring reloads, maintenance), stopped together at close."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterator
from typing import Any

__all__ = ["BackgroundTasks", "cancel_until_done"]

log = logging.getLogger(__name__)


class BackgroundTasks:
    """Tasks spawned on the running loop and kept referenced until they finish or are stopped."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def __iter__(self) -> Iterator[asyncio.Task[None]]:
        return iter(list(self._tasks))

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run ``coroutine`` as a task (needs a running event loop)."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        """Cancel every task (:func:`cancel_until_done`) and log any that had failed."""
        for task in list(self._tasks):
            await cancel_until_done(task)
            if not task.cancelled() and task.exception() is not None:
                log.error("background task failed", exc_info=task.exception())


async def cancel_until_done(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait until it is done. Cancels until done, not once: on Python 3.11
    a library's internal ``asyncio.wait_for`` (redis-py's, for one) can swallow a cancellation
    (CPython gh-86296). Returns without raising what the task raised."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.1)
