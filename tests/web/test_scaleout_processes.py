"""Issue 4 with real processes: two ``jwtkit serve`` processes A and B on one PostgreSQL (a fresh
schema per test) and one private ``redis-server`` (so a test can stop and restart it).

Log out on A and B refuses the token within the 1 s bound; a refresh race spread over A and B has
one winner; ``jwtkit keys rotate`` reaches both; a Redis outage fails closed (or open when chosen)
and heals without restarting the servers, enforcing what was revoked meanwhile; PostgreSQL
connections killed under the servers are replaced, never a 500; ``--workers 2`` shares revocations
between its worker processes; separate servers on one SQLite file share logouts and the login
throttle; and PostgreSQL cut away from one server gives 503s and heals. Under ``CI`` a missing
PostgreSQL or ``redis-server`` fails the tests; elsewhere they skip. Every process started here is
stopped by the test.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http.client
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import PASSWORD
from .conftest import sign_up as sign_up_at
from .processes import (
    CuttableProxy,
    PrivateRedis,
    Server,
    children,
    free_port,
    jwtkit_serve,
    owner_of_connection,
    run_jwtkit,
    tcp_connections,
)

pytestmark = pytest.mark.slow

PROPAGATION_BOUND = 1.0  # a logout reaches every process in under a second
OUTAGE_BOUND = 15.0  # how long a test waits for the staleness bound (1 s) plus detection, or a recovery


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is required under CI")
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def backend_args(postgres_url: str, pg_schema: str, redis: PrivateRedis) -> list[str]:
    """The flags that put a server on this test's PostgreSQL schema and Redis."""
    return ["--database", postgres_url, "--database-schema", pg_schema, "--redis", redis.url]


@pytest.fixture
def start(tmp_path: Path, backend_args: list[str]) -> Iterator[Callable[..., Server]]:
    """``start("a", *extra)``: one more server on the shared backends (stopped at teardown)."""
    with contextlib.ExitStack() as stack:
        def start_one(name: str, *extra: str, port: int = 0) -> Server:
            return stack.enter_context(jwtkit_serve(tmp_path / f"{name}.log", *backend_args, *extra, port=port))

        yield start_one


@pytest.fixture
def pair_ab(start: Callable[..., Server]) -> tuple[Server, Server]:
    a = start("a")  # creates the schema and the first key; then B joins
    return a, start("b")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_up(server: Server, username: str = "alice") -> dict[str, Any]:
    """Register ``username`` through ``server`` and log in there: the token pair."""
    return sign_up_at(server.url, username)


def log_out(server: Server, pair: dict[str, Any]) -> httpx.Response:
    """POST /auth/logout on ``server`` with ``pair``'s refresh token and Bearer access token."""
    return httpx.post(server.url + "/auth/logout", json={"refresh_token": pair["refresh_token"]},
                      headers=bearer(pair["access_token"]), timeout=30)


def me_status(server: Server, access_token: str) -> int:
    return httpx.get(server.url + "/auth/me", headers=bearer(access_token), timeout=10).status_code


