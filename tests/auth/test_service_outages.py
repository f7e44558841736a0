"""Faults with several workers on PostgreSQL + Redis (issue 4). Worker B reaches Redis through
a loopback proxy that the test stops and starts, so "Redis goes away" for B only; PostgreSQL
connections are killed with pg_terminate_backend, only the test's own.

Documented behaviour: while B's feed is out of sync for over ``revocation_max_staleness``, B
answers every access token not known revoked with ``ServiceUnavailableError`` (fail closed: a
503, so clients retry rather than log in again) and says so in ONE log line; with
``revocation_fail_open`` it keeps accepting unrevoked tokens and warns once. After Redis comes
back B reloads the denylist from the database, so a revocation made during the outage holds.
"""

import asyncio
import dataclasses
import logging

import asyncpg
import pytest
import sqlalchemy as sa
from redis.asyncio import Redis

from jwtkit.auth.errors import InvalidTokenError, ServiceUnavailableError
from jwtkit.auth.service import AuthService
from jwtkit.wiring import open_stores

from .conftest import PASSWORD

pytestmark = pytest.mark.anyio

BOUND = 5.0  # seconds we wait for propagation at most
RECOVERY = 15.0  # seconds we wait for the feed to reconnect (its backoff is capped at 2 s)
VIEW_LOG = "jwtkit.auth.revocation"


@pytest.fixture
def shared(postgres_url, pg_schema, redis_url, redis_prefix):
    return postgres_url, pg_schema, redis_url, redis_prefix


@pytest.fixture
async def open_worker(shared, settings):
    """``await open_worker(redis_url=None, **settings_changes)``: a worker on the shared PostgreSQL."""
    opened = []
    url, schema, direct_redis, prefix = shared

    async def open_(redis_url=None, **changes):
        stores = await open_stores(url, schema=schema, redis_url=redis_url or direct_redis, redis_prefix=prefix)
        service = await AuthService.open(dataclasses.replace(settings, **changes), stores)
        opened.append(service)
        return service

    yield open_
    for service in opened:
        await service.close()


@pytest.fixture
async def pg_admin(postgres_url):
    url = sa.make_url(postgres_url)
    conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username, database=url.database)
    yield conn
    await conn.close()


def refused(service, token) -> bool:
    try:
        service.authenticate(token)
    except InvalidTokenError:
        return True
    return False


def unavailable(service, token) -> bool:
    """True when ``authenticate`` fails closed (stale revocations), not when it decides."""
    try:
        service.authenticate(token)
    except ServiceUnavailableError:
        return True
    return False


async def alice_pairs(worker, n):
    await worker.register("alice", PASSWORD)
    return [await worker.login("alice", PASSWORD, client="c") for _ in range(n)]


def view_records(caplog, level):
    return [r for r in caplog.records if r.name == VIEW_LOG and r.levelno == level]


# ---- Redis outage ------------------------------------------------------------------------------


async def test_while_redis_is_down_a_worker_fails_closed_logs_once_and_recovers(
    open_worker, redis_proxy, eventually, caplog
):
    worker_a, worker_b = await open_worker(), await open_worker(redis_url=redis_proxy.url)
    kept, revoked = await alice_pairs(worker_a, 2)
    worker_b.authenticate(kept.access_token)
    caplog.set_level(logging.INFO, logger=VIEW_LOG)

    await redis_proxy.stop()
    delay = await eventually(lambda: unavailable(worker_b, kept.access_token), within=BOUND, what="fail closed on B")
    print(f"\nB fails closed {delay:.2f} s after Redis went away (revocation_max_staleness 1 s)")
    assert all(unavailable(worker_b, kept.access_token) for _ in range(50))
    assert len(view_records(caplog, logging.ERROR)) == 1
    await worker_a.logout(worker_a.authenticate(revoked.access_token), revoked.refresh_token)  # B misses it

    await redis_proxy.start()
    delay = await eventually(lambda: not unavailable(worker_b, kept.access_token), within=RECOVERY, what="recovery")
    assert worker_b.authenticate(kept.access_token).username == "alice"
    print(f"B serves again {delay:.2f} s after Redis came back")
    assert refused(worker_b, revoked.access_token)  # from the database, not the lost message
    assert len(view_records(caplog, logging.ERROR)) == 1


