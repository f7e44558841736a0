#!/usr/bin/env python3
"""Every path of one `jwtkit serve` worker against its own /health, on SQLite and on PostgreSQL + Redis,
with the FastAPI-tutorial peer beside it, in one interleaved run (issue 10).

    .venv/bin/python benchmarks/bench_stateful.py             # 3 rounds x 8 s per cell (~15 min)
    .venv/bin/python benchmarks/bench_stateful.py --quick     # 1 round x 3 s, small seed (~3 min)
    .venv/bin/python benchmarks/bench_stateful.py --backends sqlite --no-peer --rounds 5 --json out.json

Servers, all started before the first round and stopped (by process group) at the end: one `jwtkit serve`
worker per backend -- an SQLite file, and PostgreSQL (127.0.0.1:5432, a fresh schema, dropped at the end)
with a private `redis-server` on a free port (keys under a fresh prefix) -- and, unless ``--no-peer``, the
FastAPI-tutorial peer of ``../shared/bench/server_peer/`` (PyJWT HS256, pwdlib argon2, `sqlite3`) on one
uvicorn worker; and, unless ``--no-ceiling``, the ceiling app (``_integration_apps:fastapi_verify_only``: a
FastAPI route that checks one ES256 signature and nothing else, with the first jwtkit server's keys).
Each jwtkit server and the peer are seeded with the same numbers of users (one argon2id hash shared) and live sessions;
jwtkit's through its own store interface, the peer's with its ``seed_db.py``. The servers are pinned to
CPU 1 and the load (wrk, and this script's asyncio generator) to CPU 0 when there are two CPUs.
Access tokens live 2 h here (``--access-ttl``) so that the tokens taken at set-up outlive the run, and the
per-address registration limit is lifted (the register cell registers thousands of names from 127.0.0.1).

Cells, every one in a shuffled order per round, each server's /health among them:

- wrk (1 thread, ``--connections``): ``/health``; ``/auth/me`` *hot* (one token: the verified-token cache
  hits); ``/auth/me`` *cold* (``--distinct-tokens`` live tokens, 5,000 by default, taken in turn by a wrk
  Lua script: more than the cache's 4,096, so every request verifies a signature); ``/session/me`` (a
  seeded session); the peer's ``/health``, ``/jwt/claims`` (its JWT check alone), ``/users/me`` (JWT + user
  row) and ``/session/me`` (session row + user row); the ceiling app's ``/open`` and ``/verify`` (the cold
  tokens in turn): its CPU over ``/open`` is what one ES256 verification costs *inside* a loaded server,
  the ceiling's second figure beside the tight loop's (harness/ceilings.py).
- the asyncio generator (keep-alive; its own CPU caps it, so it is only compared with itself): ``/health``
  and a refresh chain on one connection, for the *sequential* latency ratio refresh ÷ /health (p50, same
  round); refresh chains on ``--refresh-connections`` connections (refreshes/s); logins and registrations
  on ``--argon2-connections`` connections (logins/s, registrations/s: argon2id-bound).

Reported per server: req/s (median over rounds), p50/p99, req/s ÷ the same server's /health in the same
round (median of the per-round ratios), the server process's CPU µs per request (utime+stime from /proc ÷
requests; PostgreSQL's and Redis's own CPU are not in it) and its excess over /health; then the targets
of issue 10 and the peer's figures beside ours. Before the load every endpoint is checked: 200 with its
credentials, 401 without or with a tampered one. Not a test: figures depend on the machine and its load
(``--quiet-budget`` waits, bounded, for other processes to go quiet before each cell).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_integrations import start_app
from bench_scaleout import POSTGRES_URL, postgres_dsn, postgres_schema
from harness import ROOT
from harness.ceilings import RefreshCrypto, es256_verify_us, postgres_commit_ms, refresh_crypto_us
from harness.http import bearer, call, login
from harness.load import Rotation, add_load_options, load, load_tool, request_bytes, run_conversations
from harness.machine import ForeignLoad, cpu_seconds, pinning
from harness.report import markdown_table
from harness.rounds import interleave, same_round_diff, same_round_ratio
from harness.servers import HOST, free_port, jwtkit_serve, private_redis, running

PASSWORD = "benchmark password"
PEER_DIR = Path(os.environ.get("JWTKIT_BENCH_PEER_DIR", ROOT.parent / "shared" / "bench" / "server_peer"))
BACKENDS = {"sqlite": "SQLite", "postgres": "PostgreSQL + Redis"}

# cell names (a server's table lists them in this order)
HEALTH, HOT, COLD, SESSION = "/health", "/auth/me hot (1 token)", "/auth/me cold ({n} tokens)", "/session/me"
HEALTH_SEQ, REFRESH_SEQ = "/health, 1 connection", "refresh, 1 connection"
REFRESH, LOGIN, REGISTER = "refresh ({n} chains)", "login ({n} connections)", "register ({n} connections)"
PEER_JWT, PEER_USER, PEER_SESSION = "/jwt/claims (JWT only)", "/users/me (JWT + user row)", "/session/me (+ user row)"
CEILING, CEILING_OPEN, CEILING_VERIFY = "ceiling app", "/open (FastAPI, nothing)", "/verify (one ES256 check, cold tokens)"
CEILING_OPEN_SEQ, CEILING_WRITE_SEQ = "/open, 1 connection", "/write (one durable PostgreSQL INSERT), 1 connection"
NOT_OURS = ("peer", CEILING)


# ---------------------------------------------------------------- conversations for the asyncio generator
class RefreshChain:
    """One refresh family on one connection: each answer's refresh token is the next request's; each
    answer's access token is kept (up to ``keep``) for the cold /auth/me cell."""

    def __init__(self, port: int, refresh_token: str, keep: list[str] | None = None, want: int = 0) -> None:
        self.port, self.refresh_token, self.keep, self.want = port, refresh_token, keep, want

    def next_request(self) -> bytes:
        body = json.dumps({"refresh_token": self.refresh_token}).encode()
        return request_bytes("POST", "/auth/token/refresh", {}, body, port=self.port)

    def answered(self, status: int, body: bytes) -> None:
        if status != 200:
            raise RuntimeError(f"refresh answered {status}: {body[:200]!r}")
        pair = json.loads(body)
        self.refresh_token = pair["refresh_token"]
        if self.keep is not None and len(self.keep) < self.want:
            self.keep.append(pair["access_token"])


