"""Refresh rotation is race-free: of 20 concurrent refreshes of one token exactly one succeeds
(one conditional UPDATE decides), and the losers count as reuse. The races run on the SQL stores,
where the spend awaits the database and could interleave; the memory store's spend never awaits
between its check and its write, so a race there could not fail."""

import asyncio

import pytest

from jwtkit.auth.errors import InvalidTokenError

from .conftest import PASSWORD

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def backend(request):
    return request.param


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_of_twenty_concurrent_refreshes_exactly_one_succeeds(service, alice):
    pair = await service.login("alice", PASSWORD, client="c")
    results = await asyncio.gather(*(service.refresh(pair.refresh_token) for _ in range(20)), return_exceptions=True)
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1
    assert len(losers) == 19
    assert all(isinstance(r, InvalidTokenError) for r in losers)


async def test_concurrent_refreshes_of_one_token_revoke_the_family_as_reuse(service, alice):
    pair = await service.login("alice", PASSWORD, client="c")
    results = await asyncio.gather(*(service.refresh(pair.refresh_token) for _ in range(5)), return_exceptions=True)
    (winner,) = [r for r in results if not isinstance(r, BaseException)]
    with pytest.raises(InvalidTokenError):
        service.authenticate(winner.access_token)
    with pytest.raises(InvalidTokenError):
        await service.refresh(winner.refresh_token)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_two_services_on_one_database_race_with_one_winner(open_service, backend):
    first, second = await open_service(), await open_service()
    await first.register("alice", PASSWORD)
    pair = await first.login("alice", PASSWORD, client="c")
    calls = [(first if i % 2 else second).refresh(pair.refresh_token) for i in range(20)]
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 1
