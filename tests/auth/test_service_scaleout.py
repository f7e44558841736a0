"""Several workers on one database (issue 4): two AuthService instances play two server
processes, each with its own stores and feed, sharing PostgreSQL + Redis, or one SQLite file
with the database-polling feed. A logout or key rotation on worker A reaches worker B; refresh
stays race-free across them. Propagation delays are printed (not asserted: the bound on waiting
is a generous upper limit, not a timing test).

Without PostgreSQL or Redis the tests that need them skip, except under CI where they fail.
"""

import asyncio
import dataclasses

import pytest

from jwtkit.auth.errors import InvalidTokenError, ServiceUnavailableError
from jwtkit.auth.service import AuthService
from jwtkit.wiring import open_stores

from .conftest import PASSWORD

pytestmark = pytest.mark.anyio

BOUND = 5.0  # seconds we are willing to wait for propagation (the design target is under 1 s)


@pytest.fixture(params=["postgresql+redis", "sqlite+polling"])
def topology(request):
    return request.param


@pytest.fixture
def shared(topology, tmp_path, request):
    """(database url, PostgreSQL schema, Redis url, Redis prefix) of this topology."""
    if topology == "postgresql+redis":
        return (request.getfixturevalue("postgres_url"), request.getfixturevalue("pg_schema"),
                request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix"))
    return f"sqlite+aiosqlite:///{tmp_path / 'auth.db'}", None, None, "unused"


@pytest.fixture
async def open_worker(shared, settings):
    """``await open_worker(**settings_changes)``: one more worker on the shared data."""
    opened = []
    url, schema, redis_url, prefix = shared

    async def open_(**changes):
        stores = await open_stores(url, schema=schema, redis_url=redis_url, redis_prefix=prefix,
                                   poll_database=True, poll_interval=0.05)
        service = await AuthService.open(dataclasses.replace(settings, **changes), stores)
        opened.append(service)
        return service

    yield open_
    for service in opened:
        await service.close()


def refused(service, token) -> bool:
    """True once ``service`` refuses ``token`` as invalid; a stalled feed (503) is not an answer yet."""
    try:
        service.authenticate(token)
    except InvalidTokenError:
        return True
    except ServiceUnavailableError:
        return False
    return False


async def test_a_logout_on_one_worker_is_refused_on_the_other_within_the_bound(open_worker, eventually, topology):
    worker_a, worker_b = await open_worker(), await open_worker()
    await worker_a.register("alice", PASSWORD)
    pair = await worker_a.login("alice", PASSWORD, client="c")
    worker_b.authenticate(pair.access_token)

    await worker_a.logout(worker_a.authenticate(pair.access_token), pair.refresh_token)

    delay = await eventually(lambda: refused(worker_b, pair.access_token), within=BOUND, what="refusal on B")
    print(f"\nlogout propagation A -> B ({topology}): {delay * 1000:.1f} ms")
    with pytest.raises(InvalidTokenError):
        await worker_b.refresh(pair.refresh_token)


async def test_a_key_rotation_on_one_worker_verifies_on_the_other_with_the_same_jwks(open_worker, eventually):
    worker_a, worker_b = await open_worker(), await open_worker()
    await worker_a.register("alice", PASSWORD)
    new_kid = await worker_a.rotate_keys()
    await eventually(lambda: new_kid in {k["kid"] for k in worker_b.jwks()["keys"]}, within=BOUND,
                     what="the new key on B")

    pair = await worker_a.login("alice", PASSWORD, client="c")

    assert worker_b.authenticate(pair.access_token).username == "alice"
    assert worker_b.jwks() == worker_a.jwks()
    assert len(worker_b.jwks()["keys"]) == 2  # the retired key stays published


async def test_twenty_concurrent_refreshes_spread_over_two_workers_exactly_one_wins(open_worker):
    worker_a, worker_b = await open_worker(), await open_worker()
    await worker_a.register("alice", PASSWORD)
    pair = await worker_a.login("alice", PASSWORD, client="c")

    results = await asyncio.gather(
        *((worker_a if i % 2 else worker_b).refresh(pair.refresh_token) for i in range(20)), return_exceptions=True
    )

    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(r, InvalidTokenError) for r in results if r not in winners)


async def test_a_worker_started_after_a_logout_refuses_the_token(open_worker):
    worker_a = await open_worker()
    await worker_a.register("alice", PASSWORD)
    pair = await worker_a.login("alice", PASSWORD, client="c")
    await worker_a.logout(worker_a.authenticate(pair.access_token), pair.refresh_token)

    worker_c = await open_worker()

    assert refused(worker_c, pair.access_token)


@pytest.mark.parametrize("topology", ["postgresql+redis"])
async def test_a_failed_publish_is_retried_so_the_other_worker_still_refuses_the_token(open_worker, eventually,
                                                                                      topology):
    worker_a, worker_b = await open_worker(), await open_worker()
    await worker_a.register("alice", PASSWORD)
    pair = await worker_a.login("alice", PASSWORD, client="c")
    feed = worker_a.stores.feed
    publish, failures = feed.publish_denials, []

    async def fails_once(denials):
        if not failures:
            failures.append(denials)
            raise ServiceUnavailableError()
        await publish(denials)

    feed.publish_denials = fails_once
    await worker_a.logout(worker_a.authenticate(pair.access_token), pair.refresh_token)

    assert failures  # the first publish did fail
    await eventually(lambda: refused(worker_b, pair.access_token), within=BOUND, what="refusal on B")
