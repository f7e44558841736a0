"""``TokenAuth`` against a real ``jwtkit serve`` (SQLite, a 3-second access TTL, no reuse grace):
50 concurrent requests across an expiry cost exactly one refresh on the server and never trip its
reuse detection, whether the client renews before expiry or on the 401s, in threads
(``httpx.Client``) and in asyncio tasks (``httpx.AsyncClient``). The server's access log is what
counts the refreshes."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

import jwtkit
from jwtkit.client import SessionEndedError, TokenAuth
from support.constants import PASSWORD
from web.processes import Server, jwtkit_serve

pytestmark = pytest.mark.slow

ACCESS_TTL = 3
CONCURRENCY = 50
_names = itertools.count()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir: Path = tmp_path_factory.mktemp("serve")
    with jwtkit_serve(workdir / "serve.log", "--database", f"sqlite:///{workdir / 'auth.db'}",
                      "--access-ttl", str(ACCESS_TTL)) as running:
        yield running


@pytest.fixture
def user(server: Server) -> str:
    name = f"user{next(_names)}"
    response = httpx.post(server.url + "/auth/register", json={"username": name, "password": PASSWORD}, timeout=30)
    assert response.status_code == 201
    return name


class Log:
    """What the server logged from now on."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.start = len(server.log_text())

    def text(self) -> str:
        return self.server.log_text()[self.start:]

    def refreshes(self) -> int:
        return self.text().count('"POST /auth/token/refresh HTTP/1.1" 200')


class FrozenClock:
    """A client clock that stands still: the client never renews before expiry, only on 401s."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def wait_past(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()) + 0.2)


def access_exp(auth: TokenAuth) -> float:
    assert auth.tokens is not None
    return float(jwtkit.decode_unverified(auth.tokens.access_token)[1]["exp"])


def assert_family_alive(server: Server, auth: TokenAuth, log: Log) -> None:
    assert auth.tokens is not None
    verify = httpx.post(server.url + "/auth/token/verify", json={"token": auth.tokens.refresh_token}, timeout=30)
    assert verify.status_code == 200
    assert "reuse" not in log.text()


def threads_get(client: httpx.Client) -> list[int]:
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        return list(pool.map(lambda _: client.get("/auth/me").status_code, range(CONCURRENCY)))


async def tasks_get(client: httpx.AsyncClient) -> list[int]:
    responses = await asyncio.gather(*(client.get("/auth/me") for _ in range(CONCURRENCY)))
    return [response.status_code for response in responses]


def test_fifty_threads_renewing_before_expiry_cost_one_refresh(server: Server, user: str) -> None:
    auth = TokenAuth(server.url, username=user, password=PASSWORD)
    with httpx.Client(base_url=server.url, auth=auth, timeout=60) as client:
        assert client.get("/auth/me").status_code == 200
        assert auth.tokens is not None
        wait_past(auth.tokens.renew_at)
        log = Log(server)
        assert threads_get(client) == [200] * CONCURRENCY
    assert log.refreshes() == 1
    assert_family_alive(server, auth, log)


def test_fifty_threads_answered_401_after_expiry_cost_one_refresh(server: Server, user: str) -> None:
    auth = TokenAuth(server.url, username=user, password=PASSWORD, clock=FrozenClock())
    with httpx.Client(base_url=server.url, auth=auth, timeout=60) as client:
        assert client.get("/auth/me").status_code == 200
        wait_past(access_exp(auth))
        log = Log(server)
        assert threads_get(client) == [200] * CONCURRENCY
    assert log.text().count('"GET /auth/me HTTP/1.1" 401') >= 1  # it did cross the expiry
    assert log.refreshes() == 1
    assert_family_alive(server, auth, log)


def test_fifty_tasks_renewing_before_expiry_cost_one_refresh(server: Server, user: str) -> None:
    auth = TokenAuth(server.url, username=user, password=PASSWORD)

    async def run() -> Log:
        async with httpx.AsyncClient(base_url=server.url, auth=auth, timeout=60) as client:
            assert (await client.get("/auth/me")).status_code == 200
            assert auth.tokens is not None
            await asyncio.sleep(max(0.0, auth.tokens.renew_at - time.time()) + 0.2)
            log = Log(server)
            assert await tasks_get(client) == [200] * CONCURRENCY
            return log

    log = asyncio.run(run())
    assert log.refreshes() == 1
    assert_family_alive(server, auth, log)


def test_fifty_tasks_answered_401_after_expiry_cost_one_refresh(server: Server, user: str) -> None:
    auth = TokenAuth(server.url, username=user, password=PASSWORD, clock=FrozenClock())

    async def run() -> Log:
        async with httpx.AsyncClient(base_url=server.url, auth=auth, timeout=60) as client:
            assert (await client.get("/auth/me")).status_code == 200
            await asyncio.sleep(max(0.0, access_exp(auth) - time.time()) + 0.2)
            log = Log(server)
            assert await tasks_get(client) == [200] * CONCURRENCY
            return log

    log = asyncio.run(run())
    assert log.text().count('"GET /auth/me HTTP/1.1" 401') >= 1
    assert log.refreshes() == 1
    assert_family_alive(server, auth, log)


def test_a_logout_elsewhere_ends_the_session_with_a_typed_error(server: Server, user: str) -> None:
    auth = TokenAuth(server.url, username=user, password=PASSWORD)
    with httpx.Client(base_url=server.url, auth=auth, timeout=60) as client:
        assert client.get("/auth/me").status_code == 200
        assert auth.tokens is not None
        logout = httpx.post(server.url + "/auth/logout", json={"refresh_token": auth.tokens.refresh_token},
                            headers={"Authorization": f"Bearer {auth.tokens.access_token}"}, timeout=30)
        assert logout.status_code == 204
        log = Log(server)
        with pytest.raises(SessionEndedError):
            client.get("/auth/me")
        with pytest.raises(SessionEndedError):
            client.get("/auth/me")
    assert log.text().count('"POST /auth/token/refresh HTTP/1.1" 401') == 1  # tried once, then never again
