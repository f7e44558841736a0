"""``GET /metrics`` (``--metrics``): Prometheus text format, parsed with prometheus-client's own
parser after real traffic on every backend (memory, SQLite polled, PostgreSQL + Redis): requests
by route template and status, logins ok/failed/throttled, refreshes ok/reused, revocations, the
feed's staleness and the key ring's size. Off, ``/metrics`` is a 404. Each app has its own
registry, so two apps in one process do not collide."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from prometheus_client.parser import text_string_to_metric_families

from jwtkit.auth.service import AuthService
from jwtkit.web import create_app
from jwtkit.web.metrics import Metrics
from jwtkit.wiring import in_process_database, open_stores

from .conftest import PASSWORD, bearer, login, register, serve

pytestmark = pytest.mark.anyio


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``{(sample name, sorted labels): value}`` of an exposition, parsed by prometheus-client."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(parsed, name: str, **labels: str) -> float:
    return parsed[(name, tuple(sorted(labels.items())))]


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def metered_factory(database_url, database_schema, redis_target, settings, clock,
                    metrics) -> Callable[[], Awaitable[AuthService]]:
    """The conftest's service factory, with the metrics as the service's events observer."""
    redis_url, redis_prefix = redis_target
    polled = redis_url is None and not in_process_database(database_url)

    async def open_service() -> AuthService:
        stores = await open_stores(database_url, schema=database_schema, redis_url=redis_url,
                                   redis_prefix=redis_prefix, poll_database=polled)
        return await AuthService.open(settings, stores, clock=clock, events=metrics)

    return open_service


async def test_counters_move_with_real_traffic(metered_factory, metrics, backend):
    app = create_app(metered_factory, maintenance_interval=None, metrics=metrics)
    async with serve(app) as client:
        await register(client)
        pair = await login(client)
        client.cookies.clear()  # no device cookie: the (username, address) lock applies
        wrong = {"username": "alice", "password": "wrong"}
        for _ in range(5):  # the (username, address) lock's limit
            assert (await client.post("/auth/token", json=wrong)).status_code == 401
        assert (await client.post("/auth/token", json={"username": "alice", "password": PASSWORD})).status_code == 429
        second = await client.post("/auth/token/refresh", json={"refresh_token": pair["refresh_token"]})
        assert second.status_code == 200
        reused = await client.post("/auth/token/refresh", json={"refresh_token": pair["refresh_token"]})
        assert reused.status_code == 401
        assert (await client.get("/auth/me", headers=bearer("junk"))).status_code == 401
        assert (await client.get("/no/such/path/12345")).status_code == 404
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    parsed = samples(response.text)

    assert value(parsed, "jwtkit_logins_total", outcome="ok") == 1
    assert value(parsed, "jwtkit_logins_total", outcome="failed") == 5
    assert value(parsed, "jwtkit_logins_total", outcome="throttled") == 1
    assert value(parsed, "jwtkit_refreshes_total", outcome="ok") == 1
    assert value(parsed, "jwtkit_refreshes_total", outcome="reused") == 1
    assert value(parsed, "jwtkit_revocations_total", kind="family") == 1  # the reused family
    assert value(parsed, "jwtkit_revocations_total", kind="token") == 0
    requests = "jwtkit_http_requests_total"
    assert value(parsed, requests, method="POST", route="/auth/token", status="401") == 5
    assert value(parsed, requests, method="POST", route="/auth/token", status="429") == 1
    assert value(parsed, requests, method="POST", route="/auth/token/refresh", status="200") == 1
    assert value(parsed, requests, method="GET", route="/auth/me", status="401") == 1
    assert value(parsed, requests, method="GET", route="unmatched", status="404") == 1  # never the raw path
    assert not any("12345" in str(labels) for _, labels in parsed)
    assert value(parsed, "jwtkit_http_request_duration_seconds_count", method="POST", route="/auth/token") == 7
    assert value(parsed, "jwtkit_key_ring_size") == 1
    assert value(parsed, "jwtkit_denylist_entries") >= 1
    assert value(parsed, "jwtkit_revocation_feed_fresh") == 1
    staleness = value(parsed, "jwtkit_revocation_feed_staleness_seconds")
    if backend == "memory":
        assert staleness == 0  # the in-process feed is always in sync
    else:
        assert 0 <= staleness <= 1.0  # polled, or PINGed on Redis, within the staleness bound


async def test_logout_counts_the_family_and_the_access_token(metered_factory, metrics):
    app = create_app(metered_factory, maintenance_interval=None, metrics=metrics)
    async with serve(app) as client:
        await register(client)
        pair = await login(client)
        response = await client.post("/auth/logout", json={"refresh_token": pair["refresh_token"]},
                                     headers=bearer(pair["access_token"]))
        assert response.status_code == 204
        parsed = samples((await client.get("/metrics")).text)
    assert value(parsed, "jwtkit_revocations_total", kind="family") == 1
    assert value(parsed, "jwtkit_revocations_total", kind="token") == 1


async def test_the_key_ring_gauge_follows_a_rotation(metered_factory, metrics):
    app = create_app(metered_factory, maintenance_interval=None, metrics=metrics)
    async with serve(app) as client:
        await app.state.service.rotate_keys()
        parsed = samples((await client.get("/metrics")).text)
    assert value(parsed, "jwtkit_key_ring_size") == 2  # the new active key and the retired one, still published


async def test_metrics_are_a_404_when_off(client):
    assert (await client.get("/metrics")).status_code == 404


@pytest.mark.parametrize("backend", ["memory"], indirect=True)
async def test_two_apps_in_one_process_keep_their_own_counts(metered_factory):
    first, second = Metrics(), Metrics()  # two registries: no "Duplicated timeseries" error, no shared counts
    async with serve(create_app(metered_factory, maintenance_interval=None, metrics=first)) as client:
        await client.get("/health")
    health = ("jwtkit_http_requests_total", (("method", "GET"), ("route", "/health"), ("status", "200")))
    assert samples(first.exposition()[0].decode())[health] == 1
    assert health not in samples(second.exposition()[0].decode())
