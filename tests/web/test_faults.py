"""Faults the real service cannot be made to produce on demand, with a stand-in service:
storage down (503 + Retry-After), a true bug (the last-resort JSON 500, logged), and the lifespan
(service opened at startup, closed at shutdown, expired rows purged on a schedule)."""

import asyncio
import logging

import httpx
import pytest

from jwtkit.auth.errors import ServiceUnavailableError
from jwtkit.web import create_app

from .conftest import serve
from .fake_service import FakeService

pytestmark = pytest.mark.anyio


def app_over(service):
    async def factory():
        return service

    return create_app(factory, purge_interval=None)


async def test_storage_down_is_503_with_retry_after():
    service = FakeService()
    service.fail_with = ServiceUnavailableError()
    async with serve(app_over(service)) as client:
        response = await client.post("/auth/register", json={"username": "alice", "password": "long enough"})
    assert response.status_code == 503
    assert response.json()["error"] == "service_unavailable"
    assert int(response.headers["retry-after"]) > 0


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


async def test_expired_rows_are_purged_on_a_schedule():
    purged = asyncio.Event()

    class Counting(FakeService):
        async def purge_expired(self) -> int:
            purged.set()
            return 0

    async def factory():
        return Counting()

    app = create_app(factory, purge_interval=0.01)
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(purged.wait(), timeout=5)


async def test_a_failing_purge_does_not_stop_the_server(caplog):
    calls = 0

    class Failing(FakeService):
        async def purge_expired(self) -> int:
            nonlocal calls
            calls += 1
            raise ServiceUnavailableError()

    async def factory():
        return Failing()

    app = create_app(factory, purge_interval=0.01)
    async with app.router.lifespan_context(app):
        for _ in range(500):
            if calls >= 2:
                break
            await asyncio.sleep(0.01)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/health")).status_code == 200
    assert calls >= 2


def test_max_body_size_must_be_a_non_negative_int():
    with pytest.raises(ValueError, match="max_body_size"):
        create_app(lambda: None, max_body_size=-1)  # type: ignore[arg-type]