async def test_with_fail_open_a_worker_keeps_serving_unrevoked_tokens_while_redis_is_down(
    open_worker, redis_proxy, eventually, caplog
):
    worker_a = await open_worker()
    worker_b = await open_worker(redis_url=redis_proxy.url, revocation_fail_open=True)
    kept, revoked = await alice_pairs(worker_a, 2)
    await worker_a.logout(worker_a.authenticate(revoked.access_token), revoked.refresh_token)
    await eventually(lambda: refused(worker_b, revoked.access_token), within=BOUND, what="revocation on B")
    caplog.set_level(logging.INFO, logger=VIEW_LOG)

    await redis_proxy.stop()
    await eventually(lambda: not worker_b.stores.feed.is_fresh(1.0), within=BOUND, what="a stale feed on B")

    for _ in range(20):
        assert worker_b.authenticate(kept.access_token).username == "alice"
    assert refused(worker_b, revoked.access_token)  # what B knew stays denied
    (warning,) = view_records(caplog, logging.WARNING)
    assert "stale" in warning.getMessage()


async def test_a_revocation_whose_publish_failed_still_reaches_a_healthy_worker_through_the_backstop(
    open_worker, redis_proxy, eventually
):
    worker_a = await open_worker(redis_url=redis_proxy.url)  # only A loses Redis
    worker_b = await open_worker()
    (pair,) = await alice_pairs(worker_a, 1)
    principal = worker_a.authenticate(pair.access_token)
    await redis_proxy.stop()

    await worker_a.logout(principal, pair.refresh_token)  # committed; the publish fails and is retried
    await worker_a.close()  # ... until A goes away: the message is lost for good

    # B's feed never went stale (its Redis is fine): only the database poll can tell it
    assert worker_b.stores.feed.is_fresh(1.0)
    delay = await eventually(lambda: refused(worker_b, pair.access_token), within=BOUND, what="revocation on B")
    print(f"\nB refused the token {delay:.2f} s after the logout whose message was lost (backstop poll 1 s)")


async def test_flushing_redis_never_brings_a_revoked_token_back(open_worker, redis_prefix, eventually):
    # What FLUSHDB does to this deployment, limited to its prefix (the test db is shared).
    worker_a, worker_b = await open_worker(), await open_worker()
    (pair,) = await alice_pairs(worker_a, 1)
    await worker_a.logout(worker_a.authenticate(pair.access_token), pair.refresh_token)
    await eventually(lambda: refused(worker_b, pair.access_token), within=BOUND, what="revocation on B")
    client = Redis.from_url("redis://127.0.0.1:6379/15")
    try:
        keys = [key async for key in client.scan_iter(match=redis_prefix + "*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()

    await worker_b.resync()  # what a reconnection triggers
    worker_c = await open_worker()  # a worker started after the flush

    assert refused(worker_b, pair.access_token)
    assert refused(worker_c, pair.access_token)


# ---- PostgreSQL connection drops ---------------------------------------------------------------


async def test_a_killed_connection_fails_the_call_in_flight_and_the_retry_revokes(
    open_worker, pg_admin, pg_schema, eventually
):
    worker_a, worker_b = await open_worker(), await open_worker()
    (pair,) = await alice_pairs(worker_a, 1)
    principal = worker_a.authenticate(pair.access_token)
    locker = await pg_admin.fetchval("SELECT pg_backend_pid()")
    transaction = pg_admin.transaction()
    await transaction.start()
    await pg_admin.execute(f'LOCK TABLE "{pg_schema}".denylist IN ACCESS EXCLUSIVE MODE')
    logout = asyncio.create_task(worker_a.logout(principal, pair.refresh_token))
    blocked: list[int] = []

    async def find_blocked() -> None:
        while not blocked:
            blocked.extend(await pg_admin.fetchval(
                "SELECT array_agg(pid) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", locker) or [])
            await asyncio.sleep(0.01)

    await asyncio.wait_for(find_blocked(), BOUND)
    await pg_admin.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", blocked)
    with pytest.raises(ServiceUnavailableError):
        await logout
    await transaction.rollback()
    worker_a.authenticate(pair.access_token)  # the failed logout revoked nothing

    await worker_a.logout(principal, pair.refresh_token)

    await eventually(lambda: refused(worker_b, pair.access_token), within=BOUND, what="revocation on B")
    with pytest.raises(InvalidTokenError):
        await worker_b.refresh(pair.refresh_token)


async def test_killed_idle_pool_connections_are_replaced_without_an_error(open_worker, pg_admin, eventually):
    worker_a, worker_b = await open_worker(), await open_worker()
    (pair,) = await alice_pairs(worker_a, 1)
    engine = worker_a.stores.tokens.engine
    connections = [await engine.connect() for _ in range(max(1, engine.pool.checkedin()))]
    pids = [await conn.scalar(sa.text("SELECT pg_backend_pid()")) for conn in connections]
    for conn in connections:
        await conn.close()

    await pg_admin.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", pids)

    await worker_a.logout(worker_a.authenticate(pair.access_token), pair.refresh_token)
    await eventually(lambda: refused(worker_b, pair.access_token), within=BOUND, what="revocation on B")
    assert (await worker_a.login("alice", PASSWORD, client="c")).access_token
