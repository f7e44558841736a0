#!/usr/bin/env python3
"""Load the auth server on loopback: /health (the framework floor), /auth/me with a JWT, /session/me with a session.

    .venv/bin/python benchmarks/bench_server.py            # 5 rounds x 3 endpoints x 10 s, 64 connections (~3 min)
    .venv/bin/python benchmarks/bench_server.py --quick    # 1 round x 3 s, smaller seed
    .venv/bin/python benchmarks/bench_server.py --json results.json

The method of the server yardsticks the project compares itself with, so the figures compare: a seeded
SQLite database in a temporary directory (10,000 users sharing one argon2id hash,
50,000 live sessions, written through jwtkit's own store), one `jwtkit serve` worker on 127.0.0.1 (pinned to
CPU 1 with taskset when there are >= 2 CPUs; access log off, as the yardsticks run uvicorn), wrk with 1 thread
and N connections pinned to CPU 0, the endpoints in a shuffled order per round, a bounded wait for other
processes to go quiet before each run, medians over rounds, and each endpoint's req/s relative to /health
measured in the same round. Without wrk on PATH (Debian: apt-get install wrk) a bounded asyncio load generator
(keep-alive HTTP/1.1, same connections and duration) stands in; its own CPU cost caps the figures lower, but
the same-round ratios still compare.

Correctness gates before the load: each endpoint answers 200 with its credentials and 401 without, with a
tampered token and with an unknown session id. Every run is bounded in time and only targets 127.0.0.1; the
server is stopped by its PID at the end.

``--distinct-tokens N`` adds a run of /auth/me with N live tokens of one user taken in turn, so that a
server which caches verified tokens shows its miss path too (N above its cache size) and not only the
one-token best case.

Targets (issue 3): /auth/me >= 80 % of /health's req/s, and more req/s than /session/me, in the same round.
This is not a test: figures depend on the machine and its load; the script prints them and whether the
targets were met.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.http import call as http
from harness.load import add_load_options, load, load_tool
from harness.machine import ForeignLoad, cpu_seconds, pinning
from harness.report import markdown_table
from harness.rounds import interleave, same_round_diff, same_round_ratio
from harness.servers import jwtkit_serve

PASSWORD = "benchmark password"
HEALTH, JWT, SESSION = "/health (no auth)", "/auth/me (JWT, ES256)", "/session/me (session row)"
JWT_MANY = "/auth/me (JWT, {n} distinct tokens in turn)"


# ---------------------------------------------------------------- seeding (through jwtkit's own store)
async def seed(database_url: str, users: int, sessions: int) -> None:
    """Users and live sessions, in bulk, in jwtkit's own schema (created by its store on open)."""
    import json as _json
    import secrets
    import time as _time

    from argon2 import PasswordHasher

    from jwtkit.auth.models import username_key
    from jwtkit.auth.sessions import session_key_hash
    from jwtkit.storage.sql import schema
    from jwtkit.wiring import open_stores

    stores = await open_stores(database_url)
    try:
        shared_hash = PasswordHasher().hash(PASSWORD)  # one hash for everyone, as the yardsticks seed theirs
        now = _time.time()
        expires = now + 14 * 86400
        async with stores.users.engine.begin() as conn:  # the SQL store: one transaction, executemany
            await conn.execute(schema.users.insert(), [
                {"username": f"user{i}", "username_key": username_key(f"user{i}"), "password_hash": shared_hash,
                 "created_at": now} for i in range(users)])
            rows = (await conn.execute(schema.users.select().order_by(schema.users.c.id))).all()
            ids = [(row.id, row.username) for row in rows]
            await conn.execute(schema.sessions.insert(), [
                {"session_key": session_key_hash(secrets.token_urlsafe(32)),
                 "session_data": _json.dumps({"user_id": ids[i % len(ids)][0], "username": ids[i % len(ids)][1]}),
                 "expire_date": expires}
                for i in range(sessions)])
    finally:
        await stores.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=10, help="seconds per run (default 10)")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument("--sessions", type=int, default=50_000)
    ap.add_argument("--quick", action="store_true", help="1 round x 3 s, 1,000 users, 5,000 sessions")
    ap.add_argument("--distinct-tokens", type=int, default=0, metavar="N",
                    help="also load /auth/me with N different live tokens taken in turn (a server that caches "
                         "verifications shows its miss path when N exceeds its cache)")
    add_load_options(ap)
    args = ap.parse_args()
    if args.quick:
        args.duration, args.rounds, args.users, args.sessions = 3, 1, 1000, 5000
    wrk = load_tool(args)
    ncpu = os.cpu_count() or 1
    pin = pinning()
    if not wrk:
        pin.load_here()  # the Python load generator runs in this process

    tmp = Path(tempfile.mkdtemp(prefix="jwtkit_bench_server_"))
    database_url = f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}"
    t0 = time.time()
    asyncio.run(seed(database_url, args.users, args.sessions))
    print(f"seeded {args.users} users and {args.sessions} sessions in {time.time() - t0:.1f} s", file=sys.stderr)
    with jwtkit_serve(tmp / "server.log", "--database", database_url, "--no-access-log", prefix=pin.server) as server:
        base = server.url
        print(f"jwtkit serve pid {server.pid} on {base}; load: {'wrk' if wrk else 'asyncio generator'}",
              file=sys.stderr)
        endpoints = prepare(base, args.distinct_tokens)
        print("correctness checks passed", file=sys.stderr)

        def run(name: str, duration: float) -> dict[str, Any]:
            path, h = endpoints[name]
            fl = ForeignLoad(lambda: cpu_seconds(server.pid))
            c0 = cpu_seconds(server.pid)
            res = load(wrk, base, path, h, args.connections, duration, tmp, pin.load)
            res["cpu_us_per_req"] = (cpu_seconds(server.pid) - c0) * 1e6 / max(res["requests"], 1)
            res["foreign_load"] = fl.stop()
            return res

        for name in endpoints:  # warm-up
            run(name, 2)
        results = interleave(
            list(endpoints), args.rounds, lambda name, _: run(name, args.duration), seed=7,
            quiet_budget=args.quiet_budget,
            describe=lambda name, res: (
                f"{name}: {res['rps']:.0f} req/s p50 {res['p50_ms']:.2f} ms p99 {res['p99_ms']:.2f} ms "
                f"server CPU {res['cpu_us_per_req']:.0f} µs/req other load {(res['foreign_load'] or 0) * 100:.0f}% "
                f"non2xx {res['non2xx']}"))
    print(f"jwtkit serve pid {server.pid} stopped (rc {server.process.returncode})", file=sys.stderr)

    floor = results[HEALTH]
    ratio = {n: same_round_ratio(runs, floor) for n, runs in results.items()}
    lines = [
        f"{'wrk' if wrk else 'asyncio load generator'}: 1 thread, {args.connections} connections, "
        f"{args.duration:g} s per run, {args.rounds} round(s), endpoints shuffled per round"
        f"{'; server pinned to CPU 1, load to CPU 0' if pin.enabled else ''}; one jwtkit serve worker, access log off; "
        f"seed {args.users} users, {args.sessions} sessions; medians over rounds; ratio = req/s relative to "
        f"/health in the same round (median); server CPU µs/req = the server process's utime+stime during the "
        f"run / requests completed (its excess over /health is taken per round, then the median); other load = share of all {ncpu} CPUs used by other processes.", "",
    ]
    rows = []
    for name, runs in results.items():
        rps = [x["rps"] for x in runs]
        rows.append([
            name, f"{statistics.median(rps):.0f}", f"{min(rps):.0f}-{max(rps):.0f}",
            f"{statistics.median(x['p50_ms'] for x in runs):.2f}", f"{statistics.median(x['p99_ms'] for x in runs):.2f}",
            f"{ratio[name]:.2f}", f"{statistics.median(x['cpu_us_per_req'] for x in runs):.0f}",
            f"{same_round_diff(runs, floor, 'cpu_us_per_req'):+.0f}",
            f"{statistics.median((x['foreign_load'] or 0) for x in runs) * 100:.0f}%",
            f"{sum(x['non2xx'] for x in runs)}"])
    lines += markdown_table(["endpoint", "req/s (median)", "req/s (min-max)", "p50 ms", "p99 ms", "req/s vs /health",
                             "server CPU µs/req", "CPU µs/req over /health", "other load", "non-2xx"], rows)
    jwt_vs_session = same_round_ratio(results[JWT], results[SESSION])
    lines += [
        "",
        f"targets: /auth/me vs /health {ratio[JWT]:.2f} (>= 0.80: {'met' if ratio[JWT] >= 0.80 else 'NOT met'}); "
        f"/auth/me vs /session/me {jwt_vs_session:.2f}x (> 1: {'met' if jwt_vs_session > 1 else 'NOT met'})",
    ]
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def prepare(base: str, distinct_tokens: int) -> dict[str, tuple[str, Any]]:
    """Log in (a token, a session cookie), check every endpoint's answers; the endpoints to load."""
    st, _, body = http("POST", base + "/auth/token", {"username": "user0", "password": PASSWORD})
    assert st == 200, (st, body)
    token = json.loads(body)["access_token"]
    st, hdrs, body = http("POST", base + "/session/login", {"username": "user0", "password": PASSWORD})
    assert st == 200, (st, body)
    cookie = re.search(r"sessionid=([^;]+)", "; ".join(hdrs.get_all("set-cookie") or [])).group(1)
    endpoints: dict[str, tuple[str, Any]] = {
        HEALTH: ("/health", {}),
        JWT: ("/auth/me", {"Authorization": f"Bearer {token}"}),
        SESSION: ("/session/me", {"Cookie": f"sessionid={cookie}"}),
    }
    if distinct_tokens:  # the same user logged in many times: as many live access tokens
        tokens = []
        for _ in range(distinct_tokens):
            st, _, body = http("POST", base + "/auth/token", {"username": "user1", "password": PASSWORD})
            assert st == 200, (st, body)
            tokens.append(json.loads(body)["access_token"])
        endpoints[JWT_MANY.format(n=len(tokens))] = ("/auth/me", [{"Authorization": f"Bearer {t}"} for t in tokens])
    for name, (path, h) in endpoints.items():  # correctness gates
        if isinstance(h, list):
            assert all(http("GET", base + path, headers=x)[0] == 200 for x in h), name
            continue
        st, _, body = http("GET", base + path, headers=h)
        assert st == 200, (name, st, body)
        if h:
            assert http("GET", base + path)[0] == 401, name
    tampered = {"Authorization": f"Bearer {token[:-4]}AAAA"}
    assert http("GET", base + "/auth/me", headers=tampered)[0] == 401
    assert http("GET", base + "/session/me", headers={"Cookie": "sessionid=" + "A" * 43})[0] == 401
    return endpoints


if __name__ == "__main__":
    sys.exit(main())
