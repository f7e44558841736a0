#!/usr/bin/env python3
"""Soak (issue 14): N minutes of mixed load on two-worker ``jwtkit serve`` over PostgreSQL + Redis,
with the Redis server restarted once in the middle.

    .venv/bin/python benchmarks/soak.py                     # 30 minutes
    .venv/bin/python benchmarks/soak.py --minutes 2 --json soak.json

Each of ``--users`` virtual users loops: (now and then) register a new account, log in for a token pair,
``/auth/me``, refresh, ``/auth/me`` with the new access token, log out; then open a cookie session,
``/session/me``, close it. Short lifetimes (access 10 s, refresh and session 30 s) make the purge work.

Everything runs on 127.0.0.1 and is private to the run: a fresh PostgreSQL schema (``--database-schema``,
dropped at the end) on the shared server at ``JWTKIT_TEST_POSTGRES_URL``, and a ``redis-server`` this
script starts on its own port (``--redis-port``, default a free one; never the shared 6379), stops at half
time for ``--outage`` seconds and starts again on the same port.

Three verdicts (``check``; the exit status is 1 if one fails):

- **no 5xx outside the outage**: a 5xx (or a refused connection) is allowed only between the Redis stop
  and ``--recovery`` seconds after its restart;
- **memory flat**: after the warm-up (the first fifth, at least 30 s), each worker's RSS stays within 10 %
  of its first post-warm-up sample, and no worker was replaced. RSS is read at a quiet point: the load
  pauses at each sample until no request is in flight (every login hashes with Argon2id, which maps and
  unmaps 64 MiB per hash, so a reading under load jumps by that much at random);
- **tables bounded by the purge**: at every sample no row of ``refresh_tokens``, ``refresh_families``,
  ``denylist``, ``sessions`` or ``login_attempts`` has been expired longer than one maintenance interval
  (60 s) plus ``--purge-slack``; row counts over time are reported too (``users`` grows by design).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from bench_scaleout import POSTGRES_URL, postgres_dsn, postgres_schema, serve
from harness.servers import free_port, processes

HOST = "127.0.0.1"
PASSWORD = "soak password 1"
MAINTENANCE_INTERVAL = 60.0  # jwtkit.web.app.DEFAULT_MAINTENANCE_INTERVAL; `serve` has no flag for it
RSS_TOLERANCE = 0.10
# table -> its expiry column
PURGED = {"refresh_tokens": "expires_at", "refresh_families": "expires_at", "denylist": "exp",
          "sessions": "expire_date", "login_attempts": "expires_at"}
SERVER_ARGS = ["--access-ttl", "10", "--refresh-ttl", "30", "--session-ttl", "30"]


@dataclass
class Record:
    started: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    # (sent, answered, request, status or error), seconds since start
    failures: list[tuple[float, float, str, str]] = field(default_factory=list)
    rss: list[tuple[float, dict[int, int]]] = field(default_factory=list)  # (t, {pid: RSS kB})
    tables: list[tuple[float, dict[str, int], dict[str, int]]] = field(default_factory=list)  # (t, rows, stale)
    outage: tuple[float, float] | None = None  # (Redis stopped, Redis back), seconds since start
    requests: int = 0


class RedisServer:
    """A private ``redis-server`` on a fixed port that can be stopped and started again."""

    def __init__(self, port: int, tmp: Path) -> None:
        self.port, self.tmp = port, tmp
        self.proc: Any = None

    def start(self) -> None:
        import subprocess

        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", HOST, "--save", "",
                                      "--appendonly", "no", "--dir", str(self.tmp)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + 10
        while time.time() < deadline:
            with contextlib.suppress(OSError):
                import socket

                with socket.create_connection((HOST, self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None:
            processes.stop(self.proc)
            self.proc = None


def _pids(group: int) -> list[int]:
    """Worker processes of the ``serve`` process group (every member but the supervisor itself)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == group:
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            cmdline = (entry / "cmdline").read_bytes()
            if int(fields[2]) == group and b"resource_tracker" not in cmdline:
                pids.append(int(entry.name))
    return sorted(pids)


def _rss_kb(pid: int) -> int | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def _rss(group: int) -> dict[int, int]:
    return {pid: kb for pid in _pids(group) if (kb := _rss_kb(pid)) is not None}


async def _tables(conn: Any, schema: str, grace: float) -> tuple[dict[str, int], dict[str, int]]:
    rows, stale = {}, {}
    now = time.time()
    for table, column in (*PURGED.items(), ("users", "")):
        exists = await conn.fetchval("SELECT to_regclass($1)", f'"{schema}"."{table}"')
        if exists is None:
            continue
        rows[table] = await conn.fetchval(f'SELECT count(*) FROM "{schema}"."{table}"')
        if column:
            stale[table] = await conn.fetchval(f'SELECT count(*) FROM "{schema}"."{table}" WHERE "{column}" < $1',
                                               now - grace)
    return rows, stale