class Registrations:
    """``POST /auth/register`` with a new username every time (shared by every connection)."""

    def __init__(self, port: int, prefix: str) -> None:
        self.port, self.prefix, self.sent = port, prefix, 0

    def next_request(self) -> bytes:
        self.sent += 1
        body = json.dumps({"username": f"{self.prefix}{self.sent}", "password": PASSWORD}).encode()
        return request_bytes("POST", "/auth/register", {}, body, port=self.port)

    def answered(self, status: int, body: bytes) -> None:
        pass


# ---------------------------------------------------------------- servers
@dataclass
class Target:
    """One server under load: its cells (name -> how to run it for a duration) and what it needs."""

    label: str
    server: Any
    cells: dict[str, Callable[[float], dict[str, Any]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    cold_tokens: list[str] = field(default_factory=list)


async def seed_jwtkit(database_url: str, users: int, sessions: int, **store_args: Any) -> None:
    """``users`` users sharing one argon2id hash (the server's cost) and ``sessions`` live sessions,
    through the store interface the service uses (whatever storage this checkout has)."""
    from argon2 import PasswordHasher

    from jwtkit.auth.models import SessionRecord
    from jwtkit.auth.sessions import new_session_id, session_key_hash
    from jwtkit.auth.settings import AuthSettings
    from jwtkit.wiring import open_stores

    settings = AuthSettings()
    shared = PasswordHasher(time_cost=settings.password_time_cost, memory_cost=settings.password_memory_cost,
                            parallelism=settings.password_parallelism).hash(PASSWORD)
    stores = await open_stores(database_url, **store_args)
    try:
        now = time.time()
        made = []
        for start in range(0, users, 50):
            made += await asyncio.gather(*(stores.users.create_user(f"user{i}", shared, now=now)
                                           for i in range(start, min(users, start + 50))))
        for start in range(0, sessions, 50):
            await asyncio.gather(*(stores.sessions.add_session(SessionRecord(
                key_hash=str(session_key_hash(new_session_id())),
                data={"user_id": made[i % len(made)].id, "username": made[i % len(made)].username},
                expires_at=now + settings.session_ttl)) for i in range(start, min(sessions, start + 50))))
    finally:
        await stores.close()


def timed(server: Any, run: Callable[[float], dict[str, Any]]) -> Callable[[float], dict[str, Any]]:
    """``run`` plus the server's CPU µs per request and the other processes' load during it."""

    def cell(duration: float) -> dict[str, Any]:
        fl = ForeignLoad(lambda: cpu_seconds(server.pid))
        c0 = cpu_seconds(server.pid)
        res = run(duration)
        res["cpu_us_per_req"] = (cpu_seconds(server.pid) - c0) * 1e6 / max(res["requests"], 1)
        res["foreign_load"] = fl.stop()
        return res

    return cell


def jwtkit_cells(target: Target, args: argparse.Namespace, wrk: str | None, tmp: Path, pin_load: list[str]) -> None:
    """Log in, take the tokens, check every endpoint; then the cells of a `jwtkit serve`."""
    base, port = target.server.url, target.server.port
    token = login(base, "user0", PASSWORD)["access_token"]
    st, hdrs, body = call("POST", base + "/session/login", {"username": "user1", "password": PASSWORD})
    assert st == 200, (st, body)
    cookie = re.search(r"sessionid=([^;]+)", "; ".join(hdrs.get_all("set-cookie") or [])).group(1)
    # refresh chains: one per connection of the refresh cell, one for the sequential cell; they also
    # mint the cold cell's distinct live access tokens
    chains = [RefreshChain(port, login(base, "user2", PASSWORD)["refresh_token"])
              for _ in range(args.refresh_connections + 1)]
    cold: list[str] = []
    for chain in chains:
        chain.keep, chain.want = cold, args.distinct_tokens
    t0 = time.time()
    while len(cold) < args.distinct_tokens:
        run_conversations(port, chains, 2)
    for chain in chains:
        chain.keep = None
    print(f"{target.label}: {len(cold)} access tokens minted by refresh in {time.time() - t0:.1f} s", file=sys.stderr)

    def gate(path: str, headers: dict[str, str]) -> None:
        assert call("GET", base + path, headers=headers)[0] == 200, (target.label, path)
        assert call("GET", base + path)[0] == 401, (target.label, path)

    gate("/auth/me", bearer(token))
    gate("/session/me", {"Cookie": f"sessionid={cookie}"})
    assert all(call("GET", base + "/auth/me", headers=bearer(t))[0] == 200 for t in cold[:: max(1, len(cold) // 50)])
    assert call("GET", base + "/auth/me", headers=bearer(token[:-4] + "AAAA"))[0] == 401
    assert call("GET", base + "/session/me", headers={"Cookie": "sessionid=" + "A" * 43})[0] == 401

    def wrk_cell(path: str, headers: Any) -> Callable[[float], dict[str, Any]]:
        return lambda d: load(wrk, base, path, headers, args.connections, d, tmp, pin_load)

    def conversations(make: Callable[[], list[Any]]) -> Callable[[float], dict[str, Any]]:
        return lambda d: run_conversations(port, make(), d)

    health_seq = Rotation([request_bytes("GET", "/health", {}, port=port)])
    login_body = [request_bytes("POST", "/auth/token", {}, json.dumps(
        {"username": f"user{3 + i}", "password": PASSWORD}).encode(), port=port) for i in range(args.argon2_connections)]
    registrations = Registrations(port, f"r{secrets.token_hex(3)}x")
    cells: dict[str, Callable[[float], dict[str, Any]]] = {
        HEALTH: wrk_cell("/health", {}),
        HOT: wrk_cell("/auth/me", bearer(token)),
        COLD.format(n=len(cold)): wrk_cell("/auth/me", [bearer(t) for t in cold]),
        SESSION: wrk_cell("/session/me", {"Cookie": f"sessionid={cookie}"}),
        HEALTH_SEQ: conversations(lambda: [health_seq]),
        REFRESH_SEQ: conversations(lambda: chains[-1:]),
        REFRESH.format(n=args.refresh_connections): conversations(lambda: chains[:-1]),
        LOGIN.format(n=args.argon2_connections): conversations(lambda: [Rotation([b]) for b in login_body]),
        REGISTER.format(n=args.argon2_connections): conversations(lambda: [registrations] * args.argon2_connections),
    }
    target.cells = {name: timed(target.server, run) for name, run in cells.items()}
    target.cold_tokens = cold


def ceiling_cells(target: Target, tokens: list[str], args: argparse.Namespace, wrk: str | None, tmp: Path,
                  pin_load: list[str]) -> None:
    """The in-server ceiling: a FastAPI app on the same uvicorn whose ``/verify`` checks one ES256 signature
    (the cold tokens in turn) and nothing else; its CPU over its own ``/open`` is what a verification costs
    inside a loaded server, where the HTTP work between two checks has the CPU's caches."""
    base = target.server.url
    assert call("GET", base + "/verify", headers=bearer(tokens[0]))[0] == 200, "ceiling app"

    def wrk_cell(path: str, headers: Any) -> Callable[[float], dict[str, Any]]:
        return lambda d: load(wrk, base, path, headers, args.connections, d, tmp, pin_load)

    target.cells = {CEILING_OPEN: timed(target.server, wrk_cell("/open", {})),
                    CEILING_VERIFY: timed(target.server, wrk_cell("/verify", [bearer(t) for t in tokens]))}
    if os.environ.get("BENCH_PG_DSN"):  # the least a FastAPI route answers with one durable write, sequentially
        port = int(base.rsplit(":", 1)[1])
        write = Rotation([request_bytes("POST", "/write", {}, json.dumps({"token": tokens[0]}).encode(), port=port)])
        assert call("POST", base + "/write", body={"token": tokens[0]})[0] == 200, "ceiling app /write"
        opened = Rotation([request_bytes("GET", "/open", {}, port=port)])
        target.cells |= {CEILING_OPEN_SEQ: timed(target.server, lambda d: run_conversations(port, [opened], d)),
                         CEILING_WRITE_SEQ: timed(target.server, lambda d: run_conversations(port, [write], d))}


def form(url: str, data: dict[str, str]) -> tuple[int, Any, bytes]:
    req = urllib.request.Request(url, data=urllib.parse.urlencode(data).encode(), method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def peer_cells(target: Target, args: argparse.Namespace, wrk: str | None, tmp: Path, pin_load: list[str]) -> None:
    base = target.server.url
    st, _, body = form(base + "/token", {"username": "johndoe", "password": "secret"})
    assert st == 200, (st, body)
    auth = bearer(json.loads(body)["access_token"])
    st, hdrs, body = form(base + "/session/login", {"username": "johndoe", "password": "secret"})
    assert st == 200, (st, body)
    cookie = {"Cookie": "sessionid=" + re.search(r"sessionid=([^;]+)", "; ".join(hdrs.get_all("set-cookie") or [])).group(1)}
    endpoints = {HEALTH: ("/health", {}), PEER_JWT: ("/jwt/claims", auth), PEER_USER: ("/users/me", auth),
                 PEER_SESSION: ("/session/me", cookie)}
    for name, (path, h) in endpoints.items():
        assert call("GET", base + path, headers=h)[0] == 200, ("peer", name)
        if h:
            assert call("GET", base + path)[0] == 401, ("peer", name)
    assert call("GET", base + "/users/me", headers=bearer(auth["Authorization"][7:-4] + "AAAA"))[0] == 401

    def wrk_cell(path: str, h: dict[str, str]) -> Callable[[float], dict[str, Any]]:
        return lambda d: load(wrk, base, path, h, args.connections, d, tmp, pin_load)

    target.cells = {name: timed(target.server, wrk_cell(path, h)) for name, (path, h) in endpoints.items()}


@contextlib.contextmanager
def start_jwtkit(backend: str, args: argparse.Namespace, tmp: Path, prefix: list[str]) -> Iterator[Any]:
    serve_args = ["--no-access-log", "--access-ttl", "7200", "--register-max-per-client", "1000000000"]
    with contextlib.ExitStack() as stack:
        if backend == "postgres":
            schema = stack.enter_context(postgres_schema())
            redis_url = stack.enter_context(private_redis(tmp))
            redis_prefix = f"jwtkit_bench_{secrets.token_hex(4)}:"
            database_url = POSTGRES_URL
            store_args: dict[str, Any] = {"schema": schema, "redis_url": redis_url, "redis_prefix": redis_prefix}
            serve_args += ["--database-schema", schema, "--redis", redis_url, "--redis-prefix", redis_prefix]
        else:
            database_url, store_args = f"sqlite+aiosqlite:///{tmp / 'jwtkit.sqlite3'}", {}
        t0 = time.time()
        asyncio.run(seed_jwtkit(database_url, args.users, args.sessions, **store_args))
        print(f"{BACKENDS[backend]}: seeded {args.users} users, {args.sessions} sessions in {time.time() - t0:.1f} s",
              file=sys.stderr)
        yield stack.enter_context(jwtkit_serve(tmp / f"{backend}.log", "--database", database_url, *serve_args,
                                               prefix=prefix))


@contextlib.contextmanager
def start_peer(args: argparse.Namespace, tmp: Path, prefix: list[str]) -> Iterator[Any]:
    db = tmp / "peer.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JWTKIT_")} | {"BENCH_DB": str(db)}
    subprocess.run([sys.executable, str(PEER_DIR / "seed_db.py"), "--db", str(db), "--users", str(args.users),
                    "--sessions", str(args.sessions)], check=True, env=env, stdout=subprocess.DEVNULL)
    port = free_port()
    command = [*prefix, sys.executable, "-m", "uvicorn", "app:app", "--host", HOST, "--port", str(port),
               "--workers", "1", "--no-access-log", "--log-level", "warning"]
    with running(command, tmp / "peer.log", url=f"http://{HOST}:{port}", env=env, cwd=PEER_DIR) as server:
        yield server


def peer_missing() -> str | None:
    """Why the peer cannot run here, or None."""
    if not (PEER_DIR / "app.py").exists():
        return f"the peer is not at {PEER_DIR} (JWTKIT_BENCH_PEER_DIR)"
    missing = [m for m in ("jwt", "pwdlib", "multipart") if importlib.util.find_spec(m) is None]
    if missing:
        return f"the peer needs {', '.join(missing)} (pip install -r {PEER_DIR.parent / 'requirements-peers.txt'})"
    return None


# ---------------------------------------------------------------- report
def cpu_ratio(runs: list[dict[str, Any]], floor: list[dict[str, Any]]) -> float:
    """Median over rounds of /health's server CPU µs per request ÷ the cell's: what the req/s ratio would
    be if the server's CPU were the only limit (other processes' load disturbs it less)."""
    return statistics.median(h["cpu_us_per_req"] / x["cpu_us_per_req"] for x, h in zip(runs, floor, strict=True))


def server_table(runs: dict[str, list[dict[str, Any]]]) -> list[str]:
    floor = runs[HEALTH] if HEALTH in runs else runs[CEILING_OPEN]  # the ceiling app's floor is its /open
    rows = []
    for name, xs in runs.items():
        wrk_cell = name not in (HEALTH_SEQ, REFRESH_SEQ) and not name.startswith(("refresh", "login", "register"))
        rows.append([
            name, f"{statistics.median(x['rps'] for x in xs):.0f}",
            f"{statistics.median(x['p50_ms'] for x in xs):.2f}", f"{statistics.median(x['p99_ms'] for x in xs):.2f}",
            f"{same_round_ratio(xs, floor):.2f}" if wrk_cell else "",
            f"{cpu_ratio(xs, floor):.2f}" if wrk_cell else "",
            f"{statistics.median(x['cpu_us_per_req'] for x in xs):.0f}",
            f"{same_round_diff(xs, floor, 'cpu_us_per_req'):+.0f}",
            f"{statistics.median((x['foreign_load'] or 0) for x in xs) * 100:.0f}%", f"{sum(x['non2xx'] for x in xs)}"])
    return markdown_table(["cell", "req/s", "p50 ms", "p99 ms", "req/s ÷ /health", "CPU ratio", "server CPU µs/req",
                           "CPU µs/req over /health (the ceiling app: over /open)", "other load", "non-2xx"], rows)


def ceiling_lines(results: dict[str, dict[str, list[dict[str, Any]]]], verify_us: float, refresh: RefreshCrypto,
                  commit_ms: float | None) -> list[str]:
    """Each target beside what the one unavoidable primitive leaves of it (harness/ceilings.py), the ES256
    verification counted twice: in a tight loop, and inside a loaded server (the ceiling app's cells)."""
    in_server_us = None
    if CEILING in results:
        in_server_us = same_round_diff(results[CEILING][CEILING_VERIFY], results[CEILING][CEILING_OPEN],
                                       "cpu_us_per_req")
    lines = ["", f"## Ceilings: an ES256 verification costs {verify_us:.0f} µs here in a tight loop"
             + (f", {in_server_us:.0f} µs of server CPU inside a loaded FastAPI server (the ceiling app: /verify "
                f"over /open, same round)" if in_server_us is not None else "")
             + f"; a refresh's cryptography {refresh.total_us:.0f} µs (the HS256 check {refresh.check_us:.0f}, the "
               f"ES256 + HS256 signatures {refresh.signs_us:.0f})"
             + (f"; a durable one-row PostgreSQL commit {commit_ms:.2f} ms" if commit_ms is not None else ""), ""]
    for label, runs in results.items():
        if label in NOT_OURS:
            continue
        health_cpu = statistics.median(x["cpu_us_per_req"] for x in runs[HEALTH])
        # (a route that costs what /health costs plus the check; ours are served ahead of FastAPI's router,
        # jwtkit.web.direct, and cost less than /health besides the check, so they can pass this)
        line = (f"- {label}: a route that costs /health's CPU plus one ES256 check can reach at most "
                f"{health_cpu / (health_cpu + verify_us):.2f} of /health with the loop's verification")
        if in_server_us is not None:
            line += f", {health_cpu / (health_cpu + in_server_us):.2f} with the in-server one"
        lines.append(line + f" (/health {health_cpu:.0f} µs of CPU per request)")
        if HEALTH_SEQ in runs:
            health_ms = statistics.median(x["p50_ms"] for x in runs[HEALTH_SEQ])
            crypto_ms, check_ms, signs_ms = refresh.total_us / 1000, refresh.check_us / 1000, refresh.signs_us / 1000
            if commit_ms is not None and label == BACKENDS["postgres"]:
                # the pair is signed while the commit is awaited (jwtkit.auth.overlap): the longer one counts
                floor_ms = health_ms + check_ms + max(signs_ms, commit_ms)
                lines.append(f"- {label}: a refresh's sequential latency is at least {floor_ms / health_ms:.1f}× "
                             f"/health's ({health_ms:.2f} ms + the check, {check_ms:.2f} ms, + the commit, "
                             f"{commit_ms:.2f} ms, during which it signs, {signs_ms:.2f} ms)")
            else:
                lines.append(f"- {label}: a refresh's sequential latency is at least "
                             f"{(health_ms + crypto_ms) / health_ms:.1f}× /health's ({health_ms:.2f} ms + "
                             f"its cryptography, {crypto_ms:.2f} ms)")
    if CEILING_WRITE_SEQ in results.get(CEILING, {}):
        ceiling = results[CEILING]
        write_x = statistics.median(w["p50_ms"] / o["p50_ms"] for w, o in zip(
            ceiling[CEILING_WRITE_SEQ], ceiling[CEILING_OPEN_SEQ], strict=True))
        write_ms = statistics.median(w["p50_ms"] for w in ceiling[CEILING_WRITE_SEQ])
        lines.append(f"- the ceiling app: a FastAPI route that makes one durable one-row INSERT on a bare asyncpg "
                     f"connection and nothing else answers sequentially at {write_x:.1f}× its /open "
                     f"({write_ms:.2f} ms p50, same rounds): what any such route pays for one durable write")
    return lines


def summary(results: dict[str, dict[str, list[dict[str, Any]]]], args: argparse.Namespace) -> list[str]:
    from jwtkit.auth.settings import AuthSettings

    s = AuthSettings()
    lines = ["", "## Targets (issue 10): ratios to the same server's /health, same round", ""]
    rows = []
    for label, runs in results.items():
        if label in NOT_OURS:
            continue
        floor = runs[HEALTH]
        hot = same_round_ratio(runs[HOT], floor)
        cold_name = next(n for n in runs if n.startswith("/auth/me cold"))
        cold = same_round_ratio(runs[cold_name], floor)
        session = same_round_ratio(runs[SESSION], floor)
        refresh_x = statistics.median(r["p50_ms"] / h["p50_ms"] for r, h in zip(runs[REFRESH_SEQ], runs[HEALTH_SEQ], strict=True))
        session_target = 0.60 if label == BACKENDS["sqlite"] else 0.70
        refresh_name = REFRESH.format(n=args.refresh_connections)

        def verdict(ok: bool) -> str:
            return "met" if ok else "NOT met"

        cpu = {name: f" / CPU {cpu_ratio(runs[name], floor):.2f}" for name in (HOT, cold_name, SESSION)}
        rows.append([label, f"{hot:.2f}{cpu[HOT]} ({verdict(hot >= 0.90)})",
                     f"{cold:.2f}{cpu[cold_name]} ({verdict(cold >= 0.65)})",
                     f"{session:.2f}{cpu[SESSION]} (≥ {session_target:.2f}: {verdict(session >= session_target)})",
                     f"{refresh_x:.1f}× ({verdict(refresh_x <= 4)})",
                     f"{statistics.median(x['rps'] for x in runs[refresh_name]):.0f}",
                     f"{statistics.median(x['rps'] for x in runs[LOGIN.format(n=args.argon2_connections)]):.1f}",
                     f"{statistics.median(x['rps'] for x in runs[REGISTER.format(n=args.argon2_connections)]):.1f}"])
    lines += ["req/s ratio / CPU ratio (/health's server CPU µs per request ÷ the cell's); the verdict is on the "
              "req/s ratio.", ""]
    lines += markdown_table(["backend", "/auth/me hot (≥ 0.90)", "/auth/me cold (≥ 0.65)", "/session/me",
                             "refresh p50 ÷ /health p50, 1 connection (≤ 4×)",
                             f"refreshes/s ({args.refresh_connections} chains)", "logins/s", "registrations/s"], rows)
    lines.append(f"\nargon2id (argon2-cffi): time_cost {s.password_time_cost}, memory_cost {s.password_memory_cost} KiB, "
                 f"parallelism {s.password_parallelism}; {args.argon2_connections} connections.")
    if "peer" in results:
        peer = results["peer"]
        lines += ["", "## Beside the FastAPI-tutorial peer (each ratio to its own server's /health, same round)", ""]
        header = ["path", *[label for label in results if label not in NOT_OURS], "peer"]
        ours = {label: runs for label, runs in results.items() if label not in NOT_OURS}

        def ratio(runs: dict[str, list[dict[str, Any]]], name: str) -> str:
            return f"{same_round_ratio(runs[name], runs[HEALTH]):.2f}" if name in runs else "n/a"

        cold = {label: next(n for n in runs if n.startswith("/auth/me cold")) for label, runs in ours.items()}
        lines += markdown_table(header, [
            ["JWT, signature cache hit (ours hot; the peer has no cache)", *[ratio(r, HOT) for r in ours.values()],
             ratio(peer, PEER_JWT)],
            ["JWT, every signature verified (ours cold ES256; the peer HS256)",
             *[ratio(r, cold[label]) for label, r in ours.items()], ratio(peer, PEER_JWT)],
            ["JWT + user row (the tutorial's /users/me; ours reads no row)", *["n/a" for _ in ours],
             ratio(peer, PEER_USER)],
            ["session (ours: session row; the peer: session row + user row)", *[ratio(r, SESSION) for r in ours.values()],
             ratio(peer, PEER_SESSION)],
            ["/health req/s", *[f"{statistics.median(x['rps'] for x in r[HEALTH]):.0f}" for r in ours.values()],
             f"{statistics.median(x['rps'] for x in peer[HEALTH]):.0f}"],
        ])
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=8, help="seconds per cell (default 8)")
    ap.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    ap.add_argument("--no-peer", action="store_true", help="leave out the FastAPI-tutorial peer")
    ap.add_argument("--no-ceiling", action="store_true", help="leave out the ceiling app (the in-server ES256 cost)")
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--sessions", type=int, default=10_000)
    ap.add_argument("--distinct-tokens", type=int, default=5000, help="tokens of the cold /auth/me cell (default 5000)")
    ap.add_argument("--refresh-connections", type=int, default=16)
    ap.add_argument("--argon2-connections", type=int, default=4)
    ap.add_argument("--quick", action="store_true", help="1 round x 3 s, 500 users, 1,000 sessions")
    add_load_options(ap)
    args = ap.parse_args()
    if args.quick:
        args.duration, args.rounds, args.users, args.sessions = 3, 1, 500, 1000
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if unknown := [b for b in backends if b not in BACKENDS]:
        ap.error(f"unknown backend(s) {unknown}; choose from {', '.join(BACKENDS)}")
    if "postgres" in backends and shutil.which("redis-server") is None:
        print("redis-server is not installed: PostgreSQL + Redis left out", file=sys.stderr)
        backends.remove("postgres")
    wrk = load_tool(args)
    pin = pinning()
    pin.load_here()  # the asyncio generator runs in this process, beside wrk
    no_peer = "--no-peer" if args.no_peer else peer_missing()
    if no_peer and not args.no_peer:
        print(f"peer left out: {no_peer}", file=sys.stderr)

    tmp = Path(tempfile.mkdtemp(prefix="jwtkit_bench_stateful_"))
    try:
        with contextlib.ExitStack() as stack:
            targets = []
            for backend in backends:
                server = stack.enter_context(start_jwtkit(backend, args, tmp, pin.server))
                target = Target(BACKENDS[backend], server)
                jwtkit_cells(target, args, wrk, tmp, pin.load)
                targets.append(target)
            if targets and not args.no_ceiling:
                issuer = targets[0]
                os.environ["BENCH_JWKS_URL"] = issuer.server.url + "/.well-known/jwks.json"
                if "postgres" in backends:
                    os.environ["BENCH_PG_DSN"] = json.dumps(postgres_dsn() | {"schema": stack.enter_context(
                        postgres_schema())})
                target = Target(CEILING, stack.enter_context(start_app("uvicorn", "fastapi_verify_only", pin.server,
                                                                       tmp / "ceiling.log")))
                ceiling_cells(target, issuer.cold_tokens, args, wrk, tmp, pin.load)
                targets.append(target)
            if not no_peer:
                target = Target("peer", stack.enter_context(start_peer(args, tmp, pin.server)))
                peer_cells(target, args, wrk, tmp, pin.load)
                targets.append(target)
            print("servers up, correctness checks passed; load: " + ("wrk" if wrk else "asyncio generator"),
                  file=sys.stderr)
            cells = [(t.label, name) for t in targets for name in t.cells]
            by_label = {t.label: t for t in targets}
            for label, name in cells:  # warm-up
                by_label[label].cells[name](1)
            raw = interleave(cells, args.rounds, lambda cell, _: by_label[cell[0]].cells[cell[1]](args.duration),
                             seed=10, quiet_budget=args.quiet_budget, describe=lambda cell, res: (
                                 f"{cell[0]} {cell[1]}: {res['rps']:.0f} req/s p50 {res['p50_ms']:.2f} ms "
                                 f"CPU {res['cpu_us_per_req']:.0f} µs/req other load "
                                 f"{(res['foreign_load'] or 0) * 100:.0f}% non2xx {res['non2xx']}"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for (label, name), runs in raw.items():
        results.setdefault(label, {})[name] = runs
    lines = [
        f"{'wrk' if wrk else 'asyncio generator'} (1 thread, {args.connections} connections) for the GET cells, the "
        f"asyncio generator for refresh, login, register and their /health; {args.duration:g} s per cell, "
        f"{args.rounds} round(s), cells shuffled per round{'; servers on CPU 1, load on CPU 0' if pin.enabled else ''}; "
        f"one uvicorn worker per server, access log off; seed {args.users} users, {args.sessions} sessions; "
        "medians over rounds; ratios taken per round, then the median.",
    ]
    for label, runs in results.items():
        lines += ["", f"## {label}", "", *server_table(runs)]
    lines += summary(results, args)
    commit_ms = postgres_commit_ms(postgres_dsn()) if BACKENDS["postgres"] in results else None
    lines += ceiling_lines(results, es256_verify_us(), refresh_crypto_us(), commit_ms)
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
