"""``ListenerSet`` (every feed's delivery) and ``cancel_until_done`` (every feed's and the
service's task shutdown)."""

import asyncio
import contextlib
import logging

import pytest

from jwtkit.auth.background import cancel_until_done
from jwtkit.auth.models import Denial
from jwtkit.storage.listeners import ListenerSet

pytestmark = pytest.mark.anyio

DENIAL = Denial(kind="jti", value="j-1", expires_at=1.0)


class Recorder:
    def __init__(self, *, fail=False):
        self.fail, self.denials, self.keys_changed, self.resyncs = fail, [], 0, 0

    def on_denials(self, denials):
        if self.fail:
            raise RuntimeError("listener bug")
        self.denials.extend(denials)

    def on_keys_changed(self):
        if self.fail:
            raise RuntimeError("listener bug")
        self.keys_changed += 1

    async def on_resync(self):
        self.resyncs += 1


def test_a_failing_listener_is_logged_and_the_others_still_hear(caplog):
    listeners, broken, healthy = ListenerSet(), Recorder(fail=True), Recorder()
    listeners.subscribe(broken)
    listeners.subscribe(healthy)

    with caplog.at_level(logging.ERROR):
        listeners.deliver_denials([DENIAL])
        listeners.deliver_keys_changed()

    assert (healthy.denials, healthy.keys_changed) == ([DENIAL], 1)
    assert len(caplog.records) == 2


def test_an_unsubscribed_listener_hears_nothing_and_unsubscribing_twice_is_harmless():
    listeners, listener = ListenerSet(), Recorder()
    unsubscribe = listeners.subscribe(listener)
    unsubscribe()
    unsubscribe()

    listeners.deliver_denials([DENIAL])

    assert listener.denials == []
    assert len(listeners) == 0


async def test_resync_awaits_every_listener():
    listeners, first, second = ListenerSet(), Recorder(), Recorder()
    listeners.subscribe(first)
    listeners.subscribe(second)

    await listeners.resync()

    assert (first.resyncs, second.resyncs) == (1, 1)


async def test_cancel_until_done_stops_a_task_that_swallows_one_cancellation():
    async def stubborn():
        with contextlib.suppress(asyncio.CancelledError):  # what redis-py's wait_for may do on 3.11
            await asyncio.sleep(3600)
        await asyncio.sleep(3600)

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)

    await cancel_until_done(task)

    assert task.cancelled()