class Load:
    def __init__(self, base: str, record: Record, run_id: str, think: float) -> None:
        self.base, self.record, self.run_id, self.think = base, record, run_id, think
        self.gate = asyncio.Event()
        self.gate.set()
        self.in_flight = 0

    async def quiet(self, timeout: float = 60.0) -> None:
        """Hold new requests back and wait for those in flight to end (``resume`` lets them go)."""
        self.gate.clear()
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)  # the workers finish what they do after answering (background tasks)

    def resume(self) -> None:
        self.gate.set()

    async def call(self, client: httpx.AsyncClient, name: str, method: str, path: str, **kw: Any) -> httpx.Response | None:
        await self.gate.wait()
        t = time.monotonic() - self.record.started
        self.record.requests += 1
        self.in_flight += 1
        try:
            response = await client.request(method, self.base + path, **kw)
        except httpx.HTTPError as exc:
            self.record.failures.append((t, time.monotonic() - self.record.started, name, type(exc).__name__))
            return None
        finally:
            self.in_flight -= 1
        key = f"{name} {response.status_code}"
        self.record.statuses[key] = self.record.statuses.get(key, 0) + 1
        if response.status_code >= 500:
            self.record.failures.append((t, time.monotonic() - self.record.started, name, str(response.status_code)))
        if self.think:
            await asyncio.sleep(self.think)
        return response

    async def user(self, index: int, stop_at: float) -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            username, cycle = "", 0
            while time.monotonic() < stop_at:
                if cycle % 20 == 0 or not username:
                    candidate = f"soak-{self.run_id}-{index}-{cycle}"
                    r = await self.call(client, "register", "POST", "/auth/register",
                                        json={"username": candidate, "password": PASSWORD})
                    if r is not None and r.status_code == 201:
                        username = candidate
                    if not username:
                        await asyncio.sleep(1)
                        continue
                cycle += 1
                creds = {"username": username, "password": PASSWORD}
                r = await self.call(client, "login", "POST", "/auth/token", json=creds)
                if r is not None and r.status_code == 200:
                    pair = r.json()
                    await self.call(client, "me", "GET", "/auth/me",
                                    headers={"Authorization": f"Bearer {pair['access_token']}"})
                    r = await self.call(client, "refresh", "POST", "/auth/token/refresh",
                                        json={"refresh_token": pair["refresh_token"]})
                    if r is not None and r.status_code == 200:
                        pair = r.json()
                    bearer = {"Authorization": f"Bearer {pair['access_token']}"}
                    await self.call(client, "me", "GET", "/auth/me", headers=bearer)
                    await self.call(client, "logout", "POST", "/auth/logout", headers=bearer,
                                    json={"refresh_token": pair["refresh_token"]})
                r = await self.call(client, "session-login", "POST", "/session/login", json=creds)
                if r is not None and r.status_code == 200:
                    await self.call(client, "session-me", "GET", "/session/me")
                    await self.call(client, "session-logout", "POST", "/session/logout")
                client.cookies.clear()


async def _run(args: argparse.Namespace, base: str, group: int, redis: RedisServer, schema: str) -> Record:
    import asyncpg

    conn = await asyncpg.connect(**postgres_dsn())
    record = Record(started=time.monotonic())
    duration = args.minutes * 60
    stop_at = record.started + duration
    load = Load(base, record, secrets.token_hex(3), args.think)
    users = [asyncio.create_task(load.user(i, stop_at)) for i in range(args.users)]
    grace = MAINTENANCE_INTERVAL + args.purge_slack
    outage_at, restarted = duration / 2, False
    try:
        while time.monotonic() < stop_at:
            t = time.monotonic() - record.started
            await load.quiet()
            record.rss.append((t, _rss(group)))
            load.resume()
            record.tables.append((t, *await _tables(conn, schema, grace)))
            if not restarted and t >= outage_at:
                restarted = True
                down = time.monotonic() - record.started
                await asyncio.to_thread(redis.stop)
                print(f"[{down:7.1f}s] redis stopped", file=sys.stderr)
                await asyncio.sleep(args.outage)
                await asyncio.to_thread(redis.start)
                record.outage = (down, time.monotonic() - record.started)
                print(f"[{record.outage[1]:7.1f}s] redis started again", file=sys.stderr)
            else:
                print(f"[{t:7.1f}s] {record.requests} requests, {len(record.failures)} failures, "
                      f"rss {sorted(record.rss[-1][1].values())} kB, rows {record.tables[-1][1]}", file=sys.stderr)
                await asyncio.sleep(min(args.sample, max(0.0, stop_at - time.monotonic())))
        await asyncio.gather(*users)
        record.tables.append((time.monotonic() - record.started, *await _tables(conn, schema, grace)))
    finally:
        for task in users:
            task.cancel()
        await conn.close()
    return record