def wait_until(condition: Callable[[], bool], *, within: float, what: str) -> float:
    """Poll ``condition`` until true; the seconds it took; fail after ``within`` seconds."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > within:
            raise AssertionError(f"{what}: not within {within} s")
        time.sleep(0.005)
    return time.monotonic() - start


def test_logout_on_a_is_refused_on_b_within_the_bound(pair_ab, record_property):
    a, b = pair_ab
    pair = sign_up(a)
    assert me_status(b, pair["access_token"]) == 200
    logout = log_out(a, pair)
    assert logout.status_code == 204
    delay = wait_until(lambda: me_status(b, pair["access_token"]) == 401, within=PROPAGATION_BOUND,
                       what="B refusing the token logged out on A")
    record_property("propagation_delay_s", round(delay, 4))
    assert httpx.post(b.url + "/auth/token/refresh", json={"refresh_token": pair["refresh_token"]},
                      timeout=10).status_code == 401


def test_a_refresh_race_spread_over_a_and_b_has_exactly_one_winner(pair_ab):
    a, b = pair_ab
    pair = sign_up(a)

    async def race() -> list[int]:
        async with httpx.AsyncClient(timeout=30) as http:
            requests = [http.post((a, b)[i % 2].url + "/auth/token/refresh",
                                  json={"refresh_token": pair["refresh_token"]}) for i in range(20)]
            return [r.status_code for r in await asyncio.gather(*requests)]

    statuses = asyncio.run(race())
    assert sorted(statuses) == [200] + [401] * 19


@pytest.mark.parametrize("announced", [True, False], ids=["rotate-with-redis", "rotate-without-redis"])
def test_keys_rotated_from_the_command_line_reach_both_servers(pair_ab, backend_args, announced):
    a, b = pair_ab
    before = httpx.get(a.url + "/.well-known/jwks.json", timeout=10).json()
    # without --redis the command cannot announce the rotation: the servers' backstop poll finds it
    rotate_args = backend_args if announced else backend_args[:backend_args.index("--redis")]
    new_kid = run_jwtkit("keys", "rotate", *rotate_args)

    def jwks(server: Server) -> dict[str, Any]:
        keys: dict[str, Any] = httpx.get(server.url + "/.well-known/jwks.json", timeout=10).json()
        return keys

    wait_until(lambda: new_kid in {k["kid"] for k in jwks(a)["keys"]} and
               new_kid in {k["kid"] for k in jwks(b)["keys"]}, within=5, what="the new key in both JWKS")
    assert jwks(a) == jwks(b)
    assert {k["kid"] for k in before["keys"]} < {k["kid"] for k in jwks(b)["keys"]}  # the old key stays published
    pair = sign_up(a)
    header = json.loads(_b64json(pair["access_token"].split(".")[0]))
    assert header["kid"] == new_kid  # A signs with the new key ...
    assert me_status(b, pair["access_token"]) == 200  # ... and B verifies it


def _b64json(segment: str) -> str:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)).decode()


def test_a_redis_outage_fails_closed_and_heals_enforcing_revocations_made_meanwhile(pair_ab, redis):
    a, b = pair_ab
    bob = sign_up(a, "bob")
    carol = sign_up(a, "carol")
    assert me_status(b, bob["access_token"]) == 200
    assert me_status(b, carol["access_token"]) == 200

    redis.stop()
    wait_until(lambda: me_status(b, bob["access_token"]) == 503, within=OUTAGE_BOUND,
               what="B failing closed (503, retry later) once Redis is gone past the staleness bound")
    assert "failing closed" in b.log_text()
    # during the outage carol's refresh token is replayed on A: reuse revokes her family (in PostgreSQL)
    first = httpx.post(a.url + "/auth/token/refresh", json={"refresh_token": carol["refresh_token"]}, timeout=10)
    assert first.status_code == 200
    reuse = httpx.post(a.url + "/auth/token/refresh", json={"refresh_token": carol["refresh_token"]}, timeout=10)
    assert reuse.status_code == 401

    redis.start()  # empty, as after a restart: the servers reload revocations from the database
    for server in (a, b):  # each reconnects on its own
        wait_until(lambda s=server: me_status(s, bob["access_token"]) == 200, within=OUTAGE_BOUND,
                   what=f"{server.log.stem} serving again after Redis came back")
    assert me_status(b, carol["access_token"]) == 401  # revoked during the outage, still revoked
    assert me_status(b, first.json()["access_token"]) == 401


def test_a_redis_outage_with_fail_open_keeps_serving_and_enforces_a_logout_made_meanwhile(start, redis):
    a = start("a", "--revocation-fail-open")
    b = start("b", "--revocation-fail-open")
    bob = sign_up(a, "bob")
    carol = sign_up(a, "carol")
    assert me_status(b, carol["access_token"]) == 200

    redis.stop()
    # the outage is noticed (and logged) by the requests that check revocation; they keep working
    wait_until(lambda: me_status(b, bob["access_token"]) == 200 and "FAILING OPEN" in b.log_text(),
               within=OUTAGE_BOUND, what="B noticing the outage")
    logout = log_out(a, carol)
    assert logout.status_code == 204  # written to PostgreSQL; B cannot hear of it yet
    assert me_status(a, carol["access_token"]) == 401

    redis.start()
    wait_until(lambda: me_status(b, carol["access_token"]) == 401, within=OUTAGE_BOUND,
               what="B enforcing the logout made during the outage")
    assert me_status(b, bob["access_token"]) == 200


def postgres_backends(server_pid: int) -> list[int]:
    """The client ports of ``server_pid``'s connections to PostgreSQL (port 5432)."""
    return [local for local, remote in tcp_connections(server_pid) if remote == 5432]


