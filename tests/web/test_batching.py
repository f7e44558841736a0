"""``LoopBatch``: the calls submitted in one pass of the event loop run back to back at its end, each
answering its own caller, in its caller's context, with its own result or error."""

import asyncio
import contextvars
import threading

import pytest

from jwtkit.web.batching import MAX_BATCH, LoopBatch

pytestmark = pytest.mark.anyio

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


async def test_a_call_returns_its_result():
    assert await LoopBatch().run(lambda: 42) == 42


async def test_a_call_raises_its_own_error():
    def refuse() -> int:
        raise LookupError("no such token")

    with pytest.raises(LookupError, match="no such token"):
        await LoopBatch().run(refuse)


async def test_calls_submitted_together_run_together_after_every_submission():
    batch, events = LoopBatch(), []

    async def caller(n: int) -> int:
        events.append(f"submit {n}")
        return await batch.run(lambda: events.append(f"run {n}") or n)

    assert await asyncio.gather(*(caller(n) for n in range(3))) == [0, 1, 2]
    assert events == ["submit 0", "submit 1", "submit 2", "run 0", "run 1", "run 2"]


async def test_one_callers_error_leaves_the_others_their_results():
    batch = LoopBatch()

    def answer(n: int) -> int:
        if n == 1:
            raise ValueError("bad token")
        return n

    results = await asyncio.gather(*(batch.run(lambda n=n: answer(n)) for n in range(3)), return_exceptions=True)
    assert [results[0], results[2]] == [0, 2]
    assert isinstance(results[1], ValueError)


async def test_each_call_runs_in_its_callers_context():
    batch = LoopBatch()

    async def caller(name: str) -> str:
        request_id.set(name)
        return await batch.run(request_id.get)

    assert await asyncio.gather(caller("a"), caller("b")) == ["a", "b"]


async def test_a_cancelled_caller_has_its_call_skipped():
    batch, ran = LoopBatch(), []
    waiting = asyncio.ensure_future(batch.run(lambda: ran.append("cancelled one")))
    other = asyncio.ensure_future(batch.run(lambda: ran.append("other") or "done"))
    await asyncio.sleep(0)  # both submitted, the flush not yet run
    waiting.cancel()
    assert await other == "done"
    assert ran == ["other"]
    assert waiting.cancelled()


async def test_a_flood_is_run_in_slices_letting_the_loop_turn_between_them():
    batch, events = LoopBatch(), []
    loop = asyncio.get_running_loop()

    def work(n: int) -> int:
        if n == 0:
            loop.call_soon(events.append, "the loop turned")
        events.append(n)
        return n

    count = MAX_BATCH + 5
    assert await asyncio.gather(*(batch.run(lambda n=n: work(n)) for n in range(count))) == list(range(count))
    assert events.index("the loop turned") == MAX_BATCH


async def test_calls_of_two_event_loops_do_not_mix():
    # this loop's call is queued, its flush not yet run, when another loop (on another thread) submits
    # and must be answered by its own loop's flush, while this loop is blocked
    batch = LoopBatch()
    here = asyncio.ensure_future(batch.run(lambda: 1))
    await asyncio.sleep(0)
    answers = []
    there = threading.Thread(target=lambda: answers.append(asyncio.run(batch.run(lambda: 2))), daemon=True)
    there.start()
    there.join(timeout=10)
    assert answers == [2]
    assert await here == 1