def check(record: Record, minutes: float, recovery: float) -> dict[str, Any]:
    """The three verdicts and the figures behind them."""
    duration = minutes * 60
    down, back = record.outage or (duration, duration)
    # A request counts as in the outage if it was in flight at any moment of it.
    outside = [f for f in record.failures if f[1] < down or f[0] > back + recovery]
    warm = max(30.0, duration / 5)
    after = [(t, s) for t, s in record.rss if t >= warm]
    baseline = after[0][1] if after else {}
    growth: dict[int, float] = {}
    replaced = bool(after) and any(set(s) != set(baseline) for _, s in after)
    for pid, kb in baseline.items():
        growth[pid] = max(abs(s.get(pid, kb) - kb) / kb for _, s in after)
    stale = {table: max(s.get(table, 0) for _, _, s in record.tables) for table in PURGED}
    peak = {table: max(r.get(table, 0) for _, r, _ in record.tables) for table in (*PURGED, "users")}
    return {
        "minutes": minutes,
        "requests": record.requests,
        "statuses": dict(sorted(record.statuses.items())),
        "outage_s": [round(down, 1), round(back, 1)] if record.outage else None,
        "failures_in_outage": len(record.failures) - len(outside),
        "failures_outside_outage": [list(f) for f in outside[:20]],
        "rss_kb_baseline": baseline,
        "rss_kb_last": after[-1][1] if after else {},
        "rss_max_deviation": {pid: round(g, 3) for pid, g in growth.items()},
        "workers_replaced": replaced,
        "rows_peak": peak,
        "rows_last": record.tables[-1][1] if record.tables else {},
        "rows_stale_max": stale,
        "ok_no_5xx": not outside and record.outage is not None,
        "ok_memory_flat": bool(growth) and len(growth) >= 2 and not replaced
        and all(g <= RSS_TOLERANCE for g in growth.values()),
        "ok_tables_bounded": bool(record.tables) and not any(stale.values()),
    }


@contextlib.contextmanager
def environment(args: argparse.Namespace) -> Iterator[tuple[str, int, RedisServer, str]]:
    """A private Redis, a fresh schema and two-worker ``jwtkit serve`` on them; all torn down after."""
    with tempfile.TemporaryDirectory(prefix="jwtkit-soak-") as tmp, postgres_schema() as schema:
        redis = RedisServer(args.redis_port or free_port(), Path(tmp))
        redis.start()
        try:
            server_args = ["--database", POSTGRES_URL, "--database-schema", schema,
                           "--redis", f"redis://{HOST}:{redis.port}/0", *SERVER_ARGS]
            log = Path(args.log) if args.log else Path(tmp) / "server.log"
            with serve_group(log, server_args) as (base, group):
                yield base, group, redis, schema
        finally:
            redis.stop()


@contextlib.contextmanager
def serve_group(log: Path, server_args: list[str]) -> Iterator[tuple[str, int]]:
    """``bench_scaleout.serve`` with two workers; also yields its process group (= the supervisor's pid)."""
    with serve(log, server_args, workers=2) as base:
        port = base.rsplit(":", 1)[1].encode()
        for entry in Path("/proc").iterdir():
            with contextlib.suppress(OSError, ValueError):
                argv = (entry / "cmdline").read_bytes().split(b"\0")
                if b"serve" in argv and port in argv and os.getpgid(int(entry.name)) == int(entry.name):
                    yield base, int(entry.name)
                    return
        raise RuntimeError("cannot find the jwtkit serve process")


def soak(args: argparse.Namespace) -> dict[str, Any]:
    with environment(args) as (base, group, redis, schema):
        record = asyncio.run(_run(args, base, group, redis, schema))
    return check(record, args.minutes, args.recovery)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--users", type=int, default=4, help="virtual users (default 4)")
    p.add_argument("--think", type=float, default=0.02, help="pause after each request, seconds (default 0.02)")
    p.add_argument("--outage", type=float, default=5.0, help="seconds Redis stays down (default 5)")
    p.add_argument("--recovery", type=float, default=15.0,
                   help="seconds after Redis is back that 5xx are still allowed (default 15)")
    p.add_argument("--purge-slack", type=float, default=30.0,
                   help="seconds past one maintenance interval a row may outlive its expiry (default 30)")
    p.add_argument("--sample", type=float, default=10.0, help="seconds between RSS and table samples (default 10)")
    p.add_argument("--redis-port", type=int, default=0, help="port of the private redis-server (default: a free one)")
    p.add_argument("--log", help="server log file (default: a temporary one)")
    p.add_argument("--json", help="write the result here as JSON")
    return p


def main() -> int:
    args = parser().parse_args()
    result = soak(args)
    text = json.dumps(result, indent=2, default=str)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    dev = result["rss_max_deviation"]
    print(f"\nrequests {result['requests']}, 5xx/errors in outage {result['failures_in_outage']}, outside "
          f"{len(result['failures_outside_outage'])}; RSS max deviation {statistics.fmean(dev.values()) if dev else 0:.1%}"
          f" avg; stale rows {result['rows_stale_max']}", file=sys.stderr)
    return 0 if result["ok_no_5xx"] and result["ok_memory_flat"] and result["ok_tables_bounded"] else 1


if __name__ == "__main__":
    sys.exit(main())