async def terminate_backends(postgres_url: str, client_ports: list[int]) -> int:
    import asyncpg
    from sqlalchemy import make_url

    url = make_url(postgres_url)
    conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username, password=url.password,
                                 database=url.database)
    try:
        rows = await conn.fetch("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE client_port = ANY($1::int[]) AND pid <> pg_backend_pid()", client_ports)
        return len(rows)
    finally:
        await conn.close()


def test_postgresql_connections_killed_under_the_servers_are_replaced_never_a_500(pair_ab, postgres_url):
    # Killed pooled connections are caught by the pool's pre-ping and replaced, so this burst is
    # normally all 2xx (503 allowed); the 503 path is the outage test at the end of this file.
    a, b = pair_ab
    alice = sign_up(a)
    sign_up(b, "bob")  # both servers hold pooled connections now
    ports = postgres_backends(a.pid) + postgres_backends(b.pid)
    assert ports
    assert asyncio.run(terminate_backends(postgres_url, ports)) == len(ports)

    async def burst() -> list[int]:
        async with httpx.AsyncClient(timeout=30) as http:
            requests = []
            for i, server in enumerate((a, b) * 4):
                requests.append(http.post(server.url + "/auth/register",
                                          json={"username": f"user{i}", "password": PASSWORD}))
                requests.append(http.post(server.url + "/auth/token/verify", json={"token": alice["refresh_token"]}))
            return [r.status_code for r in await asyncio.gather(*requests)]

    statuses = asyncio.run(burst())
    assert set(statuses) <= {200, 201, 503}, statuses
    # recovered: writes and revocations work on both, and a logout on B is enforced on A
    logout = log_out(b, alice)
    assert logout.status_code == 204
    wait_until(lambda: me_status(a, alice["access_token"]) == 401, within=PROPAGATION_BOUND,
               what="A refusing the token logged out on B")
    assert sign_up(a, "dave")["access_token"]


