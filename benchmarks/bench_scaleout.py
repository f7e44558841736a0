#!/usr/bin/env python3
"""Scale-out figures (issue 4), in one run: /auth/me req/s on 1 and 2 workers with SQLite and with
PostgreSQL + Redis, and how long a logout on one process takes to be refused by another.

    .venv/bin/python benchmarks/bench_scaleout.py            # 3 rounds x 10 s per cell, 200 logouts
    .venv/bin/python benchmarks/bench_scaleout.py --quick    # 1 round x 3 s, 30 logouts
    .venv/bin/python benchmarks/bench_scaleout.py --json results.json

Throughput: for each backend (an SQLite file; PostgreSQL on 127.0.0.1:5432 in a fresh schema plus a
private ``redis-server`` on a free port) and each worker count (``jwtkit serve --workers N``, access log
off), wrk (1 thread, N connections; the asyncio generator without wrk) loads /health and /auth/me with
one live access token; the cells run in a shuffled order per round and the report gives medians over
rounds and /auth/me's req/s relative to /health in the same round. Nothing is pinned: two workers and
the load generator share the machine's CPUs, so on a 2-CPU machine the second worker competes with wrk.

Propagation: two separate ``jwtkit serve`` processes A and B, on PostgreSQL + Redis (pub/sub) and on
one SQLite file (each polls the database every 0.1 s, the default). For each of N
logouts: log in on A, check the access token works on B, log out on A, then poll /auth/me on B over a
keep-alive connection until it answers 401. Reported: the delay from A's 204 to B's first 401, and
from the start of the logout request, p50/p90/p99/max. Every process started here is stopped at the
end (its process group), the schema dropped; only 127.0.0.1 is used. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.http import bearer, call, login
from harness.http import sign_up as _sign_up
from harness.load import add_load_options, load, load_tool
from harness.report import markdown_table
from harness.rounds import interleave, median_of
from harness.servers import free_port, jwtkit_serve, private_redis

PASSWORD = "benchmark password"
PROPAGATION_BACKENDS = ("PostgreSQL + Redis", "SQLite, polled every 0.1 s")
POSTGRES_URL = os.environ.get("JWTKIT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def postgres_dsn() -> dict[str, Any]:
    """``asyncpg.connect``'s keyword arguments for ``POSTGRES_URL``."""
    from sqlalchemy import make_url

    url = make_url(POSTGRES_URL)
    return {"host": url.host, "port": url.port or 5432, "user": url.username, "password": url.password,
            "database": url.database}


@contextlib.contextmanager
def postgres_schema() -> Iterator[str]:
    import asyncpg

    name = f"jwtkit_bench_{secrets.token_hex(4)}"

    async def drop() -> None:
        conn = await asyncpg.connect(**postgres_dsn())
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        finally:
            await conn.close()

    try:
        yield name
    finally:
        asyncio.run(drop())


@contextlib.contextmanager
def serve(log: Path, args: list[str], workers: int = 1) -> Iterator[str]:
    """``jwtkit serve --workers N --no-access-log ARGS`` on a free port; yields its base URL."""
    with jwtkit_serve(log, "--workers", str(workers), "--no-access-log", *args, port=free_port()) as server:
        yield server.url


def sign_up(base: str, username: str) -> dict[str, Any]:
    return _sign_up(base, username, PASSWORD)


def throughput(args: argparse.Namespace, wrk: str | None, tmp: Path, backends: dict[str, list[str]]
               ) -> dict[str, list[dict[str, Any]]]:
    """/auth/me and /health on a server per (backend, workers) cell, the cells interleaved in rounds."""

    def run(cell: tuple[str, int], r: int) -> dict[str, Any]:
        backend, workers = cell
        with contextlib.ExitStack() as stack:
            backend_args = backends[backend]
            if backend.startswith("PostgreSQL"):
                schema = stack.enter_context(postgres_schema())
                redis_url = stack.enter_context(private_redis(tmp))
                backend_args = [*backend_args, "--database-schema", schema, "--redis", redis_url]
            else:
                backend_args = [*backend_args[:-1], f"{backend_args[-1]}.{r}.{workers}.sqlite3"]
            base = stack.enter_context(serve(tmp / "server.log", backend_args, workers))
            auth = bearer(sign_up(base, "alice")["access_token"])
            assert call("GET", base + "/auth/me", headers=auth)[0] == 200
            assert call("GET", base + "/auth/me")[0] == 401
            for path, h in (("/health", {}), ("/auth/me", auth)):  # warm-up, every worker
                load(wrk, base, path, h, args.connections, 1, tmp)
            pair_results = {}
            for name, path, h in rng.sample([("health", "/health", {}), ("me", "/auth/me", auth)], 2):
                pair_results[name] = load(wrk, base, path, h, args.connections, args.duration, tmp)
        me, health = pair_results["me"], pair_results["health"]
        me["ratio_vs_health"] = me["rps"] / health["rps"]
        me["health_rps"] = health["rps"]
        return me

    rng = random.Random(11)
    cells = [(backend, workers) for backend in backends for workers in (1, 2)]
    results = interleave(cells, args.rounds, run, seed=11, describe=lambda cell, me: (
        f"{key(cell)}: /auth/me {me['rps']:.0f} req/s (p50 {me['p50_ms']:.2f} ms, p99 {me['p99_ms']:.2f} ms, "
        f"non-2xx {me['non2xx']}), /health {me['health_rps']:.0f} req/s"))
    return {key(cell): runs for cell, runs in results.items()}


