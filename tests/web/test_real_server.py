"""Against a real ``jwtkit serve`` process on 127.0.0.1 with an SQLite file: the login → me →
refresh → logout flow over sockets, then a restart on the same file: issued tokens still verify,
revocations persist, sessions survive, and ``jwtkit keys rotate`` breaks no live token.
Every process started here is stopped by the test (SIGTERM, then SIGKILL)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

import jwtkit

from .conftest import PASSWORD

pytestmark = pytest.mark.slow

STARTUP_TIMEOUT = 30.0


@contextmanager
def jwtkit_serve(database: Path, log: Path, *extra: str) -> Iterator[str]:
    """Run ``jwtkit serve --port 0`` on ``database``; yield its base URL; always stop it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JWTKIT_")}
    seen = log.stat().st_size if log.exists() else 0
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "jwtkit", "serve", "--host", "127.0.0.1", "--port", "0",
             "--database", f"sqlite:///{database}", *extra],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=database.parent,
        )
    try:
        yield wait_for_announcement(process, log, seen)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for_announcement(process: subprocess.Popen[bytes], log: Path, seen: int) -> str:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"jwtkit serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        urls = re.findall(r"listening on (http://127\.0\.0\.1:\d+)", log.read_bytes()[seen:].decode(errors="replace"))
        if urls:
            base = urls[-1]
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    return base
            except httpx.TransportError:
                pass
        time.sleep(0.1)
    raise AssertionError(f"jwtkit serve did not start:\n{log.read_text()[-3000:]}")


def rotate_keys(database: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JWTKIT_")}
    result = subprocess.run([sys.executable, "-m", "jwtkit", "keys", "rotate", "--database", f"sqlite:///{database}"],
                            capture_output=True, text=True, timeout=60, env=env, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "auth.sqlite3"


def test_the_whole_flow_survives_a_restart_on_the_same_file(database, tmp_path):
    log = tmp_path / "server.log"
    with jwtkit_serve(database, log) as base, httpx.Client(base_url=base, timeout=10) as http:
        assert http.post("/auth/register", json={"username": "alice", "password": PASSWORD}).status_code == 201
        first = http.post("/auth/token", json={"username": "alice", "password": PASSWORD}).json()
        assert http.get("/auth/me", headers=bearer(first["access_token"])).json()["username"] == "alice"
        second = http.post("/auth/token/refresh", json={"refresh_token": first["refresh_token"]}).json()
        assert http.post("/auth/token/verify", json={"token": second["access_token"]}).status_code == 200
        logout = http.post("/auth/logout", json={"refresh_token": second["refresh_token"]},
                           headers=bearer(second["access_token"]))
        assert logout.status_code == 204
        assert http.get("/auth/me", headers=bearer(second["access_token"])).status_code == 401
        live = http.post("/auth/token", json={"username": "alice", "password": PASSWORD}).json()
        session = http.post("/session/login", json={"username": "alice", "password": PASSWORD})
        session_id = session.cookies["sessionid"]
        kids = {k["kid"] for k in http.get("/.well-known/jwks.json").json()["keys"]}
    assert database.exists()

    with jwtkit_serve(database, log) as base, httpx.Client(base_url=base, timeout=10) as http:
        # issued tokens still verify: the signing key lives in the database
        assert http.get("/auth/me", headers=bearer(live["access_token"])).status_code == 200
        assert {k["kid"] for k in http.get("/.well-known/jwks.json").json()["keys"]} == kids
        # revocations persist: the logged-out access token and its family, the spent refresh token
        assert http.get("/auth/me", headers=bearer(second["access_token"])).status_code == 401
        assert http.post("/auth/token/refresh", json={"refresh_token": second["refresh_token"]}).status_code == 401
        assert http.post("/auth/token/verify", json={"token": first["refresh_token"]}).status_code == 401
        # the session survives too
        assert http.get("/session/me", headers={"Cookie": f"sessionid={session_id}"}).status_code == 200
        # and the live refresh token rotates
        assert http.post("/auth/token/refresh", json={"refresh_token": live["refresh_token"]}).status_code == 200
    assert "GET /auth/me HTTP/1.1" in log.read_text()  # one access-log line per request


def test_reuse_detected_after_a_restart_revokes_the_family(database, tmp_path):
    log = tmp_path / "server.log"
    with jwtkit_serve(database, log) as base, httpx.Client(base_url=base, timeout=10) as http:
        http.post("/auth/register", json={"username": "alice", "password": PASSWORD})
        stolen = http.post("/auth/token", json={"username": "alice", "password": PASSWORD}).json()
        newer = http.post("/auth/token/refresh", json={"refresh_token": stolen["refresh_token"]}).json()
    with jwtkit_serve(database, log) as base, httpx.Client(base_url=base, timeout=10) as http:
        assert http.post("/auth/token/refresh", json={"refresh_token": stolen["refresh_token"]}).status_code == 401
        assert http.post("/auth/token/refresh", json={"refresh_token": newer["refresh_token"]}).status_code == 401
        assert http.get("/auth/me", headers=bearer(newer["access_token"])).status_code == 401


def test_concurrent_refreshes_over_sockets_let_exactly_one_through(database, tmp_path):
    async def race(base: str, token: str) -> list[int]:
        limits = httpx.Limits(max_connections=20)
        async with httpx.AsyncClient(base_url=base, timeout=20, limits=limits) as http:
            responses = await asyncio.gather(
                *(http.post("/auth/token/refresh", json={"refresh_token": token}) for _ in range(20)))
        return [r.status_code for r in responses]

    with jwtkit_serve(database, tmp_path / "server.log") as base, httpx.Client(base_url=base, timeout=10) as http:
        http.post("/auth/register", json={"username": "alice", "password": PASSWORD})
        token = http.post("/auth/token", json={"username": "alice", "password": PASSWORD}).json()["refresh_token"]
        statuses = asyncio.run(race(base, token))
    assert sorted(statuses) == [200] + [401] * 19


def test_keys_rotate_between_runs_keeps_live_tokens_and_signs_with_the_new_key(database, tmp_path):
    log = tmp_path / "server.log"
    with jwtkit_serve(database, log) as base, httpx.Client(base_url=base, timeout=10) as http:
        http.post("/auth/register", json={"username": "alice", "password": PASSWORD})
        before = http.post("/auth/token", json={"username": "alice", "password": PASSWORD}).json()
    new_kid = rotate_keys(database)
    with jwtkit_serve(database, log) as base, httpx.Client(base_url=base, timeout=10) as http:
        assert http.get("/auth/me", headers=bearer(before["access_token"])).status_code == 200
        assert http.post("/auth/token/refresh", json={"refresh_token": before["refresh_token"]}).status_code == 200
        after = http.post("/auth/token", json={"username": "alice", "password": PASSWORD}).json()
        assert jwtkit.decode_unverified(after["access_token"])[0]["kid"] == new_kid
        kids = {k["kid"] for k in http.get("/.well-known/jwks.json").json()["keys"]}
        assert {new_kid, jwtkit.decode_unverified(before["access_token"])[0]["kid"]} <= kids


def test_keys_retire_ends_trust_in_a_running_server_and_says_how_many_sessions_ended(database, tmp_path):
    log = tmp_path / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JWTKIT_")}
    with jwtkit_serve(database, log) as base, httpx.Client(base_url=base, timeout=10) as http:
        http.post("/auth/register", json={"username": "alice", "password": PASSWORD})
        leaked = http.post("/auth/token", json={"username": "alice", "password": PASSWORD}).json()
        kid = jwtkit.decode_unverified(leaked["access_token"])[0]["kid"]
        assert http.get("/auth/me", headers=bearer(leaked["access_token"])).status_code == 200

        result = subprocess.run([sys.executable, "-m", "jwtkit", "keys", "retire", kid,
                                 "--database", f"sqlite:///{database}"],
                                capture_output=True, text=True, timeout=60, env=env, check=False)
        assert result.returncode == 0, result.stderr
        assert "1 live session signed with it ended" in result.stdout

        deadline = time.monotonic() + 10  # the server polls the database every 0.1 s
        while http.get("/auth/me", headers=bearer(leaked["access_token"])).status_code == 200:
            assert time.monotonic() < deadline, "the running server still trusts the retired key"
            time.sleep(0.05)
        assert http.post("/auth/token/refresh", json={"refresh_token": leaked["refresh_token"]}).status_code == 401
        assert kid not in {k["kid"] for k in http.get("/.well-known/jwks.json").json()["keys"]}
        fresh = http.post("/auth/token", json={"username": "alice", "password": PASSWORD}).json()
        assert http.get("/auth/me", headers=bearer(fresh["access_token"])).status_code == 200
    assert "signing keys are stored UNENCRYPTED" in log.read_text()  # the start line, without a secret


def test_serve_refuses_a_bad_flag_value_with_exit_status_2(tmp_path):
    result = subprocess.run([sys.executable, "-m", "jwtkit", "serve", "--access-ttl", "0"],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert "access_ttl" in result.stderr


def test_hostile_requests_over_sockets_get_json_4xx(database, tmp_path):
    with jwtkit_serve(database, tmp_path / "server.log") as base, httpx.Client(base_url=base, timeout=10) as http:
        huge = http.get("/auth/me", headers={"Authorization": "Bearer " + "A" * 1_000_000})
        binary = http.get("/auth/me", headers={"Authorization": b"Bearer \xff\xfe\x80"})
        oversized = http.post("/auth/register", content=b"x" * 200_000, headers={"Content-Type": "application/json"})
        junk = http.post("/auth/token", content=b"{junk", headers={"Content-Type": "application/json"})
        forged = http.get("/session/me", headers={"Cookie": "sessionid=" + "A" * 43})
        assert http.get("/health").status_code == 200  # and the server is still up
    # a 1 MB header is over the cap on request heads: refused before the app sees it
    assert [r.status_code for r in (huge, binary, oversized, junk, forged)] == [431, 401, 413, 400, 401]
    for response in (huge, binary, oversized, junk, forged):
        assert response.headers["content-type"] == "application/json"
        assert response.json()["error"]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_with_an_unreachable_database_says_so_in_one_line_and_exits_1(tmp_path, workers):
    result = subprocess.run([sys.executable, "-m", "jwtkit", "serve", "--port", "0", "--workers", workers,
                             "--database", f"sqlite:///{tmp_path / 'missing' / 'auth.db'}"],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "cannot open the database sqlite+aiosqlite:///" in output
    assert "Traceback" not in output
    assert "listening on" not in output


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_workers_on_one_sqlite_file_share_logins_and_revocations(database, tmp_path):
    port = str(free_port())
    with jwtkit_serve(database, tmp_path / "server.log", "--workers", "2", "--port", port) as base, \
            httpx.Client(base_url=base, timeout=10) as http:
        assert http.post("/auth/register", json={"username": "alice", "password": PASSWORD}).status_code == 201
        pair = http.post("/auth/token", json={"username": "alice", "password": PASSWORD}).json()
        kids = {k["kid"] for k in http.get("/.well-known/jwks.json").json()["keys"]}
        assert len(kids) == 1  # the key was made once, before the workers started
        answers = [http.get("/auth/me", headers=bearer(pair["access_token"])).status_code for _ in range(10)]
        assert answers == [200] * 10
        logout = http.post("/auth/logout", json={"refresh_token": pair["refresh_token"]},
                           headers=bearer(pair["access_token"]))
        assert logout.status_code == 204
        deadline = time.monotonic() + 20  # the other worker learns of it by polling the database
        while time.monotonic() < deadline:
            answers = [http.get("/auth/me", headers=bearer(pair["access_token"])).status_code for _ in range(10)]
            if answers == [401] * 10:
                break
            time.sleep(0.1)
        assert answers == [401] * 10