def test_two_workers_of_one_serve_share_a_logout(start):
    port = free_port()
    server = start("workers", "--workers", "2", port=port)
    pair = sign_up(server)

    def me_once() -> tuple[int | None, int]:
        """One request on a new connection: (worker pid that answered, status)."""
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", "/auth/me", headers=bearer(pair["access_token"]))
            response = conn.getresponse()
            response.read()
            owner = owner_of_connection(children(server.pid), port, conn.sock.getsockname()[1])
            return owner, response.status
        finally:
            conn.close()

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/auth/logout", body=json.dumps({"refresh_token": pair["refresh_token"]}),
                     headers={**bearer(pair["access_token"]), "Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        assert response.status == 204
        logout_worker = owner_of_connection(children(server.pid), port, conn.sock.getsockname()[1])
    finally:
        conn.close()
    assert logout_worker in children(server.pid)

    answers: list[tuple[int | None, int]] = []

    def other_worker_refuses() -> bool:
        answers.append(me_once())
        owner, status = answers[-1]
        return owner not in (None, logout_worker) and status == 401

    wait_until(other_worker_refuses, within=PROPAGATION_BOUND, what="the other worker answering 401")
    other_worker = answers[-1][0]
    later = [me_once() for _ in range(10)]
    assert {status for _, status in later} == {401}  # whichever worker answers
    assert other_worker != logout_worker



# ---- without Redis: separate servers on one SQLite file ------------------------------------------


@pytest.fixture
def sqlite_pair(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    """Two ``jwtkit serve`` processes started separately (no --workers, no --redis) on one SQLite file."""
    database = ["--database", f"sqlite:///{tmp_path / 'shared.sqlite3'}"]
    with jwtkit_serve(tmp_path / "a.log", *database) as a, jwtkit_serve(tmp_path / "b.log", *database) as b:
        yield a, b


def test_separate_servers_on_one_sqlite_file_share_a_logout_within_the_bound(sqlite_pair):
    a, b = sqlite_pair
    pair = sign_up(a)
    assert me_status(b, pair["access_token"]) == 200

    logout = log_out(a, pair)

    assert logout.status_code == 204
    wait_until(lambda: me_status(b, pair["access_token"]) == 401, within=PROPAGATION_BOUND,
               what="B (polling the SQLite file) refusing the token logged out on A")
    assert "revocations polled from the database" in b.log_text()


def test_separate_servers_on_one_sqlite_file_share_the_login_throttle(sqlite_pair):
    a, b = sqlite_pair
    sign_up(a, "alice")
    wrong = {"username": "alice", "password": "not the password"}
    statuses = [httpx.post(server.url + "/auth/token", json=wrong, timeout=30).status_code
                for server in (a, b, a, b, a)]  # AuthSettings.login_max_failures: 5, spread over both
    assert statuses == [401] * 5

    for server in (a, b):
        refused = httpx.post(server.url + "/auth/token", json={"username": "alice", "password": PASSWORD}, timeout=30)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0


# ---- PostgreSQL goes away under one server -------------------------------------------------------


def test_a_postgresql_outage_is_503_then_heals_enforcing_a_logout_made_meanwhile(postgres_url, pg_schema, tmp_path):
    proxy = CuttableProxy(upstream_port=5432)
    direct = ["--database", postgres_url, "--database-schema", pg_schema]  # no Redis: both poll PostgreSQL
    through_proxy = ["--database", postgres_url.replace(":5432/", f":{proxy.port}/"), "--database-schema", pg_schema]
    seen: list[int] = []

    def status(response: httpx.Response) -> int:
        seen.append(response.status_code)
        return response.status_code

    try:
        with jwtkit_serve(tmp_path / "b.log", *direct) as b, jwtkit_serve(tmp_path / "a.log", *through_proxy) as a:
            bob, carol = sign_up(b, "bob"), sign_up(b, "carol")
            assert me_status(a, bob["access_token"]) == 200

            proxy.cut()  # A loses PostgreSQL; B keeps it
            wait_until(lambda: status(httpx.post(a.url + "/auth/token", timeout=30,
                                                 json={"username": "bob", "password": PASSWORD})) == 503,
                       within=OUTAGE_BOUND, what="A answering 503 to a login")
            wait_until(lambda: status(httpx.get(a.url + "/auth/me", headers=bearer(bob["access_token"]),
                                                timeout=30)) == 503,
                       within=OUTAGE_BOUND, what="A failing closed once its polls fail past the staleness bound")
            assert "failing closed" in a.log_text()
            logout = log_out(b, carol)
            assert logout.status_code == 204  # in PostgreSQL; A cannot read it yet

            proxy.restore()
            wait_until(lambda: status(httpx.get(a.url + "/auth/me", headers=bearer(bob["access_token"]),
                                                timeout=30)) == 200,
                       within=OUTAGE_BOUND, what="A serving again once PostgreSQL is back")
            assert me_status(a, carol["access_token"]) == 401  # the logout made during the outage holds
            assert httpx.post(a.url + "/auth/token", json={"username": "bob", "password": PASSWORD},
                              timeout=30).status_code == 200
    finally:
        proxy.close()
    assert 500 not in seen
    assert set(seen) <= {200, 503}
