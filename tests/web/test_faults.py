"""Faults the real service cannot be made to produce on demand, with a stand-in service:
storage down (503 + Retry-After), a true bug (the last-resort JSON 500, logged); and the lifespan
(service opened at startup, its maintenance started, closed at shutdown)."""

import asyncio
import contextlib
import logging

import pytest

from jwtkit.auth.errors import ServiceUnavailableError
from jwtkit.auth.service import AuthService
from jwtkit.auth.settings import AuthSettings
from jwtkit.web import create_app
from jwtkit.wiring import open_stores

from .conftest import FAST_HASHING, Clock, serve
from .fake_service import FakeService

pytestmark = pytest.mark.anyio


def app_over(service):
    async def factory():
        return service

    return create_app(factory, maintenance_interval=None)


async def test_storage_down_is_503_with_retry_after():
    service = FakeService()
    service.fail_with = ServiceUnavailableError()
    async with serve(app_over(service)) as client:
        response = await client.post("/auth/register", json={"username": "alice", "password": "long enough"})
    assert response.status_code == 503
    assert response.json()["error"] == "service_unavailable"
    assert int(response.headers["retry-after"]) > 0


@contextlib.asynccontextmanager
async def alice_on_a_stale_server():
    """A client of a real service (memory stores) with alice logged in, whose revocation feed then
    reports stale: ``(client, alice's token pair)``."""
    stores = await open_stores("memory://")
    service = await AuthService.open(AuthSettings(**FAST_HASHING), stores)
    async with serve(app_over(service)) as client:
        await client.post("/auth/register", json={"username": "alice", "password": "long enough"})
        pair = (await client.post("/auth/token", json={"username": "alice", "password": "long enough"})).json()
        stores.feed.is_fresh = lambda max_staleness: False  # type: ignore[method-assign]
        yield client, pair


async def test_stale_revocations_answer_a_valid_access_token_with_503_and_retry_after_not_401():
    async with alice_on_a_stale_server() as (client, pair):
        me = await client.get("/auth/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
        verify = await client.post("/auth/token/verify", json={"token": pair["access_token"]})

    for response in (me, verify):
        assert response.status_code == 503
        assert response.json()["error"] == "service_unavailable"
        assert int(response.headers["retry-after"]) > 0
        assert "www-authenticate" not in response.headers  # not a credential problem: do not log in again


async def test_logout_works_while_revocations_are_stale_and_the_token_is_then_refused():
    async with alice_on_a_stale_server() as (client, pair):
        auth = {"Authorization": f"Bearer {pair['access_token']}"}
        logout = await client.post("/auth/logout", json={"refresh_token": pair["refresh_token"]}, headers=auth)
        me = await client.get("/auth/me", headers=auth)

    assert logout.status_code == 204  # revoking is safe whatever else may have been revoked meanwhile
    assert me.status_code == 401  # known revoked: a final answer even while stale


async def test_a_bug_is_a_logged_json_500_without_details(caplog):
    service = FakeService()
    service.fail_with = RuntimeError("secret internal detail")
    with caplog.at_level(logging.ERROR, logger="jwtkit.web"):
        async with serve(app_over(service), raise_app_exceptions=False) as client:
            response = await client.post("/auth/register", json={"username": "alice", "password": "long enough"})
    assert response.status_code == 500
    assert response.json() == {"error": "internal_error", "message": "internal server error"}
    assert "secret internal detail" not in response.text
    assert any(r.exc_info and "secret internal detail" in str(r.exc_info[1]) for r in caplog.records)


async def test_the_service_is_closed_at_shutdown():
    service = FakeService()
    async with serve(app_over(service)) as client:
        assert (await client.get("/health")).json() == {"status": "ok"}
        assert not service.closed
    assert service.closed


async def test_the_lifespan_starts_the_services_maintenance():
    service = FakeService()

    async def factory():
        return service

    app = create_app(factory, maintenance_interval=7.5)
    async with app.router.lifespan_context(app):
        assert service.maintenance_interval == 7.5


async def test_maintenance_purges_expired_sessions_on_a_schedule(tmp_path):
    # the real service: a session that expired is gone from storage after a maintenance round
    clock = Clock()
    purged = asyncio.Event()

    async def factory():
        service = await AuthService.open(AuthSettings(**FAST_HASHING), await open_stores("memory://"), clock=clock)
        real_purge = service.purge_expired

        async def purge_expired() -> int:
            deleted = await real_purge()
            if deleted:
                purged.set()
            return deleted

        service.purge_expired = purge_expired
        return service

    app = create_app(factory, maintenance_interval=0.01)
    async with serve(app) as client:
        await client.post("/auth/register", json={"username": "alice", "password": "long enough"})
        await client.post("/session/login", json={"username": "alice", "password": "long enough"})
        clock.advance(AuthSettings().session_ttl + 1)
        await asyncio.wait_for(purged.wait(), timeout=10)
        assert (await client.get("/session/me")).status_code == 401


def test_max_body_size_must_be_a_non_negative_int():
    with pytest.raises(ValueError, match="max_body_size"):
        create_app(lambda: None, max_body_size=-1)  # type: ignore[arg-type]
