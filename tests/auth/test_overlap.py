"""``start_now`` runs a coroutine up to its first wait at once, in the calling task; awaiting it
then behaves as awaiting the coroutine itself would have."""

import asyncio

import pytest

from jwtkit.auth.overlap import start_now

pytestmark = pytest.mark.anyio


async def test_a_coroutine_that_never_waits_is_done_at_once_with_its_result():
    async def answer():
        return 42

    started = start_now(answer())

    assert started.done
    assert await started == 42


async def test_a_coroutine_runs_up_to_its_first_wait_before_start_now_returns():
    steps = []

    async def work():
        steps.append("before the wait")
        await asyncio.sleep(0)
        steps.append("after the wait")
        return "answer"

    started = start_now(work())
    steps.append("caller works meanwhile")

    assert not started.done
    assert await started == "answer"
    assert steps == ["before the wait", "caller works meanwhile", "after the wait"]
    assert started.done


async def test_a_coroutine_that_waits_on_a_future_gets_the_future_s_result():
    future = asyncio.get_running_loop().create_future()

    async def work():
        return await future + 1

    started = start_now(work())
    asyncio.get_running_loop().call_soon(future.set_result, 1)

    assert await started == 2


async def test_an_error_before_the_first_wait_comes_out_of_start_now():
    async def failing():
        raise LookupError("at once")

    coro = failing()
    with pytest.raises(LookupError, match="at once"):
        start_now(coro)


async def test_an_error_after_the_first_wait_comes_out_of_await():
    async def failing():
        await asyncio.sleep(0)
        raise LookupError("later")

    started = start_now(failing())

    with pytest.raises(LookupError, match="later"):
        await started


async def test_cancelling_the_awaiting_task_cancels_the_coroutine_and_runs_its_cleanup():
    cleaned_up = asyncio.Event()
    waiting = asyncio.Event()

    async def holding():
        try:
            waiting.set()
            await asyncio.sleep(3600)
        finally:
            cleaned_up.set()

    async def caller():
        await start_now(holding())

    task = asyncio.create_task(caller())
    await waiting.wait()
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned_up.is_set()


async def test_the_coroutine_runs_in_the_calling_task():
    async def current():
        await asyncio.sleep(0)
        return asyncio.current_task()

    assert await start_now(current()) is asyncio.current_task()


async def test_awaiting_a_finished_start_again_gives_the_same_result():
    async def work():
        await asyncio.sleep(0)
        return "once"

    started = start_now(work())
    assert await started == "once"
    assert await started == "once"