def key(cell: tuple[str, int]) -> str:
    backend, workers = cell
    return f"{backend}, {workers} worker{'s' if workers > 1 else ''}"


def propagation(args: argparse.Namespace, tmp: Path, backend_name: str) -> dict[str, list[float]]:
    after_204: list[float] = []
    from_request: list[float] = []
    polls: list[float] = []
    with contextlib.ExitStack() as stack:
        if backend_name == "PostgreSQL + Redis":
            schema = stack.enter_context(postgres_schema())
            redis_url = stack.enter_context(private_redis(tmp))
            backend = ["--database", POSTGRES_URL, "--database-schema", schema, "--redis", redis_url]
        else:  # two separate servers on one SQLite file, polling it
            backend = ["--database", f"sqlite:///{tmp / 'propagation.sqlite3'}"]
        a = stack.enter_context(serve(tmp / "a.log", backend))
        b = stack.enter_context(serve(tmp / "b.log", backend))
        sign_up(a, "bob")
        b_host, b_port = b.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(b_host, int(b_port), timeout=10)
        stack.callback(conn.close)

        def me_on_b(token: str) -> int:
            conn.request("GET", "/auth/me", headers={"Authorization": f"Bearer {token}"})
            response = conn.getresponse()
            response.read()
            return response.status

        for i in range(args.logouts):
            pair = login(a, "bob", PASSWORD)
            assert me_on_b(pair["access_token"]) == 200
            t0 = time.perf_counter()
            st, _, _ = call("POST", a + "/auth/logout", {"refresh_token": pair["refresh_token"]},
                                 {"Authorization": f"Bearer {pair['access_token']}"})
            t1 = time.perf_counter()
            assert st == 204, st
            n = 1
            while me_on_b(pair["access_token"]) != 401:
                n += 1
                if time.perf_counter() - t1 > 10:
                    raise RuntimeError(f"logout {i} not seen on B within 10 s")
            t2 = time.perf_counter()
            after_204.append((t2 - t1) * 1e3)
            from_request.append((t2 - t0) * 1e3)
            polls.append(n)
    return {"after_204_ms": after_204, "from_logout_request_ms": from_request, "polls_of_B_until_401": polls}


def quantile(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=10, help="seconds per load run (default 10)")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--logouts", type=int, default=200)
    ap.add_argument("--quick", action="store_true", help="1 round x 3 s, 30 logouts")
    add_load_options(ap, quiet_budget=False)
    args = ap.parse_args()
    if args.quick:
        args.duration, args.rounds, args.logouts = 3, 1, 30
    wrk = load_tool(args)
    if shutil.which("redis-server") is None:
        print("redis-server is not installed", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="jwtkit_bench_scaleout_"))
    backends = {
        "SQLite": ["--database", f"sqlite:///{tmp / 'bench'}"],
        "PostgreSQL + Redis": ["--database", POSTGRES_URL],
    }
    try:
        results = throughput(args, wrk, tmp, backends)
        delays = {name: propagation(args, tmp, name) for name in PROPAGATION_BACKENDS}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    lines = [
        f"{'wrk' if wrk else 'asyncio load generator'}: 1 thread, {args.connections} connections, {args.duration:g} s "
        f"per run, {args.rounds} round(s), cells shuffled; {os.cpu_count()} CPUs, nothing pinned; access log off; "
        "medians over rounds; ratio = /auth/me req/s over /health req/s on the same server in the same round.", "",
    ]
    lines += markdown_table(
        ["backend, workers", "/auth/me req/s", "p50 ms", "p99 ms", "/health req/s", "/auth/me vs /health", "non-2xx"],
        [[name, f"{median_of(runs):.0f}", f"{median_of(runs, 'p50_ms'):.2f}", f"{median_of(runs, 'p99_ms'):.2f}",
          f"{median_of(runs, 'health_rps'):.0f}", f"{median_of(runs, 'ratio_vs_health'):.2f}",
          f"{sum(x['non2xx'] for x in runs)}"] for name, runs in results.items()])
    for backend in ("SQLite", "PostgreSQL + Redis"):
        one, two = results.get(f"{backend}, 1 worker"), results.get(f"{backend}, 2 workers")
        if one and two:
            lines.append(f"\n{backend}: 2 workers / 1 worker = "
                         f"{median_of(two) / median_of(one):.2f}x")
    lines += ["", f"revocation propagation: two separate `jwtkit serve` processes, {args.logouts} logouts on A, "
              "B asked until it answers 401:", "| backend | measured | p50 ms | p90 ms | p99 ms | max ms |",
              "|---|---|---|---|---|---|"]
    for backend, measured in delays.items():
        for name, xs in measured.items():
            if name.endswith("_ms"):
                lines.append(f"| {backend} | {name} | {quantile(xs, 0.5):.2f} | {quantile(xs, 0.9):.2f} | "
                             f"{quantile(xs, 0.99):.2f} | {max(xs):.2f} |")
    for backend, measured in delays.items():
        first = sum(1 for n in measured["polls_of_B_until_401"] if n == 1)
        p99 = quantile(measured["from_logout_request_ms"], 0.99)
        lines.append(f"\n{backend}: B refused the token at its first request after A's 204 in {first} of "
                     f"{len(measured['polls_of_B_until_401'])} logouts; target propagation p99 < 1000 ms: "
                     f"{'met' if p99 < 1000 else 'NOT met'} ({p99:.1f} ms)")
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps({"throughput": results, "propagation": delays}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
